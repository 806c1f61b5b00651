"""The server's clock as a client estimates it, the way NTP does. Pure: times are given.

A client sends `ping` at `sent_ms` (its clock), the server stamps `pong.server_ms`, the
client receives it at `received_ms`. If the two trips took as long as each other, the
stamp was made halfway: offset = server_ms - (sent_ms + received_ms) / 2. The error is
at most half the difference between the two trips, so the sample with the smallest round
trip (the least queueing on either way) is the one trusted. Only the last KEEP samples
are looked at, so a clock that drifts, or a path that changed, is followed.

client_demo/web/clock.js is the same rule in JavaScript (tests/test_clocksync.py runs
both on the same samples).
"""

from __future__ import annotations

KEEP = 32           # samples remembered
SYNC_PINGS = 5      # pings a client sends to sync when it connects


class ClockSync:
    def __init__(self, keep: int = KEEP):
        self.keep = keep
        self._samples: list[tuple[float, float]] = []     # (round trip, offset)

    def sample(self, sent_ms: float, server_ms: float, received_ms: float) -> None:
        rtt = received_ms - sent_ms
        if rtt < 0:
            return                    # the local clock stepped back: nothing to learn
        self._samples.append((rtt, server_ms - (sent_ms + received_ms) / 2))
        del self._samples[:-self.keep]

    @property
    def synced(self) -> bool:
        return bool(self._samples)

    @property
    def offset_ms(self) -> float:
        """Server clock minus local clock (0 until a sample came)."""
        return min(self._samples)[1] if self._samples else 0.0

    @property
    def rtt_ms(self) -> float | None:
        """The smallest round trip seen (None until a sample came)."""
        return min(self._samples)[0] if self._samples else None

    def server_now(self, local_ms: float) -> float:
        return local_ms + self.offset_ms

    def local_at(self, server_ms: float) -> float:
        """The local time at which the server's clock reads `server_ms`."""
        return server_ms - self.offset_ms
