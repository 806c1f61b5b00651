"""Replay a saved keystroke log. Pure: the log in, the racer's states out.

A result's log is every `input` the server applied, as (race_ms, keys) with the
server's time. Feeding the same keys through the same TypingState reproduces the
race exactly: position, wrong characters and keystroke counts at every moment.
"""

from __future__ import annotations

from protocol.typing_model import TypingState


def replay(body: str, log) -> TypingState:
    """The racer's final typing state after re-feeding its whole log."""
    state = TypingState(body)
    for _race_ms, keys in log:
        state.feed(keys)
    return state


def progress(body: str, log) -> list[tuple[int, int, int]]:
    """(race_ms, pos before, pos after) of every input in the log, in order."""
    state = TypingState(body)
    steps = []
    for race_ms, keys in log:
        before = state.pos
        state.feed(keys)
        steps.append((race_ms, before, state.pos))
    return steps
