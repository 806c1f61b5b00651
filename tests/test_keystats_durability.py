"""Per-key statistics and points are a view folded from saved results, each exactly
once: SIGKILL after a save and before its fold loses nothing (the next process folds
it), and a fold that committed is never repeated after a restart. On SQLite and on
Redis, with real server processes."""

from __future__ import annotations

import sqlite3

import pytest

from client_demo.client import Client
from server.core.keystats import entry, tally
from server.store.redis_adapter import Redis
from tests.redis_fixture import redis_server  # noqa: F401
from tests.test_crash_durability import ended, killed, start_server
from tests.test_store_contract_keystats import merged
from tests.typist import type_passage

BODY = "Nothing is lost when the power goes out, not even a key."
NEVER = ("--fold-delay-s", "3600")      # a process that folds only when a read asks


async def connect(port: int, token: str | None = None) -> Client:
    client = await Client.connect(f"ws://127.0.0.1:{port}/ws", "json")
    await client.hello("Ann", token)
    return client


async def practise(client, text_id: int | None = None) -> tuple[int, dict]:
    if text_id is None:
        text_id = (await client.request({"type": "submit_text", "title": "Keys",
                                         "body": BODY}))["text"]["text_id"]
    await client.request({"type": "practice", "text_id": text_id})
    await client.expect("countdown")
    await client.expect("room", where=lambda m: m["room"]["state"] == "racing")
    await type_passage(client, BODY, chunk=3, pause_s=0.03)
    results = await client.expect("results", timeout=60)
    return text_id, results


async def shown_and_saved(client, races: list[dict]) -> tuple[tuple, tuple]:
    """((the keys key_stats shows, the all-time points shown), (the keys these races'
    saved logs tally to, the points their results earned))."""
    tables = []
    for results in races:
        [saved] = (await client.request({"type": "replay", "race_id": results["race_id"]})
                   )["race"]["results"]
        tables.append(tally(BODY, [tuple(e) for e in saved["log"]]))
    keys = merged(tables)[0]
    shown = (await client.request({"type": "key_stats"}))["keys"]
    board = (await client.request({"type": "points_board", "window": "all"}))["entries"]
    return ((sorted(shown, key=lambda k: k["key"]), [(e["player_id"], e["points"]) for e in board]),
            ([entry("key", k, *keys[k]) for k in sorted(keys)],
             [(client.player_id, sum(r["ranking"][0]["points"] for r in races))]))


class Queues:
    """How many results a store holds saved but not folded."""

    def __init__(self, db: str | None, redis_url: str | None):
        self.db, self.redis_url = db, redis_url

    async def pending(self, player_id: str) -> int:
        if self.db:
            with sqlite3.connect(self.db) as db:
                return db.execute("SELECT COUNT(*) FROM unfolded").fetchone()[0]
        redis = await Redis.connect(self.redis_url)
        try:
            return (await redis.execute("LLEN", "tr:kpend:" + player_id)
                    + await redis.execute("LLEN", "tr:ptsq"))      # keys, points
        finally:
            await redis.close()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_sigkill_between_a_save_and_its_fold_loses_nothing_and_counts_nothing_twice(
        kind, tmp_path, request):
    if kind == "sqlite":
        store = {"db": str(tmp_path / "keys.db")}
    else:
        store = {"redis_url": request.getfixturevalue("redis_server").url}
    queues = Queues(store.get("db"), store.get("redis_url"))

    process, port = await start_server(**store, extra=NEVER)
    try:
        ann = await connect(port)
        text_id, first = await practise(ann)
        await killed(process)                 # right after the results, before any fold
    finally:
        await ended(process)
    assert await queues.pending(ann.player_id) > 0          # saved, not folded

    process, port = await start_server(**store, extra=NEVER)
    try:
        again = await connect(port, ann.welcome["token"])
        shown, saved = await shown_and_saved(again, [first])    # the read folds it
        assert shown == saved and len(shown[0]) > 10 and saved[1][0][1] > 0
        _, second = await practise(again, text_id)
        shown, saved = await shown_and_saved(again, [first, second])
        assert shown == saved                                    # the second added once
        await killed(process)                 # after the folds committed
    finally:
        await ended(process)
    assert await queues.pending(ann.player_id) == 0

    process, port = await start_server(**store)
    try:
        last = await connect(port, ann.welcome["token"])
        shown, saved = await shown_and_saved(last, [first, second])
        assert shown == saved                                    # nothing counted twice
    finally:
        await ended(process)
