"""Player tokens are unforgeable: only the server's own signature verifies."""

import base64
import hashlib
import hmac

from server.core import tokens


def test_a_token_verifies_to_its_player_and_any_change_breaks_it():
    secret = tokens.new_secret()
    token = tokens.sign(secret, "p0123456789abcdef")
    assert tokens.verify(secret, token) == ("p0123456789abcdef", 0)
    assert tokens.verify(tokens.new_secret(), token) is None      # another server's
    version, pid, generation, sig = token.split(".")
    for forged in [f"{version}.p0123456789abcdee.{generation}.{sig}",
                   f"{version}.{pid}.{generation}.{sig[::-1]}",
                   f"{version}.{pid}.1.{sig}", f"{version}.{pid}.00.{sig}",
                   f"{version}.{pid}.-1.{sig}", f"v1.{pid}.{sig}", f"v3.{pid}.0.{sig}",
                   f"{version}.{pid}.{generation}", f"{version}..{generation}.{sig}", "",
                   f"{version}.{pid}.{generation}.{sig[:-1]}é", "\ud800"]:
        assert tokens.verify(secret, forged) is None, forged


def test_the_generation_is_signed_so_a_revoked_token_cannot_be_raised():
    secret = tokens.new_secret()
    old, new = tokens.sign(secret, "pabc", 0), tokens.sign(secret, "pabc", 3)
    assert tokens.verify(secret, new) == ("pabc", 3)
    # Swapping the generation of an old token without the secret breaks its signature.
    assert tokens.verify(secret, old.replace(".0.", ".3.")) is None


def test_tokens_issued_before_accounts_still_verify_as_generation_0():
    """Players keep the v1 tokens today's browsers hold: "v1.<id>.<HMAC of 'v1.<id>'>"."""
    secret = tokens.new_secret()
    digest = hmac.new(secret.encode(), b"v1.pold", hashlib.sha256).digest()
    v1 = "v1.pold." + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert tokens.verify(secret, v1) == ("pold", 0)
    assert tokens.verify(tokens.new_secret(), v1) is None
