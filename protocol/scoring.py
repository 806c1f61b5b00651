"""The one scoring module: server and clients compute scores with these functions.

client_demo/web/scoring.js mirrors the formulas; tests keep the two in step.
"""

from __future__ import annotations

import math

CHARS_PER_WORD = 5
STATUS_ORDER = {"finished": 0, "dnf": 1, "left": 2}


def wpm(correct_chars: int, elapsed_ms: int) -> float:
    """Words per minute: (correct characters / 5) / minutes; 0 when nothing was typed.

    Time is counted in whole milliseconds, so less than one counts as one: characters
    that arrive at the very start instant are the fastest typing there is, not 0 WPM.
    """
    if correct_chars <= 0:
        return 0.0
    return (correct_chars / CHARS_PER_WORD) / (max(elapsed_ms, 1) / 60000.0)


def accuracy(correct_keystrokes: int, total_keystrokes: int) -> float:
    """Correct keystrokes over all keystrokes (backspaces excluded), 0..1; 1 when none."""
    if total_keystrokes <= 0:
        return 1.0
    return max(0.0, min(1.0, correct_keystrokes / total_keystrokes))


def points(chars: int, wpm_: float, accuracy_: float) -> int:
    """Competition points of a clean finished result: words x WPM / 60 (TypeRacer's
    rule, with words counted as 5 characters, so a passage of long words is worth no
    more than its length) times accuracy, rounded half up. One point is about one
    second of typing at 60 WPM; a passage twice as long, or typed twice as fast, earns
    twice as much, and a slower, sloppier race cannot beat a clean fast one.
    (Rounded with floor(x + 0.5), not round(): JS has no banker's rounding.)"""
    if chars <= 0 or wpm_ <= 0:
        return 0
    return math.floor(chars / CHARS_PER_WORD * wpm_ / 60 * accuracy_ + 0.5)


def rank_key(entry: dict):
    """Sort key of the ranking rule (protocol/REFERENCE.md, "The race").

    Finishers by time; then everyone else by position, larger first. Among equal
    positions a racer still present (dnf) ranks above one who left. Finishers with
    the same time (millisecond clock) keep the order they finished in, given as
    their `place` when known, so results never contradict the `finish` messages.
    `entry` needs: status, race_ms (for finishers), pos; optionally place.
    """
    if entry["status"] == "finished":
        return (0, entry["race_ms"], entry.get("place") or 0)
    return (1, -entry["pos"], STATUS_ORDER.get(entry["status"], 3))


def rank(entries: list[dict]) -> list[dict]:
    """Entries sorted by the ranking rule, each given its 1-based `place`."""
    ordered = sorted(entries, key=rank_key)
    for place, entry in enumerate(ordered, start=1):
        entry["place"] = place
    return ordered
