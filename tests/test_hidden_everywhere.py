"""A hidden text is hidden everywhere but to the operator: no replay rebuilds its body
from a racer's keystrokes, and a private room chosen on it before the hide never sends
it in a countdown."""

from __future__ import annotations

import pytest

from .helpers import write_texts
from .rooms import eventually
from .test_accounts import refused
from .typist import practise


@pytest.fixture
async def server(make_server, tmp_path):
    return await make_server(texts=write_texts(tmp_path), practice_countdown_s=0,
                             max_wpm=10_000)


def _hidden_now(server, text_id):
    async def check():
        return text_id in await server.library.hidden()
    return check


async def test_a_replay_of_a_race_on_a_hidden_text_is_refused(server, connect):
    ann = await connect("Ann")
    bob = await connect("Bob", "msgpack")
    text_id = sorted(server.library.race_text_ids)[0]
    countdown, results = await practise(ann, text_id)
    race_id = results["race_id"]
    replay = await bob.request({"type": "replay", "race_id": race_id})
    assert replay["race"]["results"][0]["log"]            # shown while the text is not hidden

    assert await server.store.set_text_hidden(text_id, True) is False   # the operator hides it
    await eventually(_hidden_now(server, text_id), what="the server sees the hidden text")
    for client in (ann, bob):           # the racer herself too: hidden is hidden
        error = await refused(client, {"type": "replay", "race_id": race_id})
        assert error["code"] == "text_not_found" and "hidden" in error["message"]
    stats = await ann.request({"type": "player_stats"})
    assert [r["race_id"] for r in stats["recent"]] == [race_id]    # the result is kept

    await server.store.set_text_hidden(text_id, False)           # restored: replays again
    await eventually(lambda: _not_hidden(server, text_id), what="the restore seen")
    replay = await bob.request({"type": "replay", "race_id": race_id})
    assert replay["race"]["text"]["body"] == countdown["text"]["body"]


async def _not_hidden(server, text_id):
    return text_id not in await server.library.hidden()


async def test_a_private_room_whose_text_was_hidden_does_not_start(server, connect):
    host = await connect("Host")
    guest = await connect("Guest", "msgpack")
    hidden_id, other_id = sorted(server.library.race_text_ids)[:2]
    created = await host.request({"type": "create_room",
                                  "settings": {"text_id": hidden_id, "countdown_s": 0}})
    await guest.request({"type": "join_room", "code": created["room"]["code"]})
    await host.expect("room", where=lambda m: len(m["room"]["players"]) == 2)

    await server.store.set_text_hidden(hidden_id, True)
    await eventually(_hidden_now(server, hidden_id), what="the server sees the hidden text")
    error = await refused(host, {"type": "start"})
    assert error["code"] == "text_not_found" and "hidden" in error["message"]
    assert "configure" in error["message"]          # the host is told what to do

    # The host picks another text; the first countdown anyone sees carries that one.
    await host.send({"type": "configure", "settings": {"text_id": other_id}})
    await host.expect("room", where=lambda m: m["room"]["text"]["text_id"] == other_id)
    await host.send({"type": "start"})
    for client in (host, guest):
        countdown = await client.expect("countdown")
        assert countdown["text"]["text_id"] == other_id
