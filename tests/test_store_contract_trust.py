"""The store port's contract for accounts, bans, reports and hidden texts: the same
backends as tests/test_store_contract.py (every adapter in its BACKENDS runs these)."""

from __future__ import annotations

import asyncio

import pytest

from server.core.accounts import LoginLimits, legacy_name_key, name_key
from server.store import AlreadyRegistered, NameTaken
from tests.test_store_contract import (PASSAGES, T0, open_store, race,  # noqa: F401
                                       result, store)
from tests.redis_fixture import redis_server  # noqa: F401

HASH = "scrypt$15$8$1$c2FsdA==$aGFzaA=="        # the store keeps it as given


async def register(store, player_id, name, password_hash=HASH):
    await store.create_account(player_id, name, name_key(name), password_hash, T0)


async def player_text(store, author="p9", n=0):
    return await store.submit_text({"title": f"Mine {n}", "body": f"Player words number {n} "
                                    "to type for practice."}, author, author.upper(), T0 + n)


# ---- accounts -------------------------------------------------------------------

async def test_nobody_known_has_no_account_no_ban_and_generation_0(store):
    assert await store.check_identity(None, name_key("Ann")) == (
        await store.check_identity("p-unknown", name_key("Ann")))
    identity = await store.check_identity("p-unknown", name_key("Ann"))
    assert (identity.token_generation, identity.banned, identity.account,
            identity.name_owner) == (0, False, None, None)
    assert await store.get_account(name_key("Ann")) is None


async def test_an_account_keeps_the_players_id_and_results_and_survives_reopen(open_store):
    store = await open_store()
    [text_id] = await store.add_texts([PASSAGES[0]], T0)
    await store.save_race(race("a.1", text_id, [result("p1", 1)]))
    await register(store, "p1", "Ann")
    await store.close()
    store = await open_store()
    account = await store.get_account(name_key("aNN"))
    assert (account.player_id, account.name, account.password_hash,
            account.token_generation, account.banned) == ("p1", "Ann", HASH, 0, False)
    stats = await store.player_stats("p1")
    assert stats["name"] == "Ann" and stats["races"] == 1
    identity = await store.check_identity("p1", name_key("ANN"))
    assert (identity.account, identity.name_owner) == ("Ann", "p1")
    # Another player asking about the name learns whose it is.
    assert (await store.check_identity("p2", name_key("ann"))).name_owner == "p1"


async def test_a_guest_the_store_never_saw_can_register(store):
    await register(store, "p-new", "Zoë")
    assert (await store.get_account(name_key("ZOË"))).player_id == "p-new"
    assert (await store.player_stats("p-new"))["name"] == "Zoë"


async def test_names_are_unique_ignoring_case_and_a_player_registers_once(store):
    await register(store, "p1", "Ann")
    with pytest.raises(NameTaken):
        await register(store, "p2", "ANN")
    with pytest.raises(AlreadyRegistered):
        await register(store, "p1", "Annie")
    assert await store.get_account(name_key("Annie")) is None
    assert (await store.check_identity("p2", name_key("x"))).account is None


async def test_two_players_racing_for_one_name_one_wins(store):
    outcomes = await asyncio.gather(*(register(store, f"p{i}", "Same" if i % 2 else "SAME")
                                      for i in range(6)), return_exceptions=True)
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, NameTaken) for o in outcomes if o is not None)


async def test_a_password_change_replaces_the_hash_and_raises_the_generation(store):
    await register(store, "p1", "Ann")
    assert await store.set_password("p1", "scrypt$new") == 1
    assert await store.set_password("p1", "scrypt$newer") == 2
    account = await store.get_account(name_key("Ann"))
    assert (account.password_hash, account.token_generation) == ("scrypt$newer", 2)
    assert (await store.check_identity("p1", name_key("Ann"))).token_generation == 2


# ---- bans -----------------------------------------------------------------------

async def test_a_ban_takes_the_players_results_off_the_boards_until_unbanned(store):
    [t1] = await store.add_texts([PASSAGES[0]], T0)
    await store.save_race(race("a", t1, [result("p1", 1, wpm=120.0), result("p2", 2, wpm=80.0),
                                         result("p3", 3, wpm=70.0)]))
    await register(store, "p1", "Ann")
    assert await store.set_banned("p-unknown", True) is None
    assert await store.set_banned("p1", True) == "Ann"
    assert (await store.check_identity("p1", name_key("Ann"))).banned
    assert (await store.get_account(name_key("Ann"))).banned
    # The limit counts players who are shown: two entries, neither of them p1.
    assert [e["player_id"] for e in await store.leaderboard(None, limit=2)] == ["p2", "p3"]
    assert [e["player_id"] for e in await store.leaderboard(t1)] == ["p2", "p3"]
    assert [e["player_id"] for e in (await store.text_stats(t1))["top"]] == ["p2", "p3"]
    assert (await store.player_stats("p1"))["races"] == 1       # kept, only not shown
    assert await store.set_banned("p1", False) == "Ann"
    assert not (await store.check_identity("p1", name_key("Ann"))).banned
    assert [e["player_id"] for e in await store.leaderboard(t1)] == ["p1", "p2", "p3"]


