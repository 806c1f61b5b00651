"""The store port's contract, written once against the port (server/store/__init__.py).

Every adapter must pass every test here. To add an adapter, write a backend below
and list it in BACKENDS. A backend is an async context manager taking pytest's
`request` (to use fixtures, e.g. `request.getfixturevalue("redis_server")`) and the
test's `tmp_path`; it yields a function that makes a NEW, unopened store instance on
the SAME storage, so tests can check what survives a close and reopen. Storage starts
empty for every test. The tests only use the port's methods.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from server.core.results import Result
from server.store import Bests, RaceRecord, Store, TextExists, no_stats
from server.store.redis import RedisStore
from server.store.sqlite import SqliteStore
from tests.redis_fixture import redis_server  # noqa: F401


@contextlib.asynccontextmanager
async def sqlite_backend(request, tmp_path):
    path = str(tmp_path / "contract.db")
    yield lambda **options: SqliteStore(path, **options)


@contextlib.asynccontextmanager
async def redis_backend(request, tmp_path):
    # This test's private redis-server; reopening is a new client on the same server.
    server = request.getfixturevalue("redis_server")
    yield lambda **options: RedisStore(server.url, prefix="contract:", **options)


# The adapters under contract: name -> backend. Add new adapters here.
BACKENDS = {
    "sqlite": sqlite_backend,
    "redis": redis_backend,
}


@pytest.fixture(params=list(BACKENDS))
async def open_store(request, tmp_path):
    """open_store(**options) -> a freshly opened Store on this test's storage (options
    of the adapters' constructors both have, such as fold_delay_s)."""
    opened: list[Store] = []
    async with BACKENDS[request.param](request, tmp_path) as new_store:
        async def open_one(**options) -> Store:
            store = new_store(**options)
            await store.open()
            opened.append(store)
            return store
        yield open_one
        for store in opened:
            with contextlib.suppress(Exception):
                await store.close()


@pytest.fixture
async def store(open_store):
    return await open_store()


T0 = 1_700_000_000_000
PASSAGES = [{"title": f"Passage {i}", "source": f"Contract set #{i}",
             "body": f"Passage number {i} is a short text that people can type quickly."}
            for i in range(5)]


def result(player_id, place, status="finished", wpm=60.0, flagged=None, name=None,
           accuracy=0.95, slot=None):
    return Result(player_id, name or player_id.upper(), place if slot is None else slot,
                        place, status, wpm, accuracy, 30_000, 50 if status == "finished" else 20,
                        52, 50, [(1200, "Pass"), (1350, "x\b"), (1600, "age")], flagged)


def race(race_id, text_id, results, ended_ms=T0 + 60_000, kind="quick"):
    return RaceRecord(race_id, "r" + race_id, kind, text_id, ended_ms - 40_000, ended_ms,
                      list(results))



# ---- meta and players ---------------------------------------------------------

async def test_meta_first_writer_wins_and_survives_reopen(open_store):
    store = await open_store()
    assert await store.get_meta("secret") is None
    assert await store.set_meta_once("secret", "one") == "one"
    assert await store.set_meta_once("secret", "two") == "one"
    await store.close()
    again = await open_store()
    assert await again.get_meta("secret") == "one"


async def test_a_player_is_kept_from_its_first_result_then_renamed(store):
    [text_id] = await store.add_texts([PASSAGES[0]], T0)
    await store.rename_player("p1", "Ann", T0)          # a guest: nothing to rename
    assert await store.player_stats("p1") is None
    await store.save_race(race("a.1", text_id, [result("p1", 1, "dnf", name="Ann")]))
    stats = await store.player_stats("p1")
    assert stats["name"] == "Ann" and stats["races"] == 1 and stats["wins"] == 0
    assert stats["best_wpm"] == 0 and stats["avg_wpm"] == 0 and len(stats["recent"]) == 1
    await store.rename_player("p1", "Annie", T0 + 5)
    assert (await store.player_stats("p1"))["name"] == "Annie"


async def test_a_player_is_kept_from_its_first_text(store):
    await store.submit_text({"title": "Mine", "body": "My very own words to type."},
                            "p1", "Ann", T0)
    assert await store.player_stats("p1") == no_stats("p1", "Ann")


# ---- texts --------------------------------------------------------------------

