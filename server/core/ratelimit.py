"""Token buckets. Pure: the time is passed in (seconds, any monotonic origin)."""

from __future__ import annotations


# A backlog: messages that arrive together after at least STALL_S of silence (a stalled
# server or network holding what the client sent at its pace) may use the tokens the
# silence earned, up to backlog_s of them, not only the burst; within BACKLOG_WINDOW_S of
# the gap's end, then the bucket is back to its burst.
STALL_S = 1.0
BACKLOG_WINDOW_S = 1.0
# A stall of the server or the network (a frozen process, a GC pause, a hiccup) delivers
# what a client sent meanwhile all at once: messages that follow a silence of up to this
# long may use the rate the silence allowed, not only the burst (a connection's message
# bucket, server/net/session.py; its frame budget allows for it too, server/net/transport),
# so a client that kept to the rate loses no keystroke to it. A real flood has no
# silence before it and is refused as before.
BACKLOG_S = 12.0


class TokenBucket:
    __slots__ = ("rate", "burst", "tokens", "stamp", "backlog_s", "_backlog_until")

    def __init__(self, rate: float, burst: float, now: float, backlog_s: float = 0.0):
        """`backlog_s`: how much silence a backlog may be credited for (0: none)."""
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now
        self.backlog_s = backlog_s
        self._backlog_until = float("-inf")

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
            ceiling = self.burst
            if self.backlog_s and elapsed >= STALL_S:          # a backlog may follow
                ceiling += self.rate * min(elapsed, self.backlog_s)
                self._backlog_until = now + BACKLOG_WINDOW_S
            elif now < self._backlog_until:                      # the backlog goes on
                ceiling = max(ceiling, self.tokens)
            self.tokens = min(ceiling, self.tokens + elapsed * self.rate)
            self.stamp = now
        elif self.tokens > self.burst and now >= self._backlog_until:
            self.tokens = float(self.burst)
        return self.tokens >= cost


class BucketTable:
    """One bucket per key (an address, a name, a player), made on first spending,
    bounded in number: full buckets are forgotten first (a full bucket is the same as
    none), then the oldest. For limits on failures, which cost nothing until they happen
    (ask `allowed`, `take` when one happens), and on actions (`take` before each)."""

    def __init__(self, rate: float, burst: float, max_keys: int = 10_000):
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self.buckets: dict[str, TokenBucket] = {}

    def __len__(self) -> int:
        return len(self.buckets)

    def __contains__(self, key: str) -> bool:
        return key in self.buckets

    def allowed(self, key: str, now: float) -> bool:
        """Has `key` a token left? Spends nothing."""
        bucket = self.buckets.get(key)
        return bucket is None or bucket.ready(now)

    def take(self, key: str, now: float) -> bool:
        """Spend one of `key`'s tokens; False (nothing spent) when it has none left."""
        bucket = self.buckets.get(key)
        if bucket is None:
            self._make_room(now)
            bucket = self.buckets[key] = TokenBucket(self.rate, self.burst, now)
        return bucket.take(now)

    def _make_room(self, now: float) -> None:
        if len(self.buckets) < self.max_keys:
            return
        for key, bucket in list(self.buckets.items()):
            if bucket.ready(now, bucket.burst):
                del self.buckets[key]
        while len(self.buckets) >= self.max_keys:
            del self.buckets[next(iter(self.buckets))]
