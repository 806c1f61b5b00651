"""The server's sense of time, handed in from outside so tests can step it.

The core never reads a clock; the shell reads this one. `now_ms` is wall-clock
milliseconds that never go backwards (what `server_ms` and race times are made of);
`monotonic` is seconds for rate limits.
"""

from __future__ import annotations

import time


class Clock:
    """Real time: the wall clock at start, moved on by the monotonic clock."""

    def __init__(self):
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def now_ms(self) -> int:
        return int((self._wall0 + time.monotonic() - self._mono0) * 1000)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock(Clock):
    """Time that moves only when a test says so (`advance`)."""

    def __init__(self, start_ms: int = 1_700_000_000_000):
        self._ms = start_ms

    def now_ms(self) -> int:
        return self._ms

    def monotonic(self) -> float:
        return self._ms / 1000

    def advance(self, ms: int) -> None:
        self._ms += ms
