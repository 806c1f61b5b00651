"""A racer whose room runs on another process types through a Redis restart: its keys,
relayed over Redis, are held while Redis is away and replayed in order when it is back
(or, past the bound, refused with `unavailable` so that the client sends them again)."""

from __future__ import annotations

import asyncio

import pytest

from client_demo.client import ServerError
from tests.helpers import write_texts
from tests.redis_fixture import redis_server  # noqa: F401

SECRET = "one secret for the whole cluster"


async def _until(check, what: str, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.02)        # polling a condition, not a timed wait


def _with_typos(body: str) -> tuple[list[str], float]:
    """`body` as inputs of 5 keys, a wrong key (then backspace) in every other one;
    and the accuracy they must give (correct keystrokes / keystrokes)."""
    wrong = next(c for c in "#@%~^" if c not in body)
    inputs, typos = [], 0
    for n, i in enumerate(range(0, len(body), 5)):
        chunk = body[i:i + 5]
        if n % 2 and len(chunk) > 2:     # (a wrong key after the last one would not count)
            chunk, typos = chunk[:2] + wrong + "\b" + chunk[2:], typos + 1
        inputs.append(chunk)
    return inputs, len(body) / (len(body) + typos)


async def _race_across(make_server, redis_url: str, connect, tmp_path):
    """Ann on the room's owner, Bob on the other process; the race is on. The texts are
    short, so that typing one is a handful of inputs, well within the message rate."""
    texts = write_texts(tmp_path)
    owner = await make_server(redis_url=redis_url, secret=SECRET, countdown_s=1, texts=texts)
    edge = await make_server(redis_url=redis_url, secret=SECRET, countdown_s=1, texts=texts)
    ann = await connect("Ann", "json", target=owner)
    bob = await connect("Bob", "msgpack", target=edge)
    room_id = (await ann.request({"type": "quick_race"}))["room"]["room_id"]
    assert (await bob.request({"type": "quick_race"}))["room"]["room_id"] == room_id
    assert owner.lobby.room(room_id) is not None        # Bob's keys go over Redis
    body = (await bob.expect("countdown"))["text"]["body"]
    await bob.expect("room", where=lambda m: m["room"]["state"] == "racing")
    return owner, edge, ann, bob, body


async def _finish_both(ann, bob, body: str, accuracy: float) -> None:
    await bob.expect("finish", timeout=20)
    await ann.send({"type": "input", "keys": body})
    results = await bob.expect("results", timeout=20)
    mine = next(r for r in results["ranking"] if r["name"] == "Bob")
    assert mine["status"] == "finished"
    assert mine["accuracy"] == pytest.approx(accuracy, abs=1e-3)


async def test_relayed_keys_typed_while_redis_restarts_all_count(
        make_server, redis_server, connect, tmp_path):  # noqa: F811
    owner, edge, ann, bob, body = await _race_across(make_server, redis_server.url, connect,
                                                       tmp_path)
    inputs, accuracy = _with_typos(body)
    half = len(inputs) // 2
    redis_server.stop()
    for keys in inputs[:half]:
        await bob.send({"type": "input", "keys": keys})
    await bob.request({"type": "ping"})                     # the edge has taken them all
    bus = edge.live.cluster.bus
    # The edge tried to send them while Redis was down (held now; dropped before).
    await _until(lambda: bus.backlog(owner.live.cluster.node) > 0 or bus.dropped > 0,
                 "the edge never tried to send the keys")
    redis_server.start()
    for keys in inputs[half:]:          # at once: behind the held ones, never before them
        await bob.send({"type": "input", "keys": keys})
    await _finish_both(ann, bob, body, accuracy)
    assert bus.backlog(owner.live.cluster.node) == 0


async def test_past_the_bound_relayed_keys_are_refused_and_sent_again(
        make_server, redis_server, connect, tmp_path):  # noqa: F811
    owner, edge, ann, bob, body = await _race_across(make_server, redis_server.url, connect,
                                                       tmp_path)
    inputs, accuracy = _with_typos(body)
    bus = edge.live.cluster.bus
    bus.hold_bytes = 1                  # the first held batch fills it
    node = owner.live.cluster.node
    redis_server.stop()
    await bob.send({"type": "input", "keys": inputs[0]})
    await _until(lambda: bus.backlog(node) > 0, "nothing was held")
    with pytest.raises(ServerError) as refused:
        await bob.request({"type": "input", "keys": inputs[1]})
    assert refused.value.code == "unavailable"
    redis_server.start()
    await _until(lambda: bus.backlog(node) == 0, "the held keys were never sent")
    for keys in inputs[1:]:             # the client sends the refused keys again
        await bob.send({"type": "input", "keys": keys})
    await _finish_both(ann, bob, body, accuracy)
