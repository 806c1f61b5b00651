"""The store port's contract for per-key and per-bigram statistics: the same backends
as tests/test_store_contract.py, so both adapters are held to one expected table (what
server/core/keystats.py tallies, merged under its caps) and so agree."""

from __future__ import annotations

import pytest

from server.core.keystats import BIGRAMS_MAX, KEYS_MAX, tally
from server.store.redis import RedisStore
from server.store.sqlite import SqliteStore
from tests.test_store_contract import (PASSAGES, T0, open_store, race,  # noqa: F401
                                       result, store)
from tests.redis_fixture import redis_server  # noqa: F401


def typed(body: str, start_ms: int = 1000, every_ms: int = 100) -> list:
    """A log typing `body` one key at a time, with one mistake (a wrong key deleted)."""
    log = [(start_ms, body[0]), (start_ms + every_ms, "#"), (start_ms + 2 * every_ms, "\b")]
    return log + [(start_ms + (i + 2) * every_ms, ch) for i, ch in enumerate(body[1:], 1)]


def clean(player_id, log, slot=0):
    r = result(player_id, slot + 1, slot=slot)
    return type(r)(**{**{f: getattr(r, f) for f in r.__slots__}, "log": log})


def merged(tables: list[tuple[dict, dict]]) -> tuple[dict, dict]:
    """What the stores must hold after these tallies, in order: sums, and a key new to
    a full table dropped (the most typed new keys first, then by key)."""
    out: tuple[dict, dict] = ({}, {})
    for tables_of_race in tables:
        for kept, new, cap in zip(out, tables_of_race, (KEYS_MAX, BIGRAMS_MAX)):
            for key, (c, e, ms) in sorted(new.items(), key=lambda i: (-i[1][0] - i[1][1], i[0])):
                if key in kept:
                    kept[key] = tuple(a + b for a, b in zip(kept[key], (c, e, ms)))
                elif len(kept) < cap:
                    kept[key] = (c, e, ms)
    return out


async def test_clean_results_add_their_keys_and_bigrams_once(open_store):
    store = await open_store()
    [t0, t1] = await store.add_texts(PASSAGES[:2], T0)
    body0, body1 = PASSAGES[0]["body"], PASSAGES[1]["body"]
    log0, log1 = typed(body0), typed(body1, every_ms=150)
    assert await store.key_stats("p1") is None
    # A race is saved in steps: p1 at its finish, then everyone at the end; and retried.
    await store.save_race(race("k1", t0, [clean("p1", log0)]))
    await store.save_race(race("k1", t0, [clean("p1", log0), clean("p2", log0, slot=1)]))
    await store.save_race(race("k1", t0, [clean("p1", log0)]))     # a retry adds nothing
    await store.save_race(race("k2", t1, [clean("p1", log1),
                                          result("p3", 2, "dnf", slot=1),
                                          result("p4", 3, flagged="pasted", slot=2)]))
    expected = merged([tally(body0, log0), tally(body1, log1)])
    assert await store.key_stats("p1") == expected
    assert await store.key_stats("p2") == merged([tally(body0, log0)])
    # The hand-made log typed "#" where the second character was due: one error.
    assert expected[0][body0[1]][1] >= 1 and expected[1][body0[:2]][1] >= 1
    # Only clean results count: a dnf and a flagged result keep nothing.
    assert await store.key_stats("p3") is None and await store.key_stats("p4") is None
    await store.close()
    assert await (await open_store()).key_stats("p1") == expected     # durable


async def test_a_hostile_text_of_thousands_of_characters_keeps_the_table_bounded(store):
    # 3000 distinct ideographs, each twice: far past both caps at once.
    wide = "".join(chr(0x4E00 + i) * 2 for i in range(3000))
    # Then 300 more, typed a varying number of times: only the most typed fill what room
    # is left, ties by the character.
    more = "".join(chr(0x8000 + i) * (1 + i % 4) for i in range(300))
    [small, t_wide, t_more] = await store.add_texts(
        [PASSAGES[0], {"title": "Wide", "source": "", "body": wide},
         {"title": "More", "source": "", "body": more}], T0)
    logs = [(PASSAGES[0]["body"], typed(PASSAGES[0]["body"])), (wide, typed(wide, every_ms=10)),
            (more, typed(more, every_ms=10))]
    for n, (text_id, (body, log)) in enumerate(zip((small, t_wide, t_more), logs)):
        await store.save_race(race(f"h{n}", text_id, [clean("p1", log)], ended_ms=T0 + n))
    keys, bigrams = await store.key_stats("p1")
    assert (len(keys), len(bigrams)) == (KEYS_MAX, BIGRAMS_MAX)
    assert (keys, bigrams) == merged([tally(b, log) for b, log in logs])
    # A key kept before the table filled still counts every race.
    again = typed(PASSAGES[0]["body"])
    await store.save_race(race("h9", small, [clean("p1", again)], ended_ms=T0 + 9))
    assert (await store.key_stats("p1"))[0]["a"][0] == 2 * keys["a"][0]


async def test_both_stores_hold_the_same_table_after_the_same_saves(tmp_path, redis_server):
    stores = [SqliteStore(str(tmp_path / "a.db")), RedisStore(redis_server.url, prefix="agree:")]
    tables = []
    for store in stores:
        await store.open()
        [t0, t1] = await store.add_texts(PASSAGES[2:4], T0)
        for n, text_id in enumerate((t0, t1, t0)):
            body = PASSAGES[2 + (n % 2)]["body"]
            await store.save_race(race(f"a{n}", text_id, [clean("p1", typed(body, every_ms=90 + n))],
                                       ended_ms=T0 + n))
        tables.append(await store.key_stats("p1"))
        await store.close()
    assert tables[0] == tables[1] and len(tables[0][1]) > 20


async def test_a_generated_passage_is_kept_with_its_race_and_on_no_board(open_store):
    from server.core.texts import GENERATED_ID
    store = await open_store()
    body = "quick quiet queens quote quests"
    saved = race("g1", GENERATED_ID, [clean("p1", typed(body))])
    saved.passage = body
    await store.save_race(saved)
    again = await store.get_race("g1")
    assert (again.text_id, again.passage) == (GENERATED_ID, body)
    assert await store.leaderboard(None) == []
    assert (await store.player_stats("p1"))["races"] == 1
    assert await store.key_stats("p1") == merged([tally(body, typed(body))])
    [t0] = await store.add_texts(PASSAGES[:1], T0)
    await store.save_race(race("g2", t0, [clean("p1", typed(PASSAGES[0]["body"]))]))
    assert (await store.get_race("g2")).passage is None


async def test_a_race_on_a_text_the_store_does_not_have_is_saved_with_no_key_stats(store):
    await store.save_race(race("n1", 999, [clean("p1", typed("Nobody stored this text."))]))
    assert (await store.get_race("n1")).results[0].player_id == "p1"
    assert await store.key_stats("p1") is None
