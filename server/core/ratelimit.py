"""Token buckets, and what every limit is built from. Pure: the time is passed in
(seconds, any monotonic origin).

The pieces: a `TokenBucket` (rate per second: the clock's unit); a `BucketTable`, one
bucket per key; `address_key`, which every limit per client address keys by (an IPv6
/64 is one address); `Quota`, so many actions a minute per key (every limit's wrapper
speaks per minute); and `BothKeys`, a limit counted on two keys at once (a name or a
player, and the address), checked on both and charged to both.
"""

from __future__ import annotations

import ipaddress


def address_key(address: str) -> str:
    """Who a limit per client address is charged to: an IPv4 address, or an IPv6 /64
    (one subscriber usually holds a whole /64, so single IPv6 addresses are free to
    hop). Every limit per address uses it: connections, rooms, texts, joins, logins."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


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

    def __init__(self, rate: float, burst: float, max_keys: int = 10_000,
                 by_address: bool = False):
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self.by_address = by_address    # keys are client addresses: keyed by address_key
        self.buckets: dict[str, TokenBucket] = {}

    def __len__(self) -> int:
        return len(self.buckets)

    def __contains__(self, key: str) -> bool:
        return self._key(key) in self.buckets

    def _key(self, key: str) -> str:
        return address_key(key) if self.by_address else key

    def allowed(self, key: str, now: float) -> bool:
        """Has `key` a token left? Spends nothing."""
        bucket = self.buckets.get(self._key(key))
        return bucket is None or bucket.ready(now)

    def take(self, key: str, now: float) -> bool:
        """Spend one of `key`'s tokens; False (nothing spent) when it has none left."""
        key = self._key(key)
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


class Quota(BucketTable):
    """So many actions a minute per key (`burst` at once, default a minute's worth):
    a player, or a client address (`by_address`)."""

    MAX_KEYS = 100_000      # buckets kept; full ones are forgotten first, then the oldest

    def __init__(self, per_min: float, burst: float | None = None, by_address: bool = False,
                 max_keys: int = MAX_KEYS):
        super().__init__(per_min / 60.0, max(1.0, per_min if burst is None else burst),
                         max_keys, by_address)


class OwnBucket:
    """A 'table' whose key is the bucket itself: for a bucket a connection carries
    (freed with it), paired with a table in `BothKeys`."""

    @staticmethod
    def allowed(bucket: TokenBucket, now: float) -> bool:
        return bucket.ready(now)

    @staticmethod
    def take(bucket: TokenBucket, now: float) -> bool:
        return bucket.take(now)


def first_empty(buckets, now: float):
    """Of (table, key) pairs, the first table whose key has no token left; None when
    every one has one. Spends nothing."""
    for table, key in buckets:
        if not table.allowed(key, now):
            return table
    return None


def take_all(buckets, now: float):
    """THE rule of a limit counted on several keys at once: spend one token of each
    (table, key) when every one has a token; else spend nothing and return the first
    table whose key has none (None: spent)."""
    buckets = tuple(buckets)
    empty = first_empty(buckets, now)
    if empty is None:
        for table, key in buckets:
            table.take(key, now)
    return empty


class BothKeys:
    """One limit counted on two keys at once, e.g. a player (or a name, or a
    connection) and its client address: an action is allowed while both have a token,
    and charged to both or to neither. Neither key alone is a bound: a new identity is
    one `hello` away, and one identity may use many addresses."""

    def __init__(self, first: BucketTable | OwnBucket, second: BucketTable | OwnBucket):
        self.first = first
        self.second = second

    def refusing(self, first_key, second_key, now: float):
        """The table (first or second) with no token left for its key, the second asked
        first; None when both have one. Spends nothing."""
        return first_empty(((self.second, second_key), (self.first, first_key)), now)

    def allowed(self, first_key, second_key, now: float) -> bool:
        return self.refusing(first_key, second_key, now) is None

    def charge(self, first_key, second_key, now: float) -> None:
        """Both pay one (for a failure that happened: a wrong code, a wrong password)."""
        self.first.take(first_key, now)
        self.second.take(second_key, now)

    def take(self, first_key, second_key, now: float):
        """Spend one on both when both have one; else spend nothing and return the
        refusing table (as `refusing`)."""
        return take_all(((self.second, second_key), (self.first, first_key)), now)
