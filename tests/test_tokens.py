"""Player tokens are unforgeable: only the server's own signature verifies."""

from server.core import tokens


def test_a_token_verifies_to_its_player_and_any_change_breaks_it():
    secret = tokens.new_secret()
    token = tokens.sign(secret, "p0123456789abcdef")
    assert tokens.verify(secret, token) == "p0123456789abcdef"
    assert tokens.verify(tokens.new_secret(), token) is None      # another server's
    version, pid, sig = token.split(".")
    for forged in [f"{version}.p0123456789abcdee.{sig}", f"{version}.{pid}.{sig[::-1]}",
                   f"v2.{pid}.{sig}", f"{version}.{pid}", f"{version}..{sig}", "",
                   f"{version}.{pid}.{sig[:-1]}é", "\ud800"]:
        assert tokens.verify(secret, forged) is None, forged
