"""Hostile text and key input over real sockets: a text made to be slow to check is
refused while another player's race keeps ticking; Unicode spaces typed as keys type a
space; a flood of typo-and-delete keys leaves a bounded replay."""

from __future__ import annotations

import asyncio
import time

import pytest

from client_demo.client import ServerError
from protocol.messages import BODY_RAW_MAX
from server.core.keylog import key_budget

SLOW_TO_CHECK = "a" + "\u200d" * (BODY_RAW_MAX - 2) + "a"     # 60 KB: took 3.4 s to refuse


async def start_practice(client) -> dict:
    await client.request({"type": "practice"})
    countdown = await client.expect("countdown")
    await client.expect("room", where=lambda m: m["room"]["state"] == "racing")
    return countdown


async def test_a_bystanders_race_keeps_ticking_while_hostile_texts_are_refused(
        make_server, connect):
    server = await make_server(practice_countdown_s=0)
    bystander = await connect("Bystander", target=server)
    hostile = await connect("Mallory", "msgpack", target=server)
    await start_practice(bystander)

    ticks: list[float] = []
    stop = asyncio.Event()

    async def type_and_watch():
        """A typo and its deletion, one key every 50 ms: each changes the race, so a
        tick is due every 100 ms."""
        keys = ["x", "\b"]
        n = 0
        next_at = time.monotonic()
        while not stop.is_set():
            if time.monotonic() >= next_at:
                await bystander.send({"type": "input", "keys": keys[n % 2]})
                n += 1
                next_at += 0.05
            try:
                message = await bystander.recv(max(0.001, next_at - time.monotonic()))
            except (asyncio.TimeoutError, TimeoutError):
                continue
            if message["type"] == "tick":
                ticks.append(time.monotonic())

    typing = asyncio.create_task(type_and_watch())
    try:
        await asyncio.sleep(0.5)                 # the race is ticking
        started = time.monotonic()
        for _ in range(3):
            with pytest.raises(ServerError) as refused:
                await hostile.request({"type": "submit_text", "title": "x",
                                       "body": SLOW_TO_CHECK}, timeout=60)
            assert refused.value.code == "text_invalid"
        refused_in = time.monotonic() - started
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await typing
    during = [t for t in ticks if t >= started - 0.2]
    gaps = [b - a for a, b in zip(during, during[1:])]
    assert len(during) >= 5 and max(gaps) < 1.5, (refused_in, max(gaps, default=None))
    assert refused_in < 3                         # three refusals, each in milliseconds


@pytest.mark.parametrize("space", ["\u00a0", "\u202f", "\u2009", "\u3000"])
async def test_a_unicode_space_typed_as_a_key_types_a_space(make_server, connect, space):
    server = await make_server(practice_countdown_s=0, max_wpm=10000)
    ann = await connect("Ann", target=server)
    body = (await start_practice(ann))["text"]["body"]
    first = body.index(" ")
    await ann.send({"type": "input", "keys": body[:first] + space + body[first + 1]})
    tick = await ann.expect("tick", where=lambda m: m["p"][0][1] >= first + 2)
    assert tick["p"][0][1] == first + 2


async def test_a_key_flood_is_cut_at_the_budget_and_its_replay_stays_small(
        make_server, connect):
    server = await make_server(practice_countdown_s=0, msg_rate=1000)
    ann = await connect("Ann", "msgpack", target=server)
    chars = (await start_practice(ann))["text"]["chars"]
    flood = "x\b" * 1000
    for _ in range(key_budget(chars) // len(flood) + 5):
        await ann.send({"type": "input", "keys": flood})
    refused = await ann.expect("error")
    assert refused["code"] == "not_racing"       # out of keys, alone: the race is over
    results = await ann.expect("results", timeout=30)
    (mine,) = results["ranking"]
    assert mine["status"] == "dnf"
    race = (await ann.request({"type": "replay", "race_id": results["race_id"]}))["race"]
    (log,) = [r["log"] for r in race["results"]]
    assert sum(len(keys) for _, keys in log) == key_budget(chars)
