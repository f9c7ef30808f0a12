"""The demo world's parameters: one dataclass, its defaults documented field by field.

``flask seed-demo`` turns every field into an option (``--reliability-sd`` for
``reliability_sd``) whose help text is the field's ``help`` metadata, so the
command line, the benchmark worlds and the generator share one list. The
defaults are the world ``make run`` seeds; none was tuned to a model's score.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def parameter(default: Any, help: str, minimum: float = 0.0, maximum=None):
    """Declare one world parameter with its default, help text and valid range."""
    return field(
        default=default,
        metadata={"help": help, "min": minimum, "max": maximum},
    )


@dataclass(frozen=True)
class WorldParameters:
    """Everything that shapes a seeded demo world (same parameters and seed, same world)."""

    n_influencers: int = parameter(2000, "Influencers to create.", 1)
    n_companies: int = parameter(300, "Companies to create.", 1)
    n_collaborations: int = parameter(10000, "Collaborations to create.", 1)
    seed: int = parameter(42, "Random seed (same seed and parameters, same world).")
    reliability_sd: float = parameter(
        0.4,
        "Spread (logit sd) of each creator's hidden reliability, seen only "
        "through their track record.",
    )
    brand_reliability_sd: float = parameter(
        0.3,
        "Spread (logit sd) of each brand's hidden reliability; unreliable brands "
        "also cancel and dispute more.",
    )
    noise_sd: float = parameter(
        0.15, "Logit sd of each collaboration's own unexplained luck."
    )
    fake_audience_share: float = parameter(
        0.06,
        "Share of creators who bought part of their audience (engagement "
        "implausibly high for their follower count).",
        maximum=1.0,
    )
    fake_audience_penalty: float = parameter(
        1.0, "How much a bought audience lowers the logit of success."
    )
    influencer_revisions_per_year: float = parameter(
        1.0,
        "Profile changes per creator per year (follower growth, rate changes, "
        "niche drift), each stored as a profile revision.",
    )
    company_revisions_per_year: float = parameter(
        0.5,
        "Profile changes per brand per year (budget, target niches).",
    )
    niche_drift_share: float = parameter(
        0.12,
        "Share of creator profile changes that move their main niche to a "
        "related or secondary one.",
        maximum=1.0,
    )
    rating_edit_share: float = parameter(
        0.06,
        "Share of ratings edited after the fact (a first verdict, then the "
        "final one), per side.",
        maximum=1.0,
    )
    dispute_share: float = parameter(
        0.08,
        "Share of successful collaborations first rated as disputed, resolved "
        "and re-rated later (more with unreliable brands).",
        maximum=1.0,
    )
    seasonality: float = parameter(
        0.35,
        "Largest yearly swing (logit amplitude) of success in a niche; each "
        "niche draws its own amplitude up to this and its own phase.",
    )

    def __post_init__(self) -> None:
        """Fail loudly on a value outside its documented range."""
        for item in fields(self):
            value = getattr(self, item.name)
            low, high = item.metadata["min"], item.metadata["max"]
            if value < low or (high is not None and value > high):
                bound = f"between {low} and {high}" if high is not None else f">= {low}"
                raise ValueError(f"{item.name} must be {bound}, not {value}.")


def parameter_fields() -> tuple:
    """Return the dataclass fields of ``WorldParameters`` in declaration order."""
    return fields(WorldParameters)


DEFAULT_PARAMETERS = WorldParameters()
