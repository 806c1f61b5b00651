"""Reports over real sockets: a player-written text reported by enough different
players is hidden everywhere (lists, practice, rooms, statistics), the results raced on
it are kept, and bad reports get clear errors."""

from __future__ import annotations

import pytest

from client_demo.client import Client, ServerError

from .helpers import write_texts
from .rooms import eventually
from .test_accounts import refused
from .typist import practise

BODY = "Plain words that a reader would report for no reason at all."


@pytest.fixture
async def server(make_server, tmp_path):
    return await make_server(texts=write_texts(tmp_path), practice_countdown_s=0,
                             max_wpm=10_000)


async def written_by(client: Client, body: str = BODY) -> int:
    created = await client.request({"type": "submit_text", "title": "Mine", "body": body})
    return created["text"]["text_id"]


async def listed(client: Client) -> list[int]:
    texts = await client.request({"type": "list_texts", "limit": 100})
    assert texts["total"] == len(texts["texts"])
    return [t["text_id"] for t in texts["texts"]]


async def report(client: Client, text_id: int, reason: str = "spam") -> dict:
    return await client.request({"type": "report_text", "text_id": text_id, "reason": reason})


@pytest.mark.default_transport         # a store rule: the default transport is enough
async def test_a_text_three_players_report_is_hidden_everywhere_and_results_stay(connect):
    ann, bob, cy, di = [await connect(name) for name in ("Ann", "Bob", "Cy", "Di")]
    text_id = await written_by(ann)
    _, results = await practise(bob, text_id)
    race_id = results["race_id"]

    reported = await report(bob, text_id, "nonsense")
    assert (reported["type"], reported["text_id"]) == ("reported", text_id)
    await report(bob, text_id, "I said nonsense")     # the same player again: not counted
    await report(cy, text_id)
    assert text_id in await listed(di)
    await report(di, text_id, "rude")                  # the third different player

    assert text_id not in await listed(ann)
    mine = await ann.request({"type": "list_texts", "author": ann.player_id})
    assert mine["total"] == 0 and mine["texts"] == []
    for message in [{"type": "practice", "text_id": text_id},
                    {"type": "text_stats", "text_id": text_id},
                    {"type": "leaderboard", "text_id": text_id},
                    {"type": "create_room", "settings": {"text_id": text_id}},
                    {"type": "report_text", "text_id": text_id, "reason": "again"}]:
        assert (await refused(ann, message))["code"] == "text_not_found", message
    # What was raced on it stays: the racer's statistics; its replay is refused (the
    # keystroke logs would rebuild the hidden body).
    assert (await refused(bob, {"type": "replay", "race_id": race_id}))[
        "code"] == "text_not_found"
    recent = (await bob.request({"type": "player_stats"}))["recent"]
    assert [r["race_id"] for r in recent] == [race_id]
    # Its body is still taken: a copy is not a way around the hiding.
    assert (await refused(cy, {"type": "submit_text", "title": "Again", "body": BODY}))[
        "code"] == "text_invalid"


@pytest.mark.default_transport         # a store rule: the default transport is enough
async def test_the_threshold_is_a_flag_and_library_texts_are_never_hidden_by_reports(
        make_server, tmp_path):
    server = await make_server(texts=write_texts(tmp_path), report_threshold=1,
                               practice_countdown_s=0)
    url = f"ws://127.0.0.1:{server.port}/ws"
    ann = await Client.connect(url, "msgpack")
    await ann.hello("Ann")
    library = await listed(ann)
    mine = await written_by(ann)
    await report(ann, library[0])
    await report(ann, mine)
    assert await listed(ann) == library                  # one report was enough for mine
    joined = await ann.request({"type": "practice", "text_id": library[0]})
    assert joined["room"]["settings"]["text_id"] == library[0]
    await ann.close()


@pytest.mark.default_transport         # a store rule: the default transport is enough
async def test_races_never_draw_a_hidden_text(server, connect):
    """The operator hid a library text from another process: within the refresh, no
    practice or quick race draws it; with every race text hidden, a clear error."""
    ann = await connect("Ann")
    first, second = sorted(server.library.race_text_ids)
    assert await server.store.set_text_hidden(first, True) is False
    await eventually(_hidden_now(server, first), what="the server sees the hidden text")
    for _ in range(8):
        await ann.request({"type": "practice"})
        countdown = await ann.expect("countdown")
        assert countdown["text"]["text_id"] == second
        await ann.request({"type": "leave"})
        ann.drop_unread()
    await server.store.set_text_hidden(second, True)
    await eventually(_hidden_now(server, second), what="both hidden")
    for kind in ("practice", "quick_race"):
        error = await refused(ann, {"type": kind})
        assert error["code"] == "text_not_found" and "hidden" in error["message"]


def _hidden_now(server, text_id):
    async def check():
        return text_id in await server.library.hidden()
    return check


BAD_REPORTS = [
    {"type": "report_text", "reason": "spam"},
    {"type": "report_text", "text_id": 1},
    {"type": "report_text", "text_id": "1", "reason": "spam"},
    {"type": "report_text", "text_id": 0, "reason": "spam"},
    {"type": "report_text", "text_id": -3, "reason": "spam"},
    {"type": "report_text", "text_id": 2**53 + 1, "reason": "spam"},
    {"type": "report_text", "text_id": True, "reason": "spam"},
    {"type": "report_text", "text_id": 1.5, "reason": "spam"},
    {"type": "report_text", "text_id": 1, "reason": ""},
    {"type": "report_text", "text_id": 1, "reason": 7},
    {"type": "report_text", "text_id": 1, "reason": ["spam"]},
    {"type": "report_text", "text_id": 1, "reason": "x" * 201},
]


@pytest.mark.parametrize("codec", ["json", "msgpack"])
async def test_bad_reports_get_a_clear_error_and_count_nothing(make_server, tmp_path, codec):
    server = await make_server(texts=write_texts(tmp_path), report_threshold=1)
    client = await Client.connect(f"ws://127.0.0.1:{server.port}/ws", codec)
    await client.hello("Kit")
    text_id = await written_by(client)
    for n, message in enumerate(BAD_REPORTS):
        bad = {**message, "id": 50 + n}
        if bad.get("text_id") == 1 and type(bad["text_id"]) is int:   # (True == 1)
            bad["text_id"] = text_id
        await client.send(bad)
        error = await client.expect("error")
        assert (error["code"], error["id"]) == ("bad_message", 50 + n), message
    assert (await refused(client, {"type": "report_text", "text_id": text_id + 999,
                                   "reason": "spam"}))["code"] == "text_not_found"
    assert text_id in await listed(client)                 # nothing was counted
    assert (await report(client, text_id, "x" * 200))["text_id"] == text_id
    assert text_id not in await listed(client)
    await client.close()


async def test_a_report_needs_a_hello_first(connect):
    client = await connect(None)
    with pytest.raises(ServerError) as error:
        await report(client, 1)
    assert error.value.code == "not_hello"


async def test_reports_are_limited_per_player(connect):
    """Ten at once, then 30 an hour: a script can't turn the message rate into writes."""
    ann, bob = await connect("Ann"), await connect("Bob")
    text_id = await written_by(ann)
    for _ in range(10):
        await report(bob, text_id)
    assert (await refused(bob, {"type": "report_text", "text_id": text_id,
                                "reason": "more"}))["code"] == "rate_limited"
    assert (await report(ann, text_id))["text_id"] == text_id      # others still may
