"""Team-draft interleaving of two rankings, crediting, and preference results.

Team draft (Radlinski, Kurup and Joachims, "How does clickthrough data reflect
retrieval quality?", CIKM 2008): the two rankers pick in turns like captains
choosing teams. The team with fewer picks goes next; when both have picked
equally often a coin decides who goes first; each picks its highest-ranked item
not yet shown. Every shown item is credited to the team that picked it, so a
click, proposal or success on it counts for that ranker. The coins are derived
from the experiment key and the request (SHA-256), so the same request always
shows the same list.

A unit prefers the ranker whose items got more of its credited events; units
with no preference (a tie, or no events) are left out and the preference share
is tested against one half with scipy's exact binomial (sign) test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import count

from scipy.stats import binomtest

TEAMS = ("a", "b")


@dataclass(frozen=True)
class InterleavedList:
    """The list a unit sees, with the team (``"a"`` or ``"b"``) behind each item."""

    items: tuple[Hashable, ...]
    teams: tuple[str, ...]

    def team_of(self, item: Hashable) -> str | None:
        """Return the team that contributed ``item``, ``None`` if it is not shown."""
        for shown, team in zip(self.items, self.teams, strict=True):
            if shown == item:
                return team
        return None


def seeded_coins(experiment_key: str, request_key: str) -> Iterator[bool]:
    """Yield the coin flips of one request: ``True`` means ranker a picks first."""
    for index in count():
        digest = hashlib.sha256(
            f"{experiment_key}\x1f{request_key}\x1f{index}".encode()
        ).digest()
        yield digest[0] & 1 == 1


def team_draft(
    ranking_a: Sequence[Hashable],
    ranking_b: Sequence[Hashable],
    coins: Iterator[bool],
    length: int | None = None,
) -> InterleavedList:
    """Interleave two rankings by team draft, drawing coin flips from ``coins``.

    Stops at ``length`` items (default: the longer ranking), or when either
    ranking has nothing left to add, as in the original algorithm.
    """
    limit = max(len(ranking_a), len(ranking_b)) if length is None else length
    shown: list[Hashable] = []
    teams: list[str] = []
    seen: set[Hashable] = set()
    picks = {"a": 0, "b": 0}
    cursors = {"a": 0, "b": 0}
    rankings = {"a": ranking_a, "b": ranking_b}

    def next_item(team: str) -> Hashable | None:
        ranking = rankings[team]
        while cursors[team] < len(ranking) and ranking[cursors[team]] in seen:
            cursors[team] += 1
        return ranking[cursors[team]] if cursors[team] < len(ranking) else None

    while len(shown) < limit:
        if next_item("a") is None or next_item("b") is None:
            break
        if picks["a"] != picks["b"]:
            team = "a" if picks["a"] < picks["b"] else "b"
        else:
            team = "a" if next(coins) else "b"
        item = next_item(team)
        shown.append(item)
        teams.append(team)
        seen.add(item)
        picks[team] += 1
    return InterleavedList(tuple(shown), tuple(teams))


def interleave(
    ranking_a: Sequence[Hashable],
    ranking_b: Sequence[Hashable],
    experiment_key: str,
    request_key: str,
    length: int | None = None,
) -> InterleavedList:
    """Return the deterministic team-draft list for one request of an experiment."""
    return team_draft(
        ranking_a, ranking_b, seeded_coins(experiment_key, request_key), length
    )


def credit(shown: InterleavedList, events: Iterable[Hashable]) -> dict[str, int]:
    """Count events (items clicked, proposed to, succeeded) per contributing team."""
    totals = dict.fromkeys(TEAMS, 0)
    for item in events:
        team = shown.team_of(item)
        if team is not None:
            totals[team] += 1
    return totals


def preference(credits: dict[str, int]) -> str | None:
    """Return the team a unit prefers (more credited events), ``None`` on a tie."""
    if credits["a"] == credits["b"]:
        return None
    return "a" if credits["a"] > credits["b"] else "b"


def preference_results(
    preferences: Iterable[str | None],
    versions: tuple[str, str] = TEAMS,
    alpha: float = 0.05,
) -> dict:
    """Return each version's preference share with its interval, and the p-value.

    The share counts only units with a preference; the interval is the exact
    (Clopper-Pearson) interval that goes with the two-sided binomial test.
    """
    wins = dict.fromkeys(TEAMS, 0)
    ties = 0
    for value in preferences:
        if value is None:
            ties += 1
        else:
            wins[value] += 1
    decided = wins["a"] + wins["b"]
    result = {
        "units": decided + ties,
        "units_with_preference": decided,
        "ties": ties,
        "p_value": None,
        "versions": [],
    }
    if decided:
        test = binomtest(wins["a"], decided, 0.5)
        result["p_value"] = float(test.pvalue)
    for team, version in zip(TEAMS, versions, strict=True):
        entry = {"key": version, "wins": wins[team], "share": None, "ci": None}
        if decided:
            interval = binomtest(wins[team], decided, 0.5).proportion_ci(
                confidence_level=1 - alpha, method="exact"
            )
            entry["share"] = wins[team] / decided
            entry["ci"] = [float(interval.low), float(interval.high)]
        result["versions"].append(entry)
    return result
