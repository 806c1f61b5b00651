"""Racing a ghost over real sockets: a saved result typed again by the server."""

from __future__ import annotations

import asyncio

import pytest

from client_demo.client import ServerError
from tests.typist import practise, type_passage

SHORT = "Ghosts type what was typed, when it was typed."


# Ghosts are game rules (a saved key log raced again): the default transport is enough.
pytestmark = pytest.mark.default_transport


async def setup(make_server, connect):
    server = await make_server(practice_countdown_s=0, max_wpm=10000)
    ann = await connect("Ann", target=server)
    text_id = (await ann.request({"type": "submit_text", "title": "Ghost text",
                                  "body": SHORT}))["text"]["text_id"]
    return server, ann, text_id


async def saved_race_of(client) -> str:
    """The race_id of the client's latest saved result: a race left before its end is
    saved a moment later, unseen by the one who left."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        recent = (await client.request({"type": "player_stats"}))["recent"]
        if recent:
            return recent[0]["race_id"]
        assert asyncio.get_running_loop().time() < deadline, "the race was never saved"
        await asyncio.sleep(0.05)          # polling a condition, not a timed wait


async def race_the_ghost(client, request: dict) -> tuple[dict, list[dict], dict, dict]:
    """Practise against a ghost, typing only once the ghost finished: (joined, ticks,
    the ghost's finish, results)."""
    joined = await client.request(request)
    body = (await client.expect("countdown"))["text"]["body"]
    ghost_slot = next(p["slot"] for p in joined["room"]["players"] if p.get("ghost"))
    finish = await client.expect("finish", where=lambda m: m["slot"] == ghost_slot)
    ticks = [m for m in client.seen if m["type"] == "tick"]
    await type_passage(client, body)
    results = await client.expect("results", timeout=30)
    return joined, ticks, finish, results


async def test_a_players_best_is_raced_again_keystroke_by_keystroke_and_not_saved(
        make_server, connect):
    server, ann, text_id = await setup(make_server, connect)
    _, first = await practise(ann, text_id, chunk=3, pause_s=0.05)
    [best] = first["ranking"]

    joined, ticks, finish, results = await race_the_ghost(
        ann, {"type": "practice", "text_id": text_id, "ghost": "best"})
    assert joined["slot"] == 0
    assert joined["room"]["players"] == [
        {"slot": 0, "player_id": ann.player_id, "name": "Ann", "connected": True,
         "rtt_ms": None},
        {"slot": 1, "player_id": ann.player_id, "name": "Ann", "connected": True,
         "rtt_ms": None, "ghost": True}]
    # The ghost moved through the passage in ticks, as a racer does, and finished at
    # its saved time with its saved score.
    ghost_positions = [p[1] for t in ticks for p in t["p"] if p[0] == 1]
    assert any(0 < pos < len(SHORT) for pos in ghost_positions)
    assert ghost_positions == sorted(ghost_positions)
    assert (finish["race_ms"], finish["wpm"], finish["accuracy"], finish["place"]) == (
        best["race_ms"], best["wpm"], best["accuracy"], 1)
    ghost = next(r for r in results["ranking"] if r.get("ghost"))
    mine = next(r for r in results["ranking"] if not r.get("ghost"))
    assert (ghost["slot"], ghost["place"], ghost["race_ms"], ghost["status"]) == (
        1, 1, best["race_ms"], "finished")
    assert (mine["slot"], mine["place"], mine["status"]) == (0, 2, "finished")

    # Only the live racer's result was saved.
    saved = await server.store.get_race(results["race_id"])
    assert [r.slot for r in saved.results] == [0]
    assert (await ann.request({"type": "player_stats"}))["races"] == 2


async def test_the_texts_record_and_any_saved_result_can_be_raced(make_server, connect):
    server, ann, text_id = await setup(make_server, connect)
    _, first = await practise(ann, text_id)
    bob = await connect("Bob", target=server)

    joined, _, finish, _ = await race_the_ghost(
        bob, {"type": "practice", "text_id": text_id, "ghost": "top"})
    [ghost] = [p for p in joined["room"]["players"] if p.get("ghost")]
    assert (ghost["player_id"], ghost["name"]) == (ann.player_id, "Ann")
    assert finish["race_ms"] == first["ranking"][0]["race_ms"]

    # By race id and slot, without a text id: the race's own text.
    joined, _, finish, results = await race_the_ghost(
        bob, {"type": "practice", "ghost": {"race_id": first["race_id"], "slot": 0}})
    assert joined["room"]["text"]["text_id"] == text_id
    assert finish["race_ms"] == first["ranking"][0]["race_ms"]
    assert {r["name"] for r in results["ranking"]} == {"Ann", "Bob"}


async def test_nothing_to_replay_is_a_clear_error_and_the_connection_lives_on(
        make_server, connect):
    server, ann, text_id = await setup(make_server, connect)
    cases = [
        ({"ghost": "best"}, "bad_message"),                          # needs a text
        ({"text_id": text_id, "ghost": "best"}, "ghost_not_found"),  # no result yet
        ({"text_id": text_id, "ghost": "top"}, "ghost_not_found"),
        ({"ghost": {"race_id": "r0.1", "slot": 0}}, "ghost_not_found"),
        ({"ghost": {"race_id": "r0.1"}}, "bad_message"),
        ({"ghost": "fastest"}, "bad_message"),
        ({"text_id": 10**9, "ghost": "top"}, "text_not_found"),
    ]
    for fields, code in cases:
        with pytest.raises(ServerError) as refused:
            await ann.request({"type": "practice", **fields})
        assert refused.value.code == code, fields

    # A result that did not finish is no ghost; nor is a result on another text.
    await ann.request({"type": "practice", "text_id": text_id})
    await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")
    await ann.send({"type": "input", "keys": SHORT[:5]})
    left = await ann.request({"type": "leave"})
    assert left["type"] == "left"
    race_id = await saved_race_of(ann)
    with pytest.raises(ServerError) as unfinished:
        await ann.request({"type": "practice", "ghost": {"race_id": race_id, "slot": 0}})
    assert unfinished.value.code == "ghost_not_found"
    other = (await ann.request({"type": "submit_text", "title": "Other",
                                "body": "Another passage entirely, for this test."}))
    _, done = await practise(ann, text_id)
    with pytest.raises(ServerError) as elsewhere:
        await ann.request({"type": "practice", "text_id": other["text"]["text_id"],
                           "ghost": {"race_id": done["race_id"], "slot": 0}})
    assert elsewhere.value.code == "ghost_not_found"
    assert (await ann.request({"type": "ping"}))["type"] == "pong"
