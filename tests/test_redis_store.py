"""What only the Redis store has to get right: outages, lost replies, key prefixes and
many processes on one Redis. (Its port semantics are in tests/test_store_contract.py.)"""

from __future__ import annotations

import asyncio
import time

import pytest

from server.store.redis_adapter import RedisUnavailable
from server.core.results import Result
from server.store import RaceRecord
from server.store.redis import RedisStore
from tests.redis_fixture import RedisServer, redis_server, require_redis_server  # noqa: F401

T0 = 1_700_000_000_000
PASSAGES = [{"title": f"Passage {i}", "source": "Redis set",
             "body": f"Passage number {i} is a short text that people can type quickly."}
            for i in range(3)]


def race(race_id, text_id, ended_ms, *results):
    return RaceRecord(race_id, "r" + race_id, "quick", text_id, ended_ms - 30_000, ended_ms,
                      list(results))


def result(player_id, place, wpm=60.0):
    return Result(player_id, player_id.upper(), place, place, "finished", wpm, 0.95,
                        30_000, 50, 52, 50, [(1200, "Pass"), (1600, "age")])


async def save_until_saved(store, record, timeout=15.0):
    """What the app does (server/net/app.py _save_and_publish): retry until it is saved."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await store.save_race(record)
        except RedisUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


@pytest.fixture
def persistent_redis():
    """A private redis-server with an append-only file, so a restart keeps its data."""
    require_redis_server()
    server = RedisServer(persistent=True)
    server.start()
    yield server
    server.close()


async def test_results_survive_a_redis_restart_and_a_save_during_it_is_retried(
        persistent_redis):
    store = RedisStore(persistent_redis.url, timeout=1.0)
    await store.open()
    try:
        [text_id] = await store.add_texts(PASSAGES[:1], T0)
        before = race("a", text_id, T0 + 60_000, result("p1", 1, 80.0), result("p2", 2, 50.0))
        await store.save_race(before)

        persistent_redis.stop()
        during = race("b", text_id, T0 + 120_000, result("p2", 1, 90.0), result("p1", 2))
        with pytest.raises(RedisUnavailable):
            await store.save_race(during)
        persistent_redis.start()
        await save_until_saved(store, during)     # the same client reconnected by itself

        assert await store.get_race("a") == before
        assert await store.get_race("b") == during
        p1 = await store.player_stats("p1")
        assert (p1["races"], p1["wins"], p1["best_wpm"]) == (2, 1, 80.0)
        assert [r["race_id"] for r in p1["recent"]] == ["b", "a"]
        assert (await store.get_text(text_id)).completions == 4
        assert [(e["player_id"], e["wpm"]) for e in await store.leaderboard(None)] == [
            ("p2", 90.0), ("p1", 80.0)]
    finally:
        await store.close()


async def test_a_save_whose_reply_was_lost_is_not_counted_twice(redis_server):
    # Redis hangs: the save times out, yet Redis still runs it once it wakes up. The
    # app retries that save; the retry must change nothing.
    store = RedisStore(redis_server.url, timeout=0.5)
    await store.open()
    try:
        [text_id] = await store.add_texts(PASSAGES[:1], T0)
        record = race("a", text_id, T0 + 60_000, result("p1", 1, 70.0))
        redis_server.freeze()
        try:
            with pytest.raises(RedisUnavailable):
                await store.save_race(record)
        finally:
            redis_server.thaw()
        await save_until_saved(store, record)
        await save_until_saved(store, record)
        stats = await store.player_stats("p1")
        assert stats["races"] == 1 and len(stats["recent"]) == 1
        assert stats["avg_wpm"] == 70.0
        assert (await store.get_text(text_id)).completions == 1
        assert (await store.text_stats(text_id))["avg_wpm"] == 70.0
    finally:
        await store.close()


async def test_stores_with_different_prefixes_share_nothing(redis_server):
    one = RedisStore(redis_server.url, prefix="one:")
    two = RedisStore(redis_server.url, prefix="two:")
    await one.open()
    await two.open()
    try:
        await one.set_meta_once("token_secret", "s1")
        [text_id] = await one.add_texts(PASSAGES[:1], T0)
        await one.save_race(race("a", text_id, T0 + 1, result("p1", 1)))
        assert await two.get_meta("token_secret") is None
        assert await two.list_texts(0, 10) == ([], 0)
        assert await two.player_stats("p1") is None
        assert await two.leaderboard(None) == [] and await two.get_race("a") is None
        # Each prefix counts its own text ids.
        assert await two.add_texts(PASSAGES[1:2], T0) == [text_id]
    finally:
        await one.close()
        await two.close()


async def test_processes_starting_together_share_one_library_and_one_secret(redis_server):
    stores = [RedisStore(redis_server.url) for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        ids = await asyncio.gather(*(s.add_texts(PASSAGES, T0) for s in stores))
        assert all(i == ids[0] for i in ids) and len(set(ids[0])) == len(PASSAGES)
        secrets = await asyncio.gather(*(s.set_meta_once("token_secret", f"secret{n}")
                                         for n, s in enumerate(stores)))
        assert len(set(secrets)) == 1
        assert (await stores[3].list_texts(0, 10))[1] == len(PASSAGES)
    finally:
        await asyncio.gather(*(s.close() for s in stores))

