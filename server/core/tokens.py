"""Player tokens: the player_id signed with the server secret (HMAC-SHA256).

A token cannot be forged or altered without the secret; any change to the id or
the signature makes `verify` return None.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "v1"


def new_player_id() -> str:
    return "p" + secrets.token_hex(8)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _signature(secret: str, player_id: str) -> str:
    digest = hmac.new(secret.encode(), f"{PREFIX}.{player_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, player_id: str) -> str:
    return f"{PREFIX}.{player_id}.{_signature(secret, player_id)}"


def verify(secret: str, token: str) -> str | None:
    """The player_id a token was issued for, or None if it is not genuine."""
    if not token.isascii():          # hmac.compare_digest refuses non-ASCII str
        return None
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1]:
        return None
    if not hmac.compare_digest(parts[2], _signature(secret, parts[1])):
        return None
    return parts[1]
