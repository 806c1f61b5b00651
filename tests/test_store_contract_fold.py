"""Per-key statistics and points are a view folded from the saved results
(server/store/folding.py), on both adapters: a read folds what is pending first, so it
sees the results saved just before it; the background folder folds them without any
read; each result counts once however often the store is reopened; flagged results
earn nothing and a ban still takes a player's points off the boards."""

from __future__ import annotations

import asyncio
import sqlite3

from server.core.keystats import tally
from server.store.sqlite import SqliteStore
from tests.test_store_contract import (PASSAGES, T0, open_store, race,  # noqa: F401
                                       redis_server, result)
from tests.test_store_contract_keystats import clean, merged, typed

NEVER = 3600            # a store whose folder waits an hour: only reads fold


async def pending(store) -> int:
    """How many saved results the store has not folded, from its storage."""
    if isinstance(store, SqliteStore):
        with sqlite3.connect(store.path) as db:
            return db.execute("SELECT COUNT(*) FROM unfolded").fetchone()[0]
    return (await store.redis.execute("SCARD", store.prefix + "kpending")     # keys
            + await store.redis.execute("LLEN", store.prefix + "ptsq"))       # points


async def saved(store) -> tuple:
    [tid] = await store.add_texts(PASSAGES[:1], T0)
    body = PASSAGES[0]["body"]
    logs = [typed(body, every_ms=100 + 10 * n) for n in range(3)]
    for n, log in enumerate(logs):
        await store.save_race(race(f"f{n}", tid, [
            clean("ann", log), result("bob", 2, slot=1),
            result("eve", 3, flagged="pasted", slot=2)], ended_ms=T0 + n * 1000))
    return merged([tally(body, log) for log in logs])


async def test_reads_fold_what_is_pending_and_see_the_results_saved_just_before(open_store):
    store = await open_store(fold_delay_s=NEVER)
    keys = await saved(store)
    assert await pending(store) > 0
    ann = sum(clean("ann", typed("x")).points for _ in range(3))
    bob = 3 * result("bob", 2).points
    assert await store.key_stats("ann") == keys
    board = await store.points_board("all")
    assert [(e["player_id"], e["points"], e["races"]) for e in board] == [
        ("ann", ann, 3), ("bob", bob, 3)]                   # eve's flagged results: none
    assert await store.points_place("all", "bob") == {"points": bob, "place": 2}
    await store.set_banned("ann", True)                     # a ban still takes them off
    assert [e["player_id"] for e in await store.points_board("all")] == ["bob"]
    assert await store.points_place("all", "bob") == {"points": bob, "place": 1}
    await store.close()

    again = await open_store(fold_delay_s=NEVER)            # folded once, never again
    assert await again.key_stats("ann") == keys
    assert await again.points_place("all", "bob") == {"points": bob, "place": 1}


async def test_the_folder_folds_saved_results_without_any_read(open_store):
    store = await open_store(fold_delay_s=0.05)
    keys = await saved(store)
    for _ in range(200):
        if await pending(store) == 0:
            break
        await asyncio.sleep(0.05)
    assert await pending(store) == 0
    await store.close()
    again = await open_store(fold_delay_s=NEVER)
    assert await again.key_stats("ann") == keys
    assert [e["races"] for e in await again.points_board("all")] == [3, 3]