async def test_adding_texts_twice_adds_nothing(store):
    ids = await store.add_texts(PASSAGES, T0)
    assert len(set(ids)) == len(PASSAGES)
    assert await store.add_texts(PASSAGES[::-1], T0 + 1) == ids[::-1]
    texts, total = await store.list_texts(0, 100)
    assert total == len(PASSAGES) and sorted(t.text_id for t in texts) == sorted(ids)
    assert sorted(await store.library_text_ids()) == sorted(ids)


async def test_a_text_has_every_field(store):
    [text_id] = await store.add_texts([PASSAGES[0]], T0)
    text = await store.get_text(text_id)
    assert (text.text_id, text.title, text.source, text.body) == (
        text_id, "Passage 0", "Contract set #0", PASSAGES[0]["body"])
    assert text.author is None and text.created_ms == T0 and text.completions == 0
    assert text.words == 12 and text.chars == len(PASSAGES[0]["body"])
    assert await store.get_text(text_id + 1000) is None


async def test_any_unicode_text_and_log_round_trips(store):
    body = "Café naïve 'quoted' 東京, میخواهم and an emoji 🙂 all typed by hand."
    mine = await store.submit_text({"title": "Ünïcode ✓", "body": body, "source": "ß"},
                                   "p1", "Zoë", T0)
    assert (await store.get_text(mine.text_id)) == mine and mine.chars == len(body)
    saved = race("u.1", mine.text_id, [Result(
        "p1", "Zoë", 0, 1, "finished", 42.5, 0.99, 9000, len(body), len(body), len(body),
        [(10, "Caf"), (90, "é\bé"), (8999, body[4:])])])
    await store.save_race(saved)
    assert await store.get_race("u.1") == saved


async def test_a_text_stored_before_folding_reads_typeable(store):
    """Bodies saved by an older server may hold an em dash or a decomposed accent: they
    are read folded, so the passage raced and shown can be typed."""
    old = "It\u2019s old \u2014 saved as Cafe\u0301 before the fold existed."
    [text_id] = await store.add_texts([{"title": "Old", "source": "", "body": old}], T0)
    text = await store.get_text(text_id)
    assert text.body == "It's old -- saved as Caf\u00e9 before the fold existed."
    assert text.chars == len(text.body)


async def test_player_texts_are_not_library_texts_and_bodies_are_unique(store):
    library = await store.add_texts(PASSAGES[:2], T0)
    mine = await store.submit_text({"title": "Mine", "body": "My very own words to type.",
                                    "source": ""}, "p1", "Ann", T0 + 10)
    assert mine.author == "p1" and mine.author_name == "Ann" and mine.created_ms == T0 + 10
    assert await store.get_text(mine.text_id) == mine
    assert sorted(await store.library_text_ids()) == sorted(library)
    with pytest.raises(TextExists) as exists:
        await store.submit_text({"title": "Copy", "body": PASSAGES[0]["body"]}, "p2", "Bob", T0)
    assert exists.value.text_id == library[0]
    with pytest.raises(TextExists):
        await store.submit_text({"title": "Again", "body": mine.body}, "p1", "Ann", T0)
    assert (await store.list_texts(0, 10))[1] == 3


async def test_texts_page_newest_first_and_filter_by_author(store):
    await store.add_texts(PASSAGES[:3], T0)
    written = []
    for i, author in enumerate(["p1", "p2", "p1", "p1"]):
        written.append(await store.submit_text(
            {"title": f"T{i}", "body": f"Text {i} written by a player for practice."},
            author, author.upper(), T0 + 100 + i))
    page, total = await store.list_texts(0, 2)
    assert total == 7 and [t.title for t in page] == ["T3", "T2"]
    page, total = await store.list_texts(2, 3)
    assert total == 7 and [t.title for t in page][:2] == ["T1", "T0"]
    page, total = await store.list_texts(0, 10, author="p1")
    assert total == 3 and [t.title for t in page] == ["T3", "T2", "T0"]
    page, total = await store.list_texts(1, 10, author="p1")
    assert total == 3 and [t.title for t in page] == ["T2", "T0"]
    assert await store.list_texts(50, 10) == ([], 7)
    assert await store.list_texts(0, 10, author="nobody") == ([], 0)


# ---- races, results and statistics -------------------------------------------

async def test_a_saved_race_comes_back_whole_and_replayable(open_store):
    store = await open_store()
    [text_id] = await store.add_texts([PASSAGES[0]], T0)
    saved = race("a.1", text_id, [result("p1", 1), result("p2", 2, "dnf", wpm=20.5,
                                                          flagged="pasted: 30 characters")])
    await store.save_race(saved)
    await store.close()
    store = await open_store()
    loaded = await store.get_race("a.1")
    assert loaded == saved
    assert loaded.results[0].log == [(1200, "Pass"), (1350, "x\b"), (1600, "age")]
    assert await store.get_race("nope") is None


