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

from server.core.ratelimit import BucketTable, TokenBucket


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
        self.by_ip = BucketTable(self.rate, ip_burst, max_ips)

    def conn_bucket(self, now: float) -> TokenBucket:
        return TokenBucket(self.rate, self.conn_burst, now)

    def allowed(self, conn: TokenBucket, ip: str, now: float) -> bool:
        """May this connection try a code now? Spends nothing."""
        return conn.ready(now) and self.by_ip.allowed(ip_key(ip), now)

    def failed(self, conn: TokenBucket, ip: str, now: float) -> None:
        """A code named no room: both buckets pay one."""
        conn.take(now)
        self.by_ip.take(ip_key(ip), now)
