"""Competitions: the UTC day and ISO week a result counts in, and the text of the day.

Pure: every function takes the time (server milliseconds since the epoch) it is about.
A result's points come from protocol/scoring.py `points` (the one formula the clients
share); this module says which windows they are added to and which text is the day's.

The text of the day is chosen by rendezvous hashing: of the candidate texts (the
library's, not hidden), the one whose sha256("<date>:<text id>") is largest. Every
process of a deployment sees the same library, so all agree without talking; a text
hidden during its day drops out of the candidates, and only that day's choice moves (to
the next-largest hash), not any other day's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from protocol.messages import POINTS_WINDOWS

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
EPOCH = date(1970, 1, 1)
ALL = "all"


@dataclass(frozen=True, slots=True)
class Window:
    kind: str           # day | week | all
    key: str            # "day:2026-12-06", "week:2026-W49", "all": the store's name for it
    starts_ms: int      # 0 for all time
    ends_ms: int | None     # None for all time


def day_of(ms: int) -> date:
    return EPOCH + timedelta(days=ms // DAY_MS)


def day_window(ms: int) -> Window:
    start = ms - ms % DAY_MS
    return Window("day", f"day:{day_of(ms).isoformat()}", start, start + DAY_MS)


def week_window(ms: int) -> Window:
    """The ISO week (Monday 00:00 UTC to the next Monday) holding `ms`."""
    day = day_of(ms)
    year, week, weekday = day.isocalendar()
    start = (ms - ms % DAY_MS) - (weekday - 1) * DAY_MS
    return Window("week", f"week:{year}-W{week:02d}", start, start + WEEK_MS)


ALL_TIME = Window("all", ALL, 0, None)


def window(kind: str, ms: int) -> Window:
    """The window of `kind` (day, week, all) holding `ms`; ValueError for another kind."""
    if kind == "day":
        return day_window(ms)
    if kind == "week":
        return week_window(ms)
    if kind == "all":
        return ALL_TIME
    raise ValueError(f"no window {kind!r}: one of {', '.join(POINTS_WINDOWS)}")


def window_named(key: str) -> Window:
    """The window a store names `key` ("day:2026-12-06", "week:2026-W49", "all");
    ValueError for another name."""
    if key == ALL:
        return ALL_TIME
    kind, _, name = key.partition(":")
    if kind == "day":
        day = date.fromisoformat(name)
    elif kind == "week":
        year, week = name.split("-W")
        day = date.fromisocalendar(int(year), int(week), 1)
    else:
        raise ValueError(f"no window {key!r}")
    return window(kind, (day - EPOCH).days * DAY_MS)


def windows(ms: int) -> tuple[Window, Window, Window]:
    """Every window a result saved at `ms` counts in."""
    return day_window(ms), week_window(ms), ALL_TIME


def _weight(day: str, text_id: int) -> bytes:
    return hashlib.sha256(f"{day}:{text_id}".encode()).digest()


def daily_text(ms: int, candidates, pinned: int | None = None) -> int | None:
    """The text of the UTC day holding `ms`: the operator's pin when it is a candidate,
    else the candidate of largest weight; None with no candidates."""
    candidates = set(candidates)
    if pinned is not None and pinned in candidates:
        return pinned
    day = day_of(ms).isoformat()
    return max(candidates, key=lambda text_id: _weight(day, text_id), default=None)


TEXT_IDS = 2**32        # text ids below this have a daily board


def daily_board(ms: int, text_id: int) -> int:
    """The board (as the stores number a text's leaderboard) of one day's text: negative,
    so never a text's own. A text replaced during its day keeps its board; the new one
    starts its own."""
    assert 0 < text_id < TEXT_IDS
    return -((ms // DAY_MS) * TEXT_IDS + text_id)


# A place on a points board is counted from a histogram of each period's totals (the
# stores keep one): the players in the buckets above, plus those ahead within one's own
# bucket. Buckets are log-linear, like an HDR histogram: exact below 2 * SUB, then SUB
# buckets per power of two (each under 1/SUB of its values wide), so a period of any
# size has at most a couple of thousand buckets and none holds a wide range of totals.
SUB = 64


def bucket(points: int) -> int:
    """The histogram bucket of a total (buckets rise with the points)."""
    if points < 2 * SUB:
        return max(0, points)
    shift = points.bit_length() - 7             # points >> shift is in [SUB, 2 * SUB)
    return SUB * shift + (points >> shift)


def bucket_floor(b: int) -> int:
    """The least total in bucket `b` (so bucket b holds bucket_floor(b) up to
    bucket_floor(b + 1) - 1)."""
    if b < 2 * SUB:
        return b
    shift = b // SUB - 1
    return (b - SUB * shift) << shift
