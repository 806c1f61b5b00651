"""A store that comes back empty (Redis restarted without persistence) and a room that
fails: the process draws its race texts afresh, and one room's failure never stops
another room's timers or ticks."""

from __future__ import annotations

import logging

import pytest

from tests.redis_fixture import redis_server  # noqa: F401
from tests.stepping import step, synced, until_start
from tests.typist import type_passage

from .rooms import eventually


async def _ready(client, request: dict) -> dict:
    """The reply to `request` once the server reaches Redis again (`unavailable`
    until then, never `internal`)."""
    async def attempt():
        try:
            return await client.request(dict(request))
        except Exception as exc:        # noqa: BLE001 - only `unavailable` is expected
            assert getattr(exc, "code", None) == "unavailable", exc
            return None
    return await eventually(attempt, timeout=20, what=f"{request['type']} answered")


@pytest.mark.parametrize("kind", ["practice", "quick_race"])
async def test_a_redis_restarted_empty_gives_fresh_texts_not_a_broken_room(
        make_server, redis_server, kind, caplog):  # noqa: F811
    server = await make_server(redis_url=redis_server.url, practice_countdown_s=0,
                               countdown_s=0, lobby_wait_s=0, max_wpm=10_000)
    from client_demo.client import Client
    ann = await Client.connect(f"ws://127.0.0.1:{server.port}/ws", "json")
    await ann.hello("Ann")
    before = await ann.request({"type": "practice"})
    await ann.request({"type": "leave"})
    ann.drop_unread()

    redis_server.restart()              # no RDB, no AOF: it comes back empty
    joined = await _ready(ann, {"type": kind})
    assert joined["type"] == "joined"
    countdown = await ann.expect("countdown", timeout=20)
    body = countdown["text"]["body"]
    assert body and countdown["text"]["text_id"] == joined["room"]["text"]["text_id"]
    # Once at most: a draw that hits the cache within a second of the restart (before the
    # library next reads the store's mark) races the cached text and reloads later.
    assert server.library.reloads <= 1
    # The race runs and its result is saved in the new store.
    await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")
    await type_passage(ann, body)
    results = await ann.expect("results", timeout=30)
    assert [r["status"] for r in results["ranking"]] == ["finished"]
    stats = await ann.request({"type": "player_stats"})
    assert stats["races"] == 1
    assert before["room"]["text"]["text_id"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await ann.close()


@pytest.mark.default_transport      # the tick loop's rule: no transport touches it
async def test_one_failing_room_stops_no_other_room(make_stepped_server, connect, caplog):
    server = await make_stepped_server(practice_countdown_s=2, lobby_wait_s=2)
    broken = await connect("Broken", target=server)
    bystander = await connect("Bystander", "msgpack", target=server)
    await broken.request({"type": "quick_race"})
    await bystander.request({"type": "practice"})
    room = server.lobby.room_of(broken.player_id)
    room.text = None            # what a text missing from the store used to leave behind

    countdown = await until_start(server, bystander)     # the bystander's race starts
    left = await broken.expect("left")
    assert left["reason"] == "error"
    assert server.lobby.room(room.room_id) is None and not server.lobby.is_seated(broken.player_id)
    await type_passage(bystander, countdown["text"]["body"][:10], server=server)
    await synced(bystander)
    await step(server)
    tick = await bystander.expect("tick", where=lambda m: m["p"][0][1] == 10)
    assert tick["p"][0][1] == 10
    for _ in range(20):
        await step(server)
    failures = [r for r in caplog.records if "failed in the tick loop" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info    # logged once, with its traceback
    # The failed player can race again at once.
    joined = await broken.request({"type": "practice"})
    assert joined["type"] == "joined"
