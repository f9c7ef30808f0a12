"""Plausible creator handles and brand names for the demo world."""

from __future__ import annotations

import numpy as np

FIRST_NAMES = (
    "mia", "leo", "ava", "noah", "zoe", "kai", "liam", "emma", "ivy", "max",
    "nora", "eli", "luna", "finn", "aria", "jay", "sara", "omar", "yuki", "lena",
    "ravi", "chloe", "diego", "ines", "tom", "anya", "ben", "priya", "sam", "lea",
)  # fmt: skip

# Words a creator in each niche would put in a handle.
HANDLE_WORDS: dict[str, tuple[str, ...]] = {
    "fashion": ("style", "threads", "closet", "chic"),
    "beauty": ("glow", "glam", "beauty", "lashes"),
    "fitness": ("lifts", "fit", "strong", "gains"),
    "food": ("eats", "kitchen", "bakes", "foodie"),
    "travel": ("travels", "wanders", "abroad", "roams"),
    "gaming": ("plays", "gg", "gaming", "pixels"),
    "technology": ("tech", "codes", "gadgets", "bytes"),
    "finance": ("money", "invests", "budgets", "wealth"),
    "parenting": ("mama", "dad", "family", "littles"),
    "home": ("home", "nest", "decor", "diy"),
    "pets": ("pets", "paws", "dogs", "cats"),
    "music": ("beats", "music", "sings", "vinyl"),
    "sports": ("sports", "runs", "hoops", "goals"),
    "education": ("learns", "teaches", "studies", "notes"),
    "automotive": ("cars", "drives", "garage", "motors"),
    "wellness": ("calm", "wellness", "zen", "yoga"),
}

BRAND_STEMS = (
    "Nord", "Lumi", "Vela", "Aster", "Bright", "Cobalt", "Drift", "Ember",
    "Fable", "Grove", "Halo", "Iris", "Juniper", "Kin", "Loom", "Mira", "Nova",
    "Oak", "Pine", "Quill", "Rally", "Sol", "Tide", "Umber", "Vale", "Wren",
    "Yonder", "Zephyr", "Arc", "Bloom", "Crest", "Dune", "Echo", "Flint", "Gild",
    "Hearth", "Isle", "Jade", "Kite", "Lark",
)  # fmt: skip
BRAND_TAILS = ("", "stone", "light", "field", "wave", "peak", "north", "well", "bay")

# What a brand in each industry calls itself.
BRAND_WORDS: dict[str, tuple[str, ...]] = {
    "fashion": ("Apparel", "Wear", "Atelier", "Studio"),
    "beauty": ("Cosmetics", "Skin", "Beauty", "Botanics"),
    "fitness": ("Athletics", "Fitness", "Gear", "Active"),
    "food": ("Foods", "Kitchen", "Provisions", "Snacks"),
    "travel": ("Travel", "Journeys", "Voyages", "Stays"),
    "gaming": ("Games", "Interactive", "Play", "Arcade"),
    "technology": ("Labs", "Tech", "Systems", "Devices"),
    "finance": ("Capital", "Finance", "Pay", "Wealth"),
    "parenting": ("Kids", "Baby", "Family", "Little Ones"),
    "home": ("Home", "Living", "Interiors", "Goods"),
    "pets": ("Pets", "Pet Supply", "Paws", "Companions"),
    "music": ("Audio", "Records", "Sound", "Music"),
    "sports": ("Sports", "Outfitters", "League", "Athletic"),
    "education": ("Academy", "Learning", "Institute", "Edu"),
    "automotive": ("Motors", "Auto", "Mobility", "Garage"),
    "wellness": ("Wellness", "Naturals", "Health", "Remedies"),
}


def make_handles(rng: np.random.Generator, niches: list[str]) -> list[str]:
    """Return one unique handle per creator, e.g. ``mia_lifts`` or ``kai.eats92``."""
    n = len(niches)
    first = rng.integers(0, len(FIRST_NAMES), n)
    word = rng.integers(0, 4, n)
    sep = rng.choice(np.array(["", "_", "."]), n)
    number = np.where(rng.random(n) < 0.5, rng.integers(1, 100, n), 0)
    handles, seen = [], set()
    for i, niche in enumerate(niches):
        handle = f"{FIRST_NAMES[first[i]]}{sep[i]}{HANDLE_WORDS[niche][word[i]]}"
        if number[i]:
            handle += str(number[i])
        if handle in seen:
            handle = f"{handle}_{i}"
        seen.add(handle)
        handles.append(handle)
    return handles


def make_brand_names(rng: np.random.Generator, industries: list[str]) -> list[str]:
    """Return one unique brand name per company, e.g. ``Novapeak Athletics``."""
    names, seen = [], set()
    for industry in industries:
        for attempt in range(20):
            stem = BRAND_STEMS[rng.integers(len(BRAND_STEMS))]
            tail = BRAND_TAILS[rng.integers(len(BRAND_TAILS))]
            word = BRAND_WORDS[industry][rng.integers(4)]
            name = f"{stem}{tail} {word}"
            if attempt >= 10:
                name += " Co." if attempt == 10 else f" {attempt - 9}"
            if name not in seen:
                break
        else:
            name = f"{name} {len(names) + 1}"
        seen.add(name)
        names.append(name)
    return names
