"""Account rules that decide something, without I/O: which names are the same name,
and the limits on guessing passwords and on making accounts. Pure: time is passed in.

The limits are token buckets kept by the store (`Store.take_allowances`), so that
processes sharing a Redis share them: the docs promise a limit per name across all
addresses, and a per-process count would multiply it by the number of processes.
An `Allowance` names one bucket and its rule; `AllowanceTable` is the bucket arithmetic
for a store that keeps them in memory (SQLite: one process), and the Redis script in
server/store/redis_trust.py does the same sums.

Logins: a try is taken from the name's bucket and the address's (IPv4, or the IPv6
/64: see joinguard.ip_key) BEFORE the password is hashed, both or neither, and given
back when the password was right. So twenty logins sent at once get at most a
bucket's worth of checks, and the rest `rate_limited` before any hash, whatever the
password: a guesser learns nothing more. What the defaults allow (5 per name in a row,
20 per address, then 1 a minute back for each): one address tries ~1,440 passwords a
day against one name, and the name's bucket caps all addresses together at the same
rate. The price is that someone failing on purpose can hold one name's logins
`rate_limited` (never its open connections nor its token), a minute per failure.

A password change comes from a session already signed in as the account, so it is
charged to the account's own bucket, not the name's: strangers guessing at the name
can't stop the owner from changing the password, and a stolen token still gets only
a few guesses at the current password, then one a minute.

Registrations are limited per address: REGISTER_BURST in a row, then
REGISTER_PER_HOUR (a class behind one school router signs up at once; a script
making thousands of accounts does not).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import icu

from protocol.messages import EMOJI_VARIATIONS, NAME_MAX
from server.core.joinguard import ip_key
from server.core.ratelimit import BucketTable

REGISTER_BURST = 30             # accounts one address may make in a row
REGISTER_PER_HOUR = 10.0        # and then this many an hour


# Unicode TR39's skeleton, from ICU (PyICU's API, installed as pyicu-wheels): the
# reference implementation, kept in step with Unicode's confusables.txt. (confusable-homoglyphs ships that table without the
# direction to its prototypes, so no skeleton; disarm is a beta that adds folds of its
# own; a table of ours would be one more thing to keep up with each Unicode release.)
_SPOOF = icu.SpoofChecker()
# Names are keyed again when this changes (Store.rekey_accounts): ICU's data may
# make two names one that were two, or the other way round.
NAME_KEY_VERSION = f"tr39-icu-{icu.ICU_VERSION}"
_EMOJI_VARIATIONS = dict.fromkeys(range(EMOJI_VARIATIONS[0], EMOJI_VARIATIONS[1] + 1))


def legacy_name_key(name: str) -> str:
    """The key before look-alikes were one name (NFKC and case folding only): accounts
    whose look-alike registered first keep it, and log in with it."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def name_key(name: str) -> str:
    """What makes two account names the same: what they look like. Compatibility-
    normalized and case-folded (Unicode's NFKC_Casefold idea: "Ann", "ANN", the
    full-width "Ａｎｎ"), then TR39's confusable skeleton, so the Cyrillic "Аnn" and
    the Greek "Αnn" are "Ann" too (and "rn" is "m"). Emoji variation selectors are
    left out; other invisible characters never get this far (protocol clean_name).
    Case is folded first, so "I" and "l" stay apart ("paypaI" is not "paypal")."""
    folded = legacy_name_key(name.translate(_EMOJI_VARIATIONS))
    return unicodedata.normalize("NFC", _SPOOF.getSkeleton(0, folded))


def guest_name(name: str, player_id: str) -> str:
    """The name a returning guest races under once an account has taken hers: hers
    with a mark of her own id ("Carol~3f2a"), the same each time she comes back."""
    return f"{name[:NAME_MAX - 5]}~{player_id[-4:]}"


@dataclass(frozen=True)
class Allowance:
    """One token bucket: `key` names it in the store, it holds `burst` tokens at most
    and gets `per_min` back a minute."""
    key: str
    burst: int
    per_min: float


@dataclass(frozen=True)
class LoginLimits:
    per_min: float
    name_burst: int
    ip_burst: int

    def login(self, key: str, ip: str) -> tuple[Allowance, ...]:
        """A login for the name `key` from the address `ip`."""
        return (Allowance("login:name:" + key, self.name_burst, self.per_min),
                Allowance("login:ip:" + ip_key(ip), self.ip_burst, self.per_min))

    def password_change(self, player_id: str) -> tuple[Allowance, ...]:
        """A signed-in account checking its current password."""
        return (Allowance("login:owner:" + player_id, self.name_burst, self.per_min),)


def registrations(ip: str) -> tuple[Allowance, ...]:
    return (Allowance("register:ip:" + ip_key(ip), REGISTER_BURST, REGISTER_PER_HOUR / 60),)


class AllowanceTable:
    """Allowances kept in memory (seconds, monotonic or not, passed in)."""

    def __init__(self, max_keys: int = 10_000):
        self.max_keys = max_keys
        self.tables: dict[tuple[int, float], BucketTable] = {}   # (burst, per_min) ->

    def _table(self, allowance: Allowance) -> BucketTable:
        rule = (allowance.burst, allowance.per_min)
        table = self.tables.get(rule)
        if table is None:
            table = self.tables[rule] = BucketTable(allowance.per_min / 60, allowance.burst,
                                                    self.max_keys)
        return table

    def take(self, allowances: tuple[Allowance, ...], now: float) -> bool:
        """One token from every bucket, or (when any is empty) from none."""
        if not all(self._table(a).allowed(a.key, now) for a in allowances):
            return False
        for a in allowances:
            self._table(a).take(a.key, now)
        return True

    def give_back(self, allowances: tuple[Allowance, ...], now: float) -> None:
        for a in allowances:
            bucket = self._table(a).buckets.get(a.key)
            if bucket is not None:
                bucket.ready(now)                       # refill to now first
                bucket.tokens = min(bucket.burst, bucket.tokens + 1)
