"""Player tokens: the player_id and its token generation, signed with the server secret
(HMAC-SHA256).

A token cannot be forged or altered without the secret; any change to the id, the
generation or the signature makes `verify` return None.

The generation is how a token is revoked without a store read per message: the store
keeps each player's current generation (0 until the first password change), and
`hello` compares it with the token's once, when the connection says who it is. A
password change raises the stored generation, so every token signed before it stops
working. Tokens of the first format ("v1.<player_id>.<sig>", issued before accounts
existed) carry no generation: they count as generation 0.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "v2"
OLD_PREFIX = "v1"            # no generation (0)


def new_player_id() -> str:
    return "p" + secrets.token_hex(8)


# A secret an operator gives (--secret) must be at least this long and this varied: a
# short or repetitive one ("changeme") falls to a word list from one guest token, and
# then any token can be forged. new_secret's 43 characters of 64 kinds pass easily.
SECRET_MIN_CHARS = 32
SECRET_MIN_DISTINCT = 10
SECRET_HOWTO = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_weakness(secret: str) -> str | None:
    """Why an operator's secret is too weak to sign tokens with, or None."""
    if len(secret) < SECRET_MIN_CHARS or len(set(secret)) < SECRET_MIN_DISTINCT:
        return (f"too weak: a secret needs at least {SECRET_MIN_CHARS} characters, "
                f"{SECRET_MIN_DISTINCT} of them different (make one with {SECRET_HOWTO})")
    return None


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, player_id: str, generation: int = 0) -> str:
    payload = f"{PREFIX}.{player_id}.{generation}"
    return f"{payload}.{_signature(secret, payload)}"


def verify(secret: str, token: str) -> tuple[str, int] | None:
    """(player_id, generation) of a genuine token, or None."""
    if not token.isascii():          # hmac.compare_digest refuses non-ASCII str
        return None
    parts = token.split(".")
    if len(parts) == 3 and parts[0] == OLD_PREFIX and parts[1]:
        player_id, generation = parts[1], "0"
    elif len(parts) == 4 and parts[0] == PREFIX and parts[1] and parts[2].isdigit():
        player_id, generation = parts[1], parts[2]
        if generation != str(int(generation)):      # one spelling per number: no "007"
            return None
    else:
        return None
    if not hmac.compare_digest(parts[-1], _signature(secret, ".".join(parts[:-1]))):
        return None
    return player_id, int(generation)