async def test_a_banned_player_tied_with_the_last_shown_stays_off(store):
    [t1] = await store.add_texts([PASSAGES[0]], T0)
    await store.save_race(race("a", t1, [result("p1", 1, wpm=80.0)], ended_ms=T0 + 1000))
    await store.save_race(race("b", t1, [result("p2", 1, wpm=80.0)], ended_ms=T0 + 2000))
    await store.save_race(race("c", t1, [result("p3", 1, wpm=80.0)], ended_ms=T0 + 3000))
    await store.set_banned("p1", True)
    assert [e["player_id"] for e in await store.leaderboard(t1, limit=1)] == ["p2"]
    assert [e["player_id"] for e in await store.leaderboard(t1, limit=5)] == ["p2", "p3"]


# ---- reports and hidden texts ---------------------------------------------------

async def test_reports_by_enough_different_players_hide_a_player_text(store):
    mine = await player_text(store)
    other = await player_text(store, n=1)
    await store.save_race(race("a", mine.text_id, [result("p1", 1), result("p2", 2)]))
    outcome = await store.report_text(mine.text_id, "p1", "spam", T0, 3)
    assert (outcome.counted, outcome.reports, outcome.hidden) == (True, 1, False)
    again = await store.report_text(mine.text_id, "p1", "spam again", T0 + 1, 3)
    assert (again.counted, again.reports, again.hidden) == (False, 1, False)
    await store.report_text(mine.text_id, "p2", "rude", T0 + 2, 3)
    assert (await store.list_texts(0, 10))[1] == 2
    third = await store.report_text(mine.text_id, "p3", "nonsense", T0 + 3, 3)
    assert (third.counted, third.reports, third.hidden) == (True, 3, True)
    # Hidden everywhere...
    texts, total = await store.list_texts(0, 10)
    assert total == 1 and [t.text_id for t in texts] == [other.text_id]
    assert await store.list_texts(0, 10, author="p9") == ([await store.get_text(
        other.text_id)], 1)
    assert await store.text_stats(mine.text_id) is None
    assert (await store.get_text(mine.text_id)).hidden
    assert await store.hidden_text_ids() == {mine.text_id}
    assert await store.report_text(mine.text_id, "p4", "more", T0 + 4, 3) is None
    # ...but the results raced on it are kept.
    assert len((await store.get_race("a")).results) == 2
    assert (await store.player_stats("p1"))["recent"][0]["race_id"] == "a"


async def test_reports_never_hide_a_library_text_nor_an_unknown_one(store):
    [library] = await store.add_texts([PASSAGES[0]], T0)
    for n in range(4):
        outcome = await store.report_text(library, f"p{n}", "boring", T0 + n, 3)
    assert (outcome.reports, outcome.hidden) == (4, False)
    assert not (await store.get_text(library)).hidden
    assert await store.report_text(library + 1000, "p1", "?", T0, 3) is None


async def test_the_operator_hides_and_restores_any_text_in_its_place(store):
    library = await store.add_texts(PASSAGES[:2], T0)
    mine = await player_text(store, n=5)
    assert await store.set_text_hidden(library[0] + 1000, True) is None
    assert await store.set_text_hidden(library[0], True) is False
    assert await store.set_text_hidden(library[0], True) is True       # already hidden
    assert await store.set_text_hidden(mine.text_id, True) is False
    assert await store.hidden_text_ids() == {library[0], mine.text_id}
    assert [t.text_id for t in (await store.list_texts(0, 10))[0]] == [library[1]]
    # Hidden library texts are still the library's: the server skips them when drawing.
    assert sorted(await store.library_text_ids()) == sorted(library)
    assert await store.set_text_hidden(mine.text_id, False) is True
    assert await store.set_text_hidden(library[0], False) is True
    assert await store.hidden_text_ids() == set()
    assert [t.text_id for t in (await store.list_texts(0, 10))[0]] == [
        mine.text_id, library[1], library[0]]
    assert [t.text_id for t in (await store.list_texts(0, 10, author="p9"))[0]] == [
        mine.text_id]


async def test_a_restored_text_is_not_hidden_again_by_reports(store):
    mine = await player_text(store)
    for n in range(2):
        await store.report_text(mine.text_id, f"p{n}", "spam", T0, 2)
    assert (await store.get_text(mine.text_id)).hidden
    await store.set_text_hidden(mine.text_id, False)
    outcome = await store.report_text(mine.text_id, "p7", "still spam", T0, 2)
    assert (outcome.counted, outcome.reports, outcome.hidden) == (True, 3, False)
    assert not (await store.get_text(mine.text_id)).hidden


