"""Competitions over real sockets: the text of the day and its board, points per UTC day,
ISO week and all time, across midnight and a week's end on a stepped clock; bans, hidden
texts, the operator's pin; two processes on one Redis agreeing."""

from __future__ import annotations

import asyncio
import sys

import pytest

from client_demo.client import Client, ServerError
from protocol import scoring
from server.core import competition
from server.net.clock import ManualClock
from tests.helpers import write_texts
from tests.redis_fixture import redis_server  # noqa: F401
from tests.stepping import step
from tests.typist import practise

DAY = competition.DAY_MS
HUMAN = {"chunk": 2, "pause_s": 0.1}        # 240 WPM: fast, and not flagged
# Two minutes before midnight between a Sunday and a Monday (UTC): the next day is
# also the next ISO week.
MONDAY = competition.week_window(1_700_000_000_000).starts_ms + 7 * DAY
SUNDAY_NIGHT = MONDAY - 120_000


async def client_of(server, name: str) -> Client:
    client = await Client.connect(f"ws://127.0.0.1:{server.port}/ws", "json")
    await client.hello(name)
    return client


@pytest.fixture
async def night(make_server, tmp_path):
    """A server stepped from Sunday 23:58 UTC, with its own texts."""
    return await make_server(clock=ManualClock(SUNDAY_NIGHT), run_ticker=False,
                             texts=write_texts(tmp_path))


async def test_the_days_board_and_points_reset_at_midnight_and_the_week_on_monday(night):
    ann = await client_of(night, "Ann")
    daily = await ann.request({"type": "daily"})
    assert daily["date"] == competition.day_of(SUNDAY_NIGHT).isoformat()
    assert daily["ends_ms"] == MONDAY and daily["top"] == [] and daily["you"] is None
    text = daily["text"]
    assert text["text_id"] in night.library.race_text_ids

    _, results = await practise(ann, text["text_id"], server=night, **HUMAN)
    [mine] = results["ranking"]
    expected = scoring.points(len(text["body"]), mine["wpm"], mine["accuracy"])
    assert mine["points"] == expected > 0

    daily = await ann.request({"type": "daily"})
    assert [e["player_id"] for e in daily["top"]] == [ann.player_id]
    assert daily["you"] == {"best_wpm": mine["wpm"], "place": 1}
    for window in ("day", "week", "all"):
        board = await ann.request({"type": "points_board", "window": window})
        assert board["entries"] == [{"player_id": ann.player_id, "name": "Ann",
                                     "points": expected, "races": 1}], window
        assert board["you"] == {"points": expected, "place": 1}
    assert (await ann.request({"type": "points_board", "window": "week"}))["starts_ms"] == \
        MONDAY - 7 * DAY

    await step(night, 180_000)                 # Monday 00:01 UTC: a new day and week
    monday = await ann.request({"type": "daily"})
    assert monday["date"] == competition.day_of(MONDAY).isoformat()
    assert monday["ends_ms"] == MONDAY + DAY and monday["top"] == [] and monday["you"] is None
    # Yesterday's board stays readable: its winner heads the history.
    assert monday["history"][0]["date"] == daily["date"]
    assert monday["history"][0]["winner"]["player_id"] == ann.player_id
    for window in ("day", "week"):
        board = await ann.request({"type": "points_board", "window": window})
        assert (board["entries"], board["you"]) == ([], None), window
    assert (await ann.request({"type": "points_board", "window": "all"}))["you"] == {
        "points": expected, "place": 1}
    await ann.close()


async def test_a_banned_player_leaves_the_boards_and_a_hidden_daily_text_is_replaced(night):
    ann, bob = await client_of(night, "Ann"), await client_of(night, "Bob")
    first = (await ann.request({"type": "daily"}))["text"]["text_id"]
    await practise(ann, first, server=night, **HUMAN)
    await practise(bob, first, server=night, chunk=2, pause_s=0.15)     # slower: second
    board = await bob.request({"type": "points_board", "window": "day"})
    assert [e["player_id"] for e in board["entries"]] == [ann.player_id, bob.player_id]
    assert board["you"]["place"] == 2

    await night.store.set_banned(ann.player_id, True)       # the operator's ban
    board = await bob.request({"type": "points_board", "window": "day"})
    assert [e["player_id"] for e in board["entries"]] == [bob.player_id]
    assert board["you"]["place"] == 1
    daily = await bob.request({"type": "daily"})
    assert [e["player_id"] for e in daily["top"]] == [bob.player_id]

    # Hidden during its day: the day's text becomes another one for the rest of the
    # day; the hidden text's board keeps what was raced on it.
    await night.store.set_text_hidden(first, True)
    await step(night, 1100)                     # hidden texts are re-read every second
    replaced = await bob.request({"type": "daily"})
    assert replaced["text"]["text_id"] != first and replaced["top"] == []
    kept = await night.store.day_board(competition.daily_board(night.clock.now_ms(), first))
    assert [e["player_id"] for e in kept] == [bob.player_id]     # (ann is banned)
    for client in (ann, bob):
        await client.close()


async def test_unknown_windows_are_refused(night):
    ann = await client_of(night, "Ann")
    for window in ("month", "", "DAY"):
        with pytest.raises(ServerError) as refused:
            await ann.request({"type": "points_board", "window": window})
        assert refused.value.code == "bad_message"
    assert (await ann.request({"type": "points_board", "window": "all"}))["entries"] == []
    await ann.close()


@pytest.mark.default_transport          # the operator's command and the store
async def test_the_operator_pins_the_text_of_the_day(make_server, tmp_path):
    server = await make_server(texts=write_texts(tmp_path))
    ann = await client_of(server, "Ann")
    chosen = (await ann.request({"type": "daily"}))["text"]["text_id"]
    other = next(t for t in server.library.race_text_ids if t != chosen)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "admin", "--db", server.config.db, "daily-text",
        str(other), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err
    assert f"text {other} (" in out.decode() and "is the text of" in out.decode()
    for _ in range(100):                  # the pin is read again within a second
        if (await ann.request({"type": "daily"}))["text"]["text_id"] == other:
            break
        await asyncio.sleep(0.05)
    assert (await ann.request({"type": "daily"}))["text"]["text_id"] == other
    await ann.close()


async def test_two_processes_on_one_redis_agree_on_the_day_and_the_boards(
        make_server, redis_server, tmp_path):  # noqa: F811
    texts = write_texts(tmp_path)
    a, b = [await make_server(redis_url=redis_server.url, texts=texts,
                              practice_countdown_s=0) for _ in range(2)]
    ann, bob = await client_of(a, "Ann"), await client_of(b, "Bob")
    on_a, on_b = await ann.request({"type": "daily"}), await bob.request({"type": "daily"})
    assert on_a["text"] == on_b["text"] and on_a["date"] == on_b["date"]
    _, results = await practise(ann, on_a["text"]["text_id"], **HUMAN)
    points = results["ranking"][0]["points"]
    seen = await bob.request({"type": "daily"})
    assert [e["player_id"] for e in seen["top"]] == [ann.player_id]
    for window in ("day", "week", "all"):
        board = await bob.request({"type": "points_board", "window": window})
        assert [(e["player_id"], e["points"]) for e in board["entries"]] == [
            (ann.player_id, points)]
    for client in (ann, bob):
        await client.close()
