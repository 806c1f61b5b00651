"""Skill-matched quick races: who may be seated with whom. Pure.

A player's rating is the average wpm of their last 10 clean finished results (the
store computes it; None: unrated). A rated player is seated only with players whose
ratings are within a factor of BAND of theirs; unrated players fit anywhere. Once the
players of a room have waited `widen_ms`, the band widens by BAND again, and again
after each further `widen_ms`, so nobody waits forever.

server/cluster/directory.py applies the same rule inside Redis (its claim script takes
BAND and widen_ms from here), so one process and many seat players alike.
"""

from __future__ import annotations

import math

BAND = 1.5


def band(waited_ms: int, widen_ms: int) -> float:
    """The factor ratings may differ by in a room whose players have waited this long."""
    return BAND ** (1 + max(0, waited_ms) // max(1, widen_ms))


def fits(rating: float | None, ratings: list[float], waited_ms: int, widen_ms: int) -> bool:
    """May a player of `rating` join players rated `ratings` (the rated ones only)?"""
    if rating is None or not ratings:
        return True
    width = band(waited_ms, widen_ms)
    return max(ratings) <= rating * width and rating <= min(ratings) * width


def distance(rating: float | None, ratings: list[float]) -> float:
    """How far a player's rating is from a room's average (0 when either is unrated):
    among rooms equally full, the closest is chosen."""
    if rating is None or not ratings or rating <= 0:
        return 0.0
    average = sum(ratings) / len(ratings)
    return abs(math.log(average / rating)) if average > 0 else 0.0


def average(ratings: list[float]) -> float | None:
    """A room's rating, as its public summary shows it: the average of the rated."""
    return round(sum(ratings) / len(ratings), 2) if ratings else None
