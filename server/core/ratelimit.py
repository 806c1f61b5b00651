"""Token buckets. Pure: the time is passed in (seconds, any monotonic origin)."""

from __future__ import annotations


class TokenBucket:
    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float, now: float):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Spend `cost` tokens if there are enough; refills at `rate` per second."""
        if self.ready(now, cost):
            self.tokens -= cost
            return True
        return False

    def ready(self, now: float, cost: float = 1.0) -> bool:
        """Whether `cost` tokens are there now (spends nothing)."""
        elapsed = now - self.stamp
        if elapsed > 0:
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
            self.stamp = now
        return self.tokens >= cost