async def test_saving_a_race_twice_changes_nothing(store):
    [text_id] = await store.add_texts([PASSAGES[0]], T0)
    saved = race("a.1", text_id, [result("p1", 1), result("p2", 2)])
    await store.save_race(saved)
    await store.save_race(saved)
    assert (await store.get_text(text_id)).completions == 2
    assert (await store.player_stats("p1"))["races"] == 1
    assert len(await store.leaderboard(text_id)) == 2


async def test_a_race_saved_in_steps_counts_each_result_once(open_store):
    """A finisher is saved at its finish (the race still runs), then the race's end
    carries every result again: the later results are added, the earlier one is kept
    as it was and nothing is counted twice; the win needs the race's racers, not the
    results saved so far."""
    store = await open_store()
    [text_id] = await store.add_texts([PASSAGES[0]], T0)
    first = RaceRecord("a.1", "ra", "private", text_id, T0, T0 + 20_000,
                       [result("p1", 1, wpm=80.0)], racers=3)
    await store.save_race(first)
    stats = await store.player_stats("p1")
    assert (stats["races"], stats["wins"], stats["best_wpm"]) == (1, 1, 80.0)
    assert (await store.get_text(text_id)).completions == 1
    assert [r.player_id for r in (await store.get_race("a.1")).results] == ["p1"]

    # The end: p1 again (as the core froze it at its finish), p2 finished, p3 dnf.
    end = RaceRecord("a.1", "ra", "private", text_id, T0, T0 + 45_000,
                     [result("p1", 1, wpm=80.0), result("p2", 2, wpm=50.0),
                      result("p3", 3, "dnf")], racers=3)
    await store.save_race(end)
    await store.save_race(end)                   # a retry whose first attempt landed
    await store.close()
    store = await open_store()
    stats = await store.player_stats("p1")
    assert (stats["races"], stats["wins"], stats["avg_wpm"]) == (1, 1, 80.0)
    assert [r["race_id"] for r in stats["recent"]] == ["a.1"]
    assert stats["recent"][0]["at_ms"] == T0 + 20_000       # when it was saved: kept
    assert (await store.player_stats("p2"))["races"] == 1
    assert (await store.player_stats("p3"))["races"] == 1
    assert (await store.get_text(text_id)).completions == 2
    board = await store.leaderboard(text_id)
    assert [(e["player_id"], e["wpm"]) for e in board] == [("p1", 80.0), ("p2", 50.0)]
    saved = await store.get_race("a.1")
    assert [r.player_id for r in saved.results] == ["p1", "p2", "p3"]
    assert (saved.racers, saved.started_ms, saved.ended_ms) == (3, T0, T0 + 45_000)
    points = {e["player_id"]: (e["points"], e["races"]) for e in await store.points_board("all")}
    assert points == {"p1": (result("p1", 1, wpm=80.0).points, 1),
                      "p2": (result("p2", 2, wpm=50.0).points, 1)}     # counted once each


async def test_completions_count_clean_finishes(store):
    [text_id, other] = await store.add_texts(PASSAGES[:2], T0)
    await store.save_race(race("a.1", text_id, [
        result("p1", 1), result("p2", 2, flagged="too fast"), result("p3", 3, "dnf"),
        result("p4", 4, "left")]))
    await store.save_race(race("b.1", text_id, [result("p2", 1)]))
    assert (await store.get_text(text_id)).completions == 2
    assert (await store.get_text(other)).completions == 0
    stats = await store.text_stats(text_id)
    assert stats["completions"] == 2 and stats["text"]["text_id"] == text_id


