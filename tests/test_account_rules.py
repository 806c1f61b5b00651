"""The pure account rules: password hashes, the names that are one name, and the limit
on failed logins (driven with a fake clock)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from server.core.accounts import FailedLogins, name_key
from server.core.passwords import decoy, hash_password, password_matches

SALT = bytes(range(16))


@pytest.mark.password_cost
def test_a_hash_matches_its_password_only_and_is_salted():
    stored = hash_password("correct horse", SALT)
    assert stored.startswith("scrypt$15$8$1$")
    assert password_matches("correct horse", stored)
    assert not password_matches("correct horsE", stored)
    assert not password_matches("", stored)
    assert hash_password("correct horse", bytes(16)) != stored          # another salt
    assert "correct horse" not in stored


def test_the_same_password_typed_composed_or_decomposed_matches():
    stored = hash_password("caf\u00e9 au lait", SALT)
    assert password_matches("cafe\u0301 au lait", stored)


def test_the_cost_is_read_from_the_stored_hash_so_it_can_be_raised_later():
    """A hash made with other parameters (here a cheaper N) still verifies."""
    digest = hashlib.scrypt(b"older password", salt=SALT, n=2**10, r=8, p=1, dklen=32)
    older = "$".join(["scrypt", "10", "8", "1", base64.b64encode(SALT).decode(),
                      base64.b64encode(digest).decode()])
    assert password_matches("older password", older)
    assert not password_matches("older passwore", older)


def test_a_decoy_or_a_damaged_hash_matches_nothing():
    assert not password_matches("anything", decoy(SALT, bytes(32)))
    for damaged in ["", "plain text", "bcrypt$1$2$3$4$5", "scrypt$15$8$1$!!$!!",
                    "scrypt$x$8$1$AAAA$AAAA", "scrypt$15$8$1$AAAA"]:
        assert not password_matches("anything", damaged), damaged


def test_names_that_read_the_same_are_one_name():
    assert name_key("Ann") == name_key("ANN") == name_key("ann") == name_key("Ａｎｎ")
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("Ann") != name_key("Anne")


def test_failed_logins_empty_the_names_and_the_addresses_bucket_then_come_back():
    guard = FailedLogins(per_min=60, name_burst=2, ip_burst=3)        # one a second back
    now = 100.0
    for _ in range(2):
        assert guard.allowed("ann", "10.0.0.1", now)
        guard.failed("ann", "10.0.0.1", now)
    assert not guard.allowed("ann", "10.0.0.2", now)                   # the name, anywhere
    assert guard.allowed("bob", "10.0.0.2", now)
    guard.failed("bob", "10.0.0.1", now)
    assert not guard.allowed("cy", "10.0.0.1", now)                    # the address, any name
    assert guard.allowed("cy", "10.0.0.9", now)
    assert guard.allowed("ann", "10.0.0.2", now + 1.0)                 # a second later
