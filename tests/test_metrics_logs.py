"""GET /metrics (Prometheus text format) and the structured log lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed

from client_demo.client import ServerError
from server.net.logs import TextFormatter, event


async def scrape(server) -> dict:
    """{(name, labels as a sorted tuple): value} from the server's /metrics."""
    def get():
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
            return r.read().decode()
    samples = {}
    for family in text_string_to_metric_families(await asyncio.to_thread(get)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def race_once(server, connect):
    ann = await connect("Ann", target=server)
    bob = await connect("Bob", target=server, codec="msgpack")
    room = (await ann.request({"type": "create_room"}))["room"]
    await bob.request({"type": "join_room", "code": room["code"]})
    await ann.send({"type": "start"})
    body = (await ann.expect("countdown"))["text"]["body"]
    await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")
    for client in (ann, bob):
        await client.send({"type": "input", "keys": body})
    await ann.expect("results")
    await bob.expect("results")
    return ann, bob


async def test_metrics_count_what_happened_on_this_server_only(make_server, connect):
    server = await make_server(countdown_s=0, msg_rate=1, msg_burst=8)
    other = await make_server()                   # its own registry: counts stay apart
    ann, bob = await race_once(server, connect)
    eve = await connect("Eve", target=server)
    with pytest.raises(ServerError) as refused:
        await eve.request({"type": "leave"})
    assert refused.value.code == "not_in_room"

    m = await scrape(server)
    assert m[("typerace_connections", ())] == 3
    assert m[("typerace_players", ())] == 3
    assert m[("typerace_seated_players", ())] == 2
    assert m[("typerace_spectators", ())] == 0
    assert m[("typerace_rooms", (("state", "finished"),))] == 1
    assert m[("typerace_rooms", (("state", "racing"),))] == 0
    assert m[("typerace_races_finished_total", ())] == 1
    assert m[("typerace_messages_in_total", (("type", "input"),))] == 2
    assert m[("typerace_messages_in_total", (("type", "hello"),))] == 3
    assert m[("typerace_messages_out_total", ())] > 10
    assert m[("typerace_errors_total", (("code", "not_in_room"),))] == 1
    assert m[("typerace_tick_seconds_count", ())] > 0
    assert m[("typerace_input_seconds_count", ())] == 2
    assert m[("typerace_draining", ())] == 0

    # A flood shows up as rate-limited messages, then a dropped client.
    for _ in range(40):
        try:
            await eve.send({"type": "list_races"})
        except Exception:
            break
    with pytest.raises(ConnectionClosed) as closed:
        while True:                      # read what came back, up to the close
            await eve.recv(timeout=10)
    assert closed.value.rcvd.code == 1008
    m = await scrape(server)
    assert m[("typerace_dropped_clients_total", (("reason", "flood"),))] == 1
    assert m[("typerace_rate_limited_total", ())] >= 8

    o = await scrape(other)
    assert o[("typerace_races_finished_total", ())] == 0
    assert o[("typerace_connections", ())] == 0


async def test_healthz_says_draining_with_503(make_server):
    server = await make_server()
    server.lobby.drain()

    def get():
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=10)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
    status, body = await asyncio.to_thread(get)
    assert status == 503 and body["status"] == "draining"


async def test_one_json_log_line_per_connection_race_and_error(make_server, connect, json_log):
    server = await make_server(countdown_s=0)
    ann, bob = await race_once(server, connect)
    with pytest.raises(ServerError):
        await ann.request({"type": "no_such_thing"})
    await bob.close()
    for _ in range(200):
        if any(line["event"] == "conn_close" for line in json_log()):
            break
        await asyncio.sleep(0.02)

    lines = json_log()
    events = [line["event"] for line in lines]
    assert events.count("conn_open") == 2
    assert events.count("race_start") == 1 and events.count("race_finish") == 1
    assert events.count("conn_close") == 1
    error = next(line for line in lines if line["event"] == "error")
    assert error["code"] == "unknown_type" and error["player"] == ann.player_id
    finish = next(line for line in lines if line["event"] == "race_finish")
    assert finish["racers"] == 2 and finish["finished"] == 2
    closed = next(line for line in lines if line["event"] == "conn_close")
    assert closed["player"] == bob.player_id and closed["code"] == 1000
    assert all(line["ts"].endswith("Z") and line["level"] == "info" for line in lines)


def test_text_log_lines_are_key_value_and_quote_what_needs_it():
    stream = io.StringIO()
    logger = logging.getLogger("typerace.test_text")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        event(logger, "conn_close", ip="10.0.0.3", reason="no hello in time", code=1008)
        logger.info("plain %s", "message")
    finally:
        logger.removeHandler(handler)
    first, second = stream.getvalue().splitlines()
    assert first.endswith('info typerace.test_text conn_close ip=10.0.0.3 '
                          'reason="no hello in time" code=1008')
    assert second.endswith("info typerace.test_text plain message")