async def test_player_stats_count_everything_but_score_only_clean_finishes(store):
    [text_id] = await store.add_texts([PASSAGES[0]], T0)
    at = T0
    for i, (wpm, status, flagged, racers) in enumerate([
            (50.0, "finished", None, 2),          # a win
            (70.0, "finished", None, 1),          # practice: place 1 but no win
            (90.0, "finished", None, 2),          # a win
            (500.0, "finished", "too fast", 2),   # flagged: no win, no best, no average
            (10.0, "dnf", None, 2)]):             # dnf: counted as a race only
        at += 60_000
        results = [result("p1", 1, status, wpm=wpm, flagged=flagged, accuracy=0.9)]
        if racers == 2:
            results.append(result("p2", 2, wpm=30.0))
        await store.save_race(race(f"r.{i}", text_id, results, ended_ms=at,
                                   kind="quick" if racers == 2 else "practice"))
    stats = await store.player_stats("p1")
    assert stats["player_id"] == "p1" and stats["name"] == "P1"
    assert stats["races"] == 5 and stats["wins"] == 2
    assert stats["best_wpm"] == 90.0
    assert stats["avg_wpm"] == pytest.approx(70.0) and stats["avg_wpm_last_10"] == pytest.approx(70.0)
    assert stats["avg_accuracy"] == pytest.approx(0.9)
    recent = stats["recent"]
    assert [r["race_id"] for r in recent] == ["r.4", "r.3", "r.2", "r.1", "r.0"]
    assert recent[0]["status"] == "dnf" and recent[1]["flagged"] == "too fast"
    assert recent[3]["kind"] == "practice" and recent[3]["racers"] == 1
    assert recent[2]["place"] == 1 and recent[2]["wpm"] == 90.0
    assert recent[2]["text_id"] == text_id and recent[2]["title"] == "Passage 0"
    p2 = await store.player_stats("p2")
    assert p2["races"] == 4 and p2["wins"] == 0 and p2["best_wpm"] == 30.0


async def test_last_ten_average_and_recent_cover_the_newest_ten(store):
    [text_id] = await store.add_texts([PASSAGES[0]], T0)
    for i in range(15):       # wpm 10, 20, ... 150, one race a minute
        await store.save_race(race(f"r.{i:02}", text_id, [result("p1", 1, wpm=10.0 * (i + 1))],
                                   ended_ms=T0 + 60_000 * (i + 1)))
    stats = await store.player_stats("p1")
    assert stats["races"] == 15 and stats["best_wpm"] == 150.0
    assert stats["avg_wpm"] == pytest.approx(80.0)
    assert stats["avg_wpm_last_10"] == pytest.approx(105.0)      # 60..150
    assert len(stats["recent"]) == 10 and stats["recent"][0]["wpm"] == 150.0


async def test_leaderboards_keep_each_players_best_clean_result(store):
    [t1, t2] = await store.add_texts(PASSAGES[:2], T0)
    await store.save_race(race("a", t1, [result("p1", 1, wpm=80.0), result("p2", 2, wpm=70.0),
                                         result("p3", 3, wpm=900.0, flagged="pasted")],
                               ended_ms=T0 + 1000))
    await store.save_race(race("b", t2, [result("p2", 1, wpm=95.0), result("p1", 2, wpm=60.0),
                                         result("p3", 3, "dnf", wpm=99.0)],
                               ended_ms=T0 + 2000))
    await store.save_race(race("c", t1, [result("p2", 1, wpm=80.0)], ended_ms=T0 + 3000))
    await store.rename_player("p1", "Ann", T0 + 4000)        # renamed since
    overall = await store.leaderboard(None)
    assert [(e["player_id"], e["wpm"], e["text_id"]) for e in overall] == [
        ("p2", 95.0, t2), ("p1", 80.0, t1)]
    assert overall[1]["name"] == "Ann" and overall[1]["race_id"] == "a"
    assert {"accuracy", "race_ms", "at_ms"} <= set(overall[0])
    on_t1 = await store.leaderboard(t1)
    # Ties go to the earlier result: p1 reached 80 before p2 did.
    assert [(e["player_id"], e["wpm"], e["race_id"]) for e in on_t1] == [
        ("p1", 80.0, "a"), ("p2", 80.0, "c")]
    assert len(await store.leaderboard(None, limit=1)) == 1
    stats = await store.text_stats(t1)
    assert stats["avg_wpm"] == pytest.approx(230 / 3, abs=0.01)
    assert [e["player_id"] for e in stats["top"]] == ["p1", "p2"]
    assert await store.text_stats(t1 + 1000) is None


async def test_a_tie_cut_by_the_limit_goes_to_the_earliest(store):
    # Equal speeds rank by time, even where the limit cuts through them (a sorted set
    # alone would order them by member name).
    [text_id] = await store.add_texts([PASSAGES[0]], T0)
    for n, pid in enumerate(["pz", "pa", "pm", "pb"]):          # earliest first
        await store.save_race(race(f"r{n}", text_id, [result(pid, 1)],
                                   ended_ms=T0 + 1000 * (n + 1)))
    await store.save_race(race("r9", text_id, [result("fast", 1, wpm=99.0)], ended_ms=T0 + 9000))
    assert [e["player_id"] for e in await store.leaderboard(text_id, limit=3)] == [
        "fast", "pz", "pa"]
    assert [e["player_id"] for e in await store.leaderboard(None, limit=2)] == ["fast", "pz"]
    assert [e["player_id"] for e in (await store.text_stats(text_id))["top"]] == [
        "fast", "pz", "pa", "pm", "pb"]


