"""Account rules that decide something, without I/O: which names are the same name,
and the limit on guessing passwords. Pure: time (seconds, monotonic) is passed in.

Failed logins (a wrong password, or a name with no account) are charged to the name
and to the client address (IPv4, or the IPv6 /64: see ratelimit.address_key). While either
bucket is empty, every login for that name or from that address is refused with
`rate_limited` before the password is even hashed, whatever it is: a guesser learns
nothing more. Successful logins cost nothing.

What the defaults allow (5 per name in a row, 20 per address, then 1 a minute back
for each): one address tries ~1,440 passwords a day against one name, and the name's
own bucket caps all addresses together at the same rate. The price is that someone
failing on purpose can hold one name's logins `rate_limited` (never its open
connections nor its token, which keep working), a minute per failure.
"""

from __future__ import annotations

import unicodedata

from server.core.ratelimit import BothKeys, BucketTable


def name_key(name: str) -> str:
    """What makes two account names the same: compatibility-normalized and case-folded
    (Unicode's NFKC_Casefold idea), so "Ann", "ANN" and the full-width "Ａｎｎ" are one."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


class FailedLogins(BothKeys):
    """allowed(key, ip, now): may this address try a password for the name `key` now?"""

    def __init__(self, per_min: float, name_burst: int, ip_burst: int, max_keys: int = 10000):
        rate = per_min / 60.0
        self.by_name = BucketTable(rate, name_burst, max_keys)
        self.by_ip = BucketTable(rate, ip_burst, max_keys, by_address=True)
        super().__init__(self.by_name, self.by_ip)

    def failed(self, key: str, ip: str, now: float) -> None:
        self.charge(key, ip, now)
