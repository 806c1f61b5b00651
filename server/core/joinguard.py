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

from server.core.ratelimit import BothKeys, BucketTable, OwnBucket, TokenBucket


class FailedJoins(BothKeys):
    """Failed joins counted on the connection's own bucket and on its address's."""

    def __init__(self, per_min: float, conn_burst: int, ip_burst: int, max_ips: int = 10000):
        self.rate = per_min / 60.0
        self.conn_burst = conn_burst
        self.by_ip = BucketTable(self.rate, ip_burst, max_ips, by_address=True)
        super().__init__(OwnBucket(), self.by_ip)

    def conn_bucket(self, now: float) -> TokenBucket:
        return TokenBucket(self.rate, self.conn_burst, now)

    # allowed(conn_bucket, ip, now): may this connection try a code now? Spends nothing.

    def failed(self, conn: TokenBucket, ip: str, now: float) -> None:
        """A code named no room: both buckets pay one."""
        self.charge(conn, ip, now)
