"""Routing a room's players to its process: the room code carries the process's tag
(--route-tag), the clients put it in the WebSocket URL (/ws?room=CODE), and the shipped
HAProxy config (deploy/haproxy.cfg, run here by a real haproxy) sends every connection
that names a room to the process that owns it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys

import pytest

from client_demo.client import Client, room_url
from server.net.codes import CODE_ALPHABET, code_maker
from tests.helpers import http_get, json_body, unavailable
from tests.redis_fixture import free_port, redis_server  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "deploy", "haproxy.cfg")


def test_a_tagged_process_starts_every_code_with_its_tag():
    for tag in (0, 1, 31):
        make = code_maker(tag)
        codes = {make() for _ in range(200)}
        assert all(len(c) == 6 and c[0] == CODE_ALPHABET[tag] for c in codes)
        assert len(codes) > 190                         # the rest is random
    untagged = {code_maker(None)()[0] for _ in range(400)}
    assert len(untagged) > 20


def test_the_room_code_rides_in_the_websocket_url():
    assert room_url("ws://h:1/ws", "AB2345") == "ws://h:1/ws?room=AB2345"
    assert room_url("ws://h:1/ws?x=1&room=OLD", "NEW234") == "ws://h:1/ws?x=1&room=NEW234"
    assert room_url("ws://h:1/ws", None) == "ws://h:1/ws"


async def test_a_room_code_in_the_url_changes_nothing_for_the_server(server, connect):
    ann = await connect("Ann")
    code = (await ann.request({"type": "create_room"}))["room"]["code"]
    bob = await Client.connect(room_url(f"ws://127.0.0.1:{server.port}/ws", code), "msgpack")
    await bob.hello("Bob")
    joined = await bob.request({"type": "join_room", "code": code})
    assert joined["room"]["code"] == code
    await bob.close()


async def _process(port: int, tag: int, redis_url: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--port", str(port), "--route-tag", str(tag),
        "--redis-url", redis_url, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert b"listening" in line, line
    return proc


async def _connections(port: int) -> int:
    status, _, body = await http_get(port, "/healthz")
    assert status == 200
    return json_body(body)["connections"]


@pytest.mark.default_transport         # the balancer, not the WebSocket library
async def test_haproxy_sends_every_connection_of_a_room_to_the_process_that_owns_it(
        redis_server):  # noqa: F811
    if shutil.which("haproxy") is None:
        unavailable("haproxy not found (apt-get install haproxy)")
    ports = [free_port(), free_port()]
    front = free_port()
    procs = [await _process(port, tag, redis_server.url) for tag, port in enumerate(ports)]
    env = {**os.environ, "TYPERACE_FRONT": f"127.0.0.1:{front}",
           "TYPERACE_P0": f"127.0.0.1:{ports[0]}", "TYPERACE_P1": f"127.0.0.1:{ports[1]}"}
    haproxy = await asyncio.create_subprocess_exec(
        "haproxy", "-db", "-f", CONFIG, env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    clients: list[Client] = []
    try:
        url = f"ws://127.0.0.1:{front}/ws"
        for _ in range(100):                    # haproxy is starting
            try:
                clients.append(await Client.connect(url, "msgpack"))
                break
            except OSError:
                await asyncio.sleep(0.05)
        hosts = clients[:1] + [await Client.connect(url, "msgpack") for _ in range(3)]
        clients[1:] = hosts[1:]
        codes = []
        for i, host in enumerate(hosts):
            await host.hello(f"Host{i}")
            codes.append((await host.request({"type": "create_room"}))["room"]["code"])
        owners = [CODE_ALPHABET.index(code[0]) for code in codes]
        assert set(owners) == {0, 1}        # leastconn spread the hosts over both

        # Each guest following an invite link lands on the room's own process: two a
        # room, one after the other, so that without the routing leastconn would send
        # the second away (its process then has more connections than the other).
        order = sorted([(owner, code) for code, owner in zip(codes, owners)] * 2)
        for i, (owner, code) in enumerate(order):
            before = [await _connections(port) for port in ports]
            guest = await Client.connect(room_url(url, code), "msgpack")
            clients.append(guest)
            await guest.hello(f"Guest{i}")
            await guest.request({"type": "join_room", "code": code})
            after = [await _connections(port) for port in ports]
            assert after[owner] == before[owner] + 1, (i, owners, before, after)

        # Process 0 dies: a connection sent its way (by leastconn, or by its room's
        # code) goes to process 1 at once, before the health checks mark 0 down.
        procs[0].kill()
        await procs[0].wait()
        loop = asyncio.get_running_loop()
        killed = loop.time()
        dead_code = next(code for code, owner in zip(codes, owners) if owner == 0)
        for i in range(6):
            back = await Client.connect(room_url(url, dead_code if i % 2 else None), "msgpack")
            clients.append(back)
            await back.hello(f"Back{i}")
        assert loop.time() - killed < 1.5
    finally:
        for client in clients:
            await client.close()
        haproxy.send_signal(signal.SIGTERM)
        await haproxy.wait()
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 30)