async def test_reported_texts_list_the_most_reported_first(store):
    [library] = await store.add_texts([PASSAGES[0]], T0)
    one, two = await player_text(store, n=1), await player_text(store, n=2)
    await store.report_text(one.text_id, "p1", "first", T0 + 10, 9)
    await store.report_text(two.text_id, "p1", "meh", T0 + 20, 9)
    await store.report_text(two.text_id, "p2", "spam, really", T0 + 30, 9)
    await store.report_text(library, "p3", "typo", T0 + 40, 9)
    reported = await store.reported_texts()
    assert [(r.text_id, r.reports) for r in reported] == [
        (two.text_id, 2), (library, 1), (one.text_id, 1)]
    top = reported[0]
    assert (top.title, top.author, top.author_name, top.hidden, top.last_reason,
            top.last_ms) == ("Mine 2", "p9", "P9", False, "spam, really", T0 + 30)
    assert len(await store.reported_texts(limit=1)) == 1


# ---- limits on logins and sign-ups (allowances) ------------------------------------

LIMITS = LoginLimits(per_min=1.0, name_burst=3, ip_burst=5)        # one a minute back


async def test_allowances_are_taken_from_every_bucket_or_none_and_come_back_in_time(store):
    ann = LIMITS.login("ann", "10.0.0.1")
    assert [await store.take_allowances(ann, T0) for _ in range(4)] == [True] * 3 + [False]
    # The address's bucket paid for ann's three, and nothing for the refusal.
    assert await store.take_allowances(LIMITS.login("bob", "10.0.0.1"), T0)
    assert await store.take_allowances(LIMITS.login("cy", "10.0.0.1"), T0)
    assert not await store.take_allowances(LIMITS.login("dee", "10.0.0.1"), T0)
    # dee's name bucket was not charged by the refusal: three from another address.
    dee = LIMITS.login("dee", "10.0.0.2")
    assert [await store.take_allowances(dee, T0) for _ in range(4)] == [True] * 3 + [False]
    # A minute brings one back, to each bucket.
    assert not await store.take_allowances(ann, T0 + 59_000)
    assert await store.take_allowances(LIMITS.login("ann", "10.0.0.3"), T0 + 60_000)
    assert not await store.take_allowances(LIMITS.login("ann", "10.0.0.3"), T0 + 60_000)


async def test_an_allowance_given_back_is_there_again_never_above_its_burst(store):
    ann = LIMITS.login("ann", "10.0.0.1")
    for _ in range(3):
        assert await store.take_allowances(ann, T0)
        await store.give_back_allowances(ann, T0)          # the password was right
    for _ in range(4):
        await store.give_back_allowances(LIMITS.password_change("p1"), T0)
    taken = [await store.take_allowances(LIMITS.password_change("p1"), T0) for _ in range(4)]
    assert taken == [True] * 3 + [False]
    # ann's bucket is full again after three right passwords: three more tries.
    ann_elsewhere = LIMITS.login("ann", "10.0.0.9")
    assert [await store.take_allowances(ann_elsewhere, T0) for _ in range(4)] == [
        True] * 3 + [False]


async def test_allowances_are_shared_by_every_store_instance_on_the_same_storage(
        open_store, request):
    """Two processes on one Redis share one limit; SQLite (one process) keeps them in
    the process, so a second instance starts afresh."""
    first, second = await open_store(), await open_store()
    ann = LIMITS.login("ann", "10.0.0.1")
    for _ in range(3):
        assert await first.take_allowances(ann, T0)
    shared = not await second.take_allowances(ann, T0)
    assert shared == (request.node.callspec.params["open_store"] == "redis")


async def test_allowances_take_concurrent_tries_one_at_a_time(store):
    tries = await asyncio.gather(*[store.take_allowances(LIMITS.login("ann", "10.0.0.1"), T0)
                                   for _ in range(20)])
    assert tries.count(True) == 3


# ---- keying account names again (look-alikes became one name) ---------------------

def old_key(name: str) -> str:
    return legacy_name_key(name)


async def test_rekeying_moves_accounts_to_the_new_key_oldest_first_once_per_version(
        open_store):
    store = await open_store()
    await store.create_account("p1", "Ann", old_key("Ann"), HASH, T0)
    await store.create_account("p2", "\u0410nn", old_key("\u0410nn"), HASH, T0 + 1)  # Cyrillic
    await store.create_account("p3", "Tim", old_key("Tim"), HASH, T0 + 2)
    assert await store.rekey_accounts("v2", name_key) == 1        # Tim; Ann is "ann" either way
    assert (await store.get_account(name_key("Ann"))).player_id == "p1"
    # The later look-alike keeps its older key, and logs in with it.
    assert (await store.get_account(old_key("\u0410nn"))).player_id == "p2"
    assert (await store.get_account(name_key("Tim"))).player_id == "p3"
    assert await store.get_account(old_key("Tim")) is None
    assert (await store.check_identity(None, name_key("Tirn"))).name_owner == "p3"
    assert await store.rekey_accounts("v2", name_key) == 0        # done for this version
    await store.close()
    again = await open_store()
    assert await again.rekey_accounts("v2", name_key) == 0
    assert await again.rekey_accounts("v3", old_key) == 1         # Tim back; Ann's twin stays
    assert (await again.get_account(old_key("Tim"))).player_id == "p3"
