"""The cluster's seat claim matches ratings inside Redis as the pure lobby does
(server/core/matching.py), atomically, without reading rooms into Python."""

from __future__ import annotations

import asyncio

import pytest

from server.cluster.directory import Directory
from server.core import matching
from server.store.redis_adapter import Redis
from tests.redis_fixture import redis_server  # noqa: F401

T0 = 1_000_000
WIDEN = 5000
FOREVER = 10 ** 15
REMOTE_WAIT = 1000


@pytest.fixture
async def directory(redis_server):  # noqa: F811
    redis = await Redis.connect(redis_server.url)
    d = Directory(redis, "n1")
    await d.heartbeat()
    yield d
    await redis.close()


async def claim(d, pid, rating, now=T0):
    found = await d.claim(now, pid, rating, WIDEN, REMOTE_WAIT)
    return found[0] if found else None


async def test_a_claim_takes_only_a_room_within_the_band_which_widens_as_it_waits(directory):
    await directory.open("slow", 5, 1, FOREVER, T0, {"ps": 40.0})
    assert await claim(directory, "pf", 130.0) is None
    assert await claim(directory, "pn", 59.0) == "slow"              # within x1.5 of 40
    # After waiting the band is 1.5 ** (1 + waited // WIDEN), as in the lobby.
    for waited, rating in [(WIDEN, 85.0), (2 * WIDEN - 1, 130.0), (2 * WIDEN, 130.0)]:
        expected = matching.fits(rating, [40.0, 59.0], waited, WIDEN)
        assert (await claim(directory, f"p{waited}", rating, T0 + waited) == "slow") is expected
    assert expected       # (the last one fits)


async def test_unrated_players_fit_anywhere_and_nobody_claims_a_room_they_sit_in(directory):
    await directory.open("fast", 5, 2, FOREVER, T0, {"pf": 130.0, "pu": None})
    assert await claim(directory, "pnew", None) == "fast"
    assert await claim(directory, "pf", 130.0) is None                 # already there


async def test_concurrent_claims_see_each_others_ratings(directory):
    # A room of one unrated player: the first rated claim sets its band for the next.
    await directory.open("r", 5, 1, FOREVER, T0, {"pu": None})
    got = await asyncio.gather(claim(directory, "slow", 40.0), claim(directory, "fast", 130.0))
    assert sorted(g or "" for g in got) == ["", "r"]


async def test_among_equally_full_rooms_the_closest_rating_is_claimed(directory):
    await directory.open("r60", 5, 1, FOREVER, T0, {"a": 60.0})
    await directory.open("r91", 5, 1, FOREVER, T0, {"b": 91.0})
    assert await claim(directory, "c", 80.0) == "r91"


async def test_an_owner_update_keeps_a_claim_it_has_not_seen_yet(directory):
    await directory.open("r", 5, 1, FOREVER, T0, {"pu": None})
    assert await claim(directory, "slow", 40.0) == "r"
    # The owner syncs before the claimed player's request reached it: a new seat of its
    # own, nothing about `slow`; slow's rating still keeps the fast player out.
    await directory.adjust("r", 1, FOREVER, T0, {"pu2": None}, [])
    assert await claim(directory, "fast", 130.0) is None
    await directory.adjust("r", -1, FOREVER, T0, {}, ["slow"])        # slow sat elsewhere
    assert await claim(directory, "fast", 130.0) == "r"


async def test_a_room_of_this_process_comes_first_another_only_after_a_wait(
        directory, redis_server):  # noqa: F811
    redis = await Redis.connect(redis_server.url)
    try:
        other = Directory(redis, "n2")
        await other.heartbeat()
        await other.open("theirs", 5, 3, FOREVER, T0, {"a": None, "b": None, "c": None})
        await directory.open("ours", 5, 1, FOREVER, T0, {"d": None})
        # Ours, though theirs is fuller and has waited long enough to be offered.
        assert await claim(directory, "p1", None, T0 + REMOTE_WAIT) == "ours"
        await directory.close("ours")
        # Their room's players have waited less than REMOTE_WAIT: theirs to fill.
        assert await claim(directory, "p2", None, T0 + REMOTE_WAIT - 1) is None
        assert await claim(directory, "p3", None, T0 + REMOTE_WAIT) == "theirs"
        # A lone player elsewhere is joined at once (nobody is kept waiting alone).
        await other.open("lone", 5, 1, FOREVER, T0, {"e": None})
        await other.close("theirs")
        assert await claim(directory, "p4", None) == "lone"
    finally:
        await redis.close()
