"""The store port's competition contract (points per period, the day's boards, pins),
on both adapters: the same saves give the same boards and places."""

from __future__ import annotations

from dataclasses import replace

from server.core import competition
from tests.test_store_contract import (PASSAGES, T0, open_store, race,  # noqa: F401
                                       redis_server, result, store)

DAY = competition.DAY_MS


def pts(r):
    return r.points


async def test_points_add_up_per_day_week_and_all_time_and_a_new_day_starts_at_zero(store):
    [tid] = await store.add_texts(PASSAGES[:1], T0)
    monday = competition.week_window(T0).starts_ms + 10 * 3600_000   # a Monday, 10:00 UTC
    ann, bob = result("ann", 1, wpm=80.0), result("bob", 2, wpm=60.0)
    await store.save_race(race("r1", tid, [ann, bob], ended_ms=monday))
    await store.save_race(race("r2", tid, [result("ann", 1, wpm=70.0)], ended_ms=monday + 60_000))
    day = competition.day_window(monday).key
    week = competition.week_window(monday).key
    ann2 = result("ann", 1, wpm=70.0)
    assert await store.points_board(day) == [
        {"player_id": "ann", "name": "ANN", "points": pts(ann) + pts(ann2), "races": 2},
        {"player_id": "bob", "name": "BOB", "points": pts(bob), "races": 1}]
    assert await store.points_board(week) == await store.points_board(day)
    assert await store.points_board("all") == await store.points_board(day)
    assert await store.points_place(day, "bob") == {"points": pts(bob), "place": 2}
    assert await store.points_place(day, "eve") is None

    # Tuesday: the day's board is new, the week's and all time's go on, Monday's stays.
    tuesday = monday + DAY
    await store.save_race(race("r3", tid, [result("bob", 1, wpm=90.0)], ended_ms=tuesday))
    bob3 = result("bob", 1, wpm=90.0)
    assert [e["player_id"] for e in await store.points_board(
        competition.day_window(tuesday).key)] == ["bob"]
    assert (await store.points_board(day))[1]["points"] == pts(bob)
    week_board = await store.points_board(week)
    assert {e["player_id"]: e["points"] for e in week_board} == {
        "ann": pts(ann) + pts(ann2), "bob": pts(bob) + pts(bob3)}
    # The next Monday starts a new week.
    next_week = competition.week_window(monday + 7 * DAY).key
    assert next_week != week and await store.points_board(next_week) == []


async def test_flagged_and_unfinished_results_earn_nothing_and_a_retry_counts_once(store):
    [tid] = await store.add_texts(PASSAGES[:1], T0)
    results = [result("ann", 1), result("bob", 2, flagged="too fast"),
               result("cid", 3, status="dnf")]
    await store.save_race(race("r1", tid, results))
    await store.save_race(race("r1", tid, results))          # a retry
    board = await store.points_board("all")
    assert [(e["player_id"], e["races"]) for e in board] == [("ann", 1)]
    assert board[0]["points"] == results[0].points > 0
    assert results[1].points == results[2].points == 0


async def test_ties_go_to_who_reached_the_total_first_and_banned_players_leave(store):
    [tid] = await store.add_texts(PASSAGES[:1], T0)
    for i, pid in enumerate(["zed", "amy", "bob"]):
        await store.save_race(race(f"r{i}", tid, [result(pid, 1, wpm=60.0)],
                                   ended_ms=T0 + i * 1000))
    board = await store.points_board("all")
    assert [e["player_id"] for e in board] == ["zed", "amy", "bob"]     # by time, not name
    assert await store.points_place("all", "bob") == {"points": board[0]["points"],
                                                     "place": 3}
    await store.set_banned("zed", True)
    assert [e["player_id"] for e in await store.points_board("all")] == ["amy", "bob"]
    assert (await store.points_place("all", "bob"))["place"] == 2
    await store.set_banned("zed", False)
    assert (await store.points_place("all", "bob"))["place"] == 3


async def test_a_race_on_the_text_of_the_day_goes_on_that_days_board(store):
    a, b = await store.add_texts(PASSAGES[:2], T0)
    at = T0 + 3 * DAY
    fast, slow = result("ann", 1, wpm=90.0), result("bob", 2, wpm=50.0)
    await store.save_race(replace(race("d1", a, [fast, slow], ended_ms=at), daily=True))
    await store.save_race(race("d2", b, [result("cid", 1, wpm=99.0)], ended_ms=at))
    board = competition.daily_board(at, a)
    assert [(e["player_id"], e["wpm"]) for e in await store.day_board(board)] == [
        ("ann", 90.0), ("bob", 50.0)]
    assert await store.day_board_place(board, "bob") == {"best_wpm": 50.0, "place": 2}
    assert await store.day_board_place(board, "cid") is None
    day = competition.day_of(at).isoformat()
    assert await store.daily_texts([day, "1999-01-01"]) == {day: [a], "1999-01-01": []}
    # The same text's board on another day is another board.
    assert await store.day_board(competition.daily_board(at + DAY, a)) == []


async def test_the_operators_pin_is_kept_per_day(open_store):
    store = await open_store()
    assert await store.daily_pin("2026-12-06") is None
    await store.pin_daily_text("2026-12-06", 7)
    await store.pin_daily_text("2026-12-06", 9)
    again = await open_store()
    assert await again.daily_pin("2026-12-06") == 9
    assert await again.daily_pin("2026-12-07") is None


async def test_every_place_counts_the_players_ahead_across_the_histograms_buckets(store):
    # Totals from ~10 to ~8,000 points: past the histogram's exact buckets, into ones
    # 64 points wide, with equal totals broken by time and then by player; the board
    # folded in two steps, the second moving players' totals to other buckets.
    import random
    rng = random.Random(27)
    [tid] = await store.add_texts(PASSAGES[:1], T0)
    totals: dict[str, list] = {}
    n = 0
    for step, players in enumerate((range(150), rng.sample(range(150), 60))):
        for p in players:
            n += 1
            chars = rng.choice([50, 500, 5000, 20000, rng.randrange(50, 40000)])
            r = result(f"p{p:03d}", 1, wpm=60.0, accuracy=1.0)
            r = type(r)(**{**{f: getattr(r, f) for f in r.__slots__}, "pos": chars})
            at = T0 + (n // 7) * 1000            # seven results a second: equal times
            await store.save_race(race(f"h{n}", tid, [r], ended_ms=at))
            kept = totals.setdefault(r.player_id, [0, 0])
            kept[0] += r.points
            kept[1] = at
        if step == 1:
            for pid in ("p007", "p100"):
                await store.set_banned(pid, True)
        shown = sorted((pid for pid in totals if pid not in ("p007", "p100") or step == 0),
                       key=lambda pid: (-totals[pid][0], totals[pid][1], pid))
        assert max(totals[pid][0] for pid in shown) > 4 * 128        # buckets wider than 1
        for place, pid in enumerate(shown, start=1):
            assert await store.points_place("all", pid) == {"points": totals[pid][0],
                                                            "place": place}, pid
