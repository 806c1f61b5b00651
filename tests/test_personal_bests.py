"""Personal bests in `results`: each saved racer's entry says whether the result is a
new best on the text and overall (`new_best`) and what the text's best was before
(`previous_best_wpm`), from the saved results. The store's read is in
tests/test_store_contract.py (both adapters); this is the whole path on a real server."""

from __future__ import annotations

import logging

import pytest

from server.core.results import Result
from server.net.bests import bests_before
from server.store.sqlite import SqliteStore

from tests.stepping import step_past
from tests.typist import type_passage

SLOW, FAST = 0.5, 0.1      # seconds between inputs (on the stepped clock)
FIRST = "Personal bests are read before the results are saved."
SECOND = "A second text has a best of its own, apart from the first."


async def own_text(client, body: str, title: str) -> int:
    reply = await client.request({"type": "submit_text", "title": title, "body": body})
    return reply["text"]["text_id"]


async def race(client, server, text_id: int, pause_s: float) -> dict:
    """A practice race on the text at a steady pace; its ranking entry. (Each race is a
    new room: earlier races' messages, still unread, are told apart by race id.)"""
    joined = await client.request({"type": "practice", "text_id": text_id})
    room_id = joined["room"]["room_id"]
    countdown = await client.expect(
        "countdown", where=lambda m: m["race_id"].startswith(room_id + "."))
    await step_past(server, countdown["start_server_ms"])
    await client.expect("room", where=lambda m: m["room"]["room_id"] == room_id
                        and m["room"]["state"] == "racing")
    await type_passage(client, countdown["text"]["body"], chunk=8, pause_s=pause_s,
                       server=server)
    results = await client.expect("results", timeout=30,
                                  where=lambda m: m["race_id"] == countdown["race_id"])
    [entry] = results["ranking"]
    assert entry["status"] == "finished" and entry["flagged"] is None
    return entry


@pytest.mark.default_transport   # a rule about saved results: the transport plays no part
async def test_results_announce_new_bests_on_the_text_and_overall(make_stepped_server, connect):
    server = await make_stepped_server(practice_countdown_s=0, max_wpm=10_000)
    ann = await connect("Ann", target=server)
    first = await own_text(ann, FIRST, "First")
    second = await own_text(ann, SECOND, "Second")

    slow = await race(ann, server, first, SLOW)         # a first result is a best of both
    assert (slow["new_best"], slow["previous_best_wpm"]) == (["text", "overall"], None)

    fast = await race(ann, server, first, FAST)
    assert fast["wpm"] > slow["wpm"]
    assert (fast["new_best"], fast["previous_best_wpm"]) == (["text", "overall"], slow["wpm"])

    again = await race(ann, server, first, SLOW)        # slower than the best: nothing new
    assert (again["new_best"], again["previous_best_wpm"]) == ([], fast["wpm"])

    other = await race(ann, server, second, SLOW)       # the text's first, not the fastest
    assert other["wpm"] < fast["wpm"]
    assert (other["new_best"], other["previous_best_wpm"]) == (["text"], None)


async def test_results_go_out_without_bests_when_the_store_cannot_be_read(tmp_path, caplog):
    """The read is only for telling: if it fails, the results are saved and sent as
    always, without the two fields (and the failure is one log line)."""
    store = SqliteStore(str(tmp_path / "closed.db"))
    await store.open()
    await store.close()                                   # every read now fails
    ann = Result("p1", "Ann", 0, 1, "finished", 60.0, 1.0, 5000, 25, 25, 25, [])
    with caplog.at_level(logging.WARNING, logger="typerace"):
        assert await bests_before(store, [ann], 1) == {}
    assert [r.getMessage() for r in caplog.records] == ["bests_unread"]

    opened = SqliteStore(str(tmp_path / "open.db"))
    await opened.open()
    try:
        assert await bests_before(opened, [ann], 1) == {
            0: {"new_best": ["text", "overall"], "previous_best_wpm": None}}
    finally:
        await opened.close()
