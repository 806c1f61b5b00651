"""Password hashes: scrypt with a random salt per password. Pure (the salt is passed
in), but SLOW on purpose: the shell runs these on worker threads, never on the loop
(hashlib.scrypt releases the GIL while it works).

Why scrypt (hashlib.scrypt, OpenSSL) and not argon2 (argon2-cffi): it is in the
standard library, so no compiled dependency is added to the server; it is memory-hard
like argon2id, which is what makes guessing on GPUs expensive; and OWASP lists it as
acceptable where argon2id is not available. Its cost parameters are written into each
stored hash, so they can be raised later without invalidating existing passwords.

Cost: N = 2**15, r = 8, p = 1 -> 32 MiB and about 0.1 s of one core per hash
(`python -m bench.passwords` prints it on this machine). Colin Percival's scrypt
paper gives N = 2**14 for interactive logins (< 100 ms in 2009); one step more is
still well under the time a person notices at a login.

A stored hash reads "scrypt$<log2 N>$<r>$<p>$<salt, base64>$<hash, base64>".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata

LOG2_N = 15
R = 8
P = 1
SALT_BYTES = 16
HASH_BYTES = 32
SCHEME = "scrypt"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int, size: int) -> bytes:
    # NFC: the same password typed on two devices may arrive composed or decomposed.
    secret = unicodedata.normalize("NFC", password).encode("utf-8")
    n = 1 << log2_n
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=size,
                          maxmem=128 * n * r * p + 1024 * 1024)


def _stored(salt: bytes, digest: bytes) -> str:
    return f"{SCHEME}${LOG2_N}${R}${P}${_b64(salt)}${_b64(digest)}"


def hash_password(password: str, salt: bytes) -> str:
    """The stored form of `password` (salt: SALT_BYTES random bytes, new for each)."""
    return _stored(salt, _scrypt(password, salt, LOG2_N, R, P, HASH_BYTES))


def decoy(salt: bytes, digest: bytes) -> str:
    """A stored hash of no password (random salt and digest): checking a password
    against it costs what a real check costs, and matches nothing."""
    return _stored(salt, digest)


def password_matches(password: str, stored: str) -> bool:
    """Does `password` hash to `stored`? Compared in constant time. A stored value this
    module did not write matches nothing."""
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(password, base64.b64decode(salt, validate=True), int(log2_n),
                         int(r), int(p), len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