async def test_concurrent_saves_all_land_and_survive_reopen(open_store):
    store = await open_store()
    [text_id] = await store.add_texts([PASSAGES[0]], T0)
    await asyncio.gather(*(store.save_race(race(f"r{i}", text_id, [result(f"p{i}", 1)],
                                                ended_ms=T0 + i)) for i in range(20)))
    await store.close()
    store = await open_store()
    assert (await store.get_text(text_id)).completions == 20
    assert len(await store.leaderboard(text_id, limit=100)) == 20
    for i in range(20):
        assert (await store.get_race(f"r{i}")).results[0].player_id == f"p{i}"


async def test_the_rating_is_the_average_of_the_last_ten_clean_results(store):
    [text_id] = await store.add_texts([PASSAGES[0]], T0)
    assert await store.rating("p1") is None                       # unknown: unrated
    await store.save_race(race("d", text_id, [result("p1", 1, "dnf", wpm=5.0),
                                              result("p2", 2, wpm=500.0, flagged="pasted")],
                               ended_ms=T0 + 500))
    assert await store.rating("p1") is None and await store.rating("p2") is None
    for i in range(12):       # wpm 10, 20, ... 120
        await store.save_race(race(f"r.{i:02}", text_id, [result("p1", 1, wpm=10.0 * (i + 1))],
                                   ended_ms=T0 + 60_000 * (i + 1)))
    assert await store.rating("p1") == pytest.approx(75.0)        # 30..120
    history = (await store.player_stats("p1"))["history"]
    assert [h["wpm"] for h in history] == [10.0 * (i + 1) for i in range(12)]  # oldest first
    assert history[0] == {"race_id": "r.00", "text_id": text_id, "wpm": 10.0,
                          "accuracy": 0.95, "at_ms": T0 + 60_000}


async def test_a_players_best_on_a_text_is_their_fastest_clean_result_there(store):
    [t1, t2] = await store.add_texts(PASSAGES[:2], T0)
    await store.save_race(race("a", t1, [result("p1", 1, wpm=70.0), result("p2", 2, wpm=60.0)],
                               ended_ms=T0 + 1000))
    await store.save_race(race("b", t1, [result("p1", 1, wpm=90.0, flagged="pasted")],
                               ended_ms=T0 + 2000))
    await store.save_race(race("c", t2, [result("p1", 1, wpm=99.0)], ended_ms=T0 + 3000))
    await store.rename_player("p1", "Ann", T0 + 4000)
    best = await store.personal_best("p1", t1)
    assert (best["race_id"], best["wpm"], best["name"], best["text_id"]) == ("a", 70.0, "Ann", t1)
    assert (await store.personal_best("p2", t1))["race_id"] == "a"
    assert await store.personal_best("p2", t2) is None


async def test_bests_of_reads_each_players_best_clean_wpm_on_the_text_and_overall(store):
    [t1, t2] = await store.add_texts(PASSAGES[:2], T0)
    assert await store.bests_of(["p1"], t1) == {"p1": Bests(None, None)}
    await store.save_race(race("a", t1, [result("p1", 1, wpm=70.25), result("p2", 2, wpm=60.0)],
                               ended_ms=T0 + 1000))
    await store.save_race(race("b", t1, [result("p1", 1, wpm=90.0, flagged="pasted"),
                                         result("p2", 2, status="dnf", wpm=95.0)],
                               ended_ms=T0 + 2000))
    await store.save_race(race("c", t2, [result("p1", 1, wpm=99.5)], ended_ms=T0 + 3000))
    # Flagged and unfinished results are no bests; p3 has none; ids keep their order.
    assert await store.bests_of(["p2", "p1", "p3"], t1) == {
        "p2": Bests(60.0, 60.0), "p1": Bests(70.25, 99.5), "p3": Bests(None, None)}
    assert await store.bests_of(["p1", "p2"], t2) == {
        "p1": Bests(99.5, 99.5), "p2": Bests(None, 60.0)}
    # A passage that is no text (generated): only the overall best.
    assert await store.bests_of(["p1"], None) == {"p1": Bests(None, 99.5)}
    assert await store.bests_of([], t1) == {}
