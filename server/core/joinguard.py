"""The limit on guessing room codes. Pure: time (seconds, monotonic) is passed in.

A `join_room` or `watch` with a code that names no room is a failed join. Each
connection and each client IP has a token bucket of failed joins; while either is
empty, every join/watch attempt from there is refused with `rate_limited` before
the code is even looked up, so a guesser learns nothing. Successful joins cost
nothing: a class of thirty behind one school router joins freely.

Why this makes codes unguessable: codes are 6 characters from 32 (about 1.07e9).
At the default 10 failures a minute per IP, one address gets ~14,400 guesses a
day; with 1,000 live rooms (2,000 codes) that finds some room with probability
about 14,400 * 2,000 / 1.07e9 = 2.7 % a day, and one given room 0.0027 %; a
found join code still only seats a stranger the host can kick (and ban).
"""

from __future__ import annotations

import ipaddress

from server.core.ratelimit import TokenBucket


def ip_key(address: str) -> str:
    """Who a failed join is charged to: an IPv4 address, or an IPv6 /64 (one
    subscriber usually holds a whole /64, so single IPv6 addresses are free to hop)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


class FailedJoins:
    def __init__(self, per_min: float, conn_burst: int, ip_burst: int, max_ips: int = 10000):
        self.rate = per_min / 60.0
        self.conn_burst = conn_burst
        self.ip_burst = ip_burst
        self.max_ips = max_ips
        self.by_ip: dict[str, TokenBucket] = {}

    def conn_bucket(self, now: float) -> TokenBucket:
        return TokenBucket(self.rate, self.conn_burst, now)

    def allowed(self, conn: TokenBucket, ip: str, now: float) -> bool:
        """May this connection try a code now? Spends nothing."""
        buckets = [conn, self.by_ip.get(ip_key(ip))]
        return all(b is None or _has_token(b, now) for b in buckets)

    def failed(self, conn: TokenBucket, ip: str, now: float) -> None:
        """A code named no room: both buckets pay one."""
        conn.take(now)
        ip = ip_key(ip)
        bucket = self.by_ip.get(ip)
        if bucket is None:
            self._make_room(now)
            bucket = self.by_ip[ip] = TokenBucket(self.rate, self.ip_burst, now)
        bucket.take(now)

    def _make_room(self, now: float) -> None:
        """Keep the IP table bounded: forget full buckets, then the oldest."""
        if len(self.by_ip) < self.max_ips:
            return
        for ip, bucket in list(self.by_ip.items()):
            bucket.take(now, 0.0)                       # refill to now
            if bucket.tokens >= bucket.burst:
                del self.by_ip[ip]
        while len(self.by_ip) >= self.max_ips:
            del self.by_ip[next(iter(self.by_ip))]


def _has_token(bucket: TokenBucket, now: float) -> bool:
    bucket.take(now, 0.0)                               # refills, spends nothing
    return bucket.tokens >= 1.0
