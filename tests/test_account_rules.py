"""The pure account rules: password hashes, the names that are one name, and the limit
on failed logins (driven with a fake clock)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from server.core.accounts import (REGISTER_BURST, REGISTER_PER_HOUR, AllowanceTable,
                                  LoginLimits, name_key, registrations)
from protocol.messages import ProtocolError, clean_name
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
    limits = LoginLimits(per_min=60, name_burst=2, ip_burst=3)        # one a second back
    table = AllowanceTable()
    now = 100.0
    for _ in range(2):
        assert table.take(limits.login("ann", "10.0.0.1"), now)
    assert not table.take(limits.login("ann", "10.0.0.2"), now)        # the name, anywhere
    assert table.take(limits.login("bob", "10.0.0.2"), now)
    assert table.take(limits.login("bob", "10.0.0.1"), now)
    assert not table.take(limits.login("cy", "10.0.0.1"), now)         # the address, any name
    assert table.take(limits.login("cy", "10.0.0.9"), now)
    assert table.take(limits.login("ann", "10.0.0.2"), now + 1.0)      # a second later


def test_a_try_is_taken_from_every_bucket_or_from_none_and_given_back_on_success():
    limits = LoginLimits(per_min=1, name_burst=2, ip_burst=2)
    table = AllowanceTable()
    assert table.take(limits.login("ann", "10.0.0.1"), 0)
    assert table.take(limits.login("bob", "10.0.0.1"), 0)              # the address is empty
    assert not table.take(limits.login("cy", "10.0.0.1"), 0)
    assert table.take(limits.login("cy", "10.0.0.2"), 0)               # cy's bucket wasn't charged
    assert table.take(limits.login("cy", "10.0.0.2"), 0)
    table.give_back(limits.login("ann", "10.0.0.1"), 0)                # ann's password was right
    assert table.take(limits.login("dee", "10.0.0.1"), 0)
    for _ in range(5):                                                 # never above the burst
        table.give_back(limits.login("eve", "10.0.0.3"), 0)
    assert [table.take(limits.login("eve", f"10.0.1.{n}"), 0) for n in range(3)] == [
        True, True, False]


def test_an_ipv6_address_is_one_address_with_its_whole_64():
    limits = LoginLimits(per_min=1, name_burst=100, ip_burst=1)
    table = AllowanceTable()
    assert table.take(limits.login("ann", "2001:db8:0:1::1"), 0)
    assert not table.take(limits.login("bob", "2001:db8:0:1:ffff::2"), 0)
    assert table.take(limits.login("bob", "2001:db8:0:2::1"), 0)


def test_a_password_change_has_its_own_bucket_not_the_names():
    limits = LoginLimits(per_min=1, name_burst=2, ip_burst=100)
    table = AllowanceTable()
    while table.take(limits.login("ann", "10.0.0.1"), 0):
        pass
    assert table.take(limits.password_change("p-ann"), 0)


def test_sign_ups_are_limited_per_address():
    table = AllowanceTable()
    made = 0
    while table.take(registrations("10.0.0.1"), 0):
        made += 1
    assert made == REGISTER_BURST
    assert table.take(registrations("10.0.0.2"), 0)
    assert not table.take(registrations("10.0.0.1"), 3600 / REGISTER_PER_HOUR - 1)
    assert table.take(registrations("10.0.0.1"), 3600 / REGISTER_PER_HOUR + 1)


LOOK_ALIKES = ["\u0410nn", "\u0391nn", "ANN", "\uff21nn", "\U0001d400nn", "Ann\ufe0f"]


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_names_that_look_the_same_are_one_name(name):
    assert name_key(name) == name_key("Ann")


def test_names_that_look_different_stay_apart():
    assert len({name_key(n) for n in ["Ann", "Anna", "Ana", "Bob", "Zoë", "Zoe", "李雷"]}) == 7
    assert name_key("Tim") == name_key("Tirn")                        # rn reads as m


INVISIBLE = ["\u3164", "\u2800", "\u115f", "\u034f", "\u1160", "\uffa0", "\u17b4",
             "\u180b", "\u200b", "\u2060", "\ufeff", "\U000e0100", "\u00ad"]


@pytest.mark.parametrize("filler", INVISIBLE)
def test_a_name_with_an_invisible_character_is_refused(filler):
    for name in (f"Ann{filler}", f"A{filler}nn"):
        with pytest.raises(ProtocolError) as refused:
            clean_name(name)
        assert refused.value.code == "invalid_name"
    assert clean_name("Ann \u2764\ufe0f") == "Ann \u2764\ufe0f"          # an emoji's selector
