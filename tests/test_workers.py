"""`python -m server --workers N`: N processes behind one port (the supervisor hands each
connection to a worker, a room's to its own), acting as one server through Redis."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys

from client_demo.client import Client, room_url
from server.net.codes import CODE_ALPHABET
from tests.redis_fixture import redis_server  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _healthz(port: int, room: str | None = None) -> dict | None:
    """The /healthz of the worker the supervisor hands the request to (the owner of
    `room` when given, else the next in turn)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    target = f"/healthz?room={room}" if room else "/healthz"
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    try:
        data = await reader.read()
    except ConnectionResetError:          # handed to a worker as it was killed
        return None
    writer.close()
    if not data.startswith(b"HTTP/1.1 200"):
        return None
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


async def _both_workers_listen(port: int) -> None:
    """Poll /healthz until both workers have answered (they are starting)."""
    nodes = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while len(nodes) < 2:
        assert loop.time() < deadline, f"saw workers {nodes}"
        health = await _healthz(port)
        if health is None:
            await asyncio.sleep(0.1)      # polling: the workers are starting
            continue
        nodes.add(health["node"])


async def test_workers_share_one_port_and_act_as_one_server(
        redis_server, tmp_path, transport):  # noqa: F811
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--workers", "2", "--port", str(port),
        "--redis-url", redis_server.url, "--countdown-s", "1", "--transport", transport, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        await _both_workers_listen(port)      # new connections land on either worker

        # Players on whichever worker still meet in one room.
        url = f"ws://127.0.0.1:{port}/ws"
        clients = [await Client.connect(url, "json") for _ in range(6)]
        for i, client in enumerate(clients):
            await client.hello(f"W{i}")
        rooms = set()
        for client in clients[:2]:
            rooms.add((await client.request({"type": "quick_race"}))["room"]["room_id"])
        assert len(rooms) == 1
        # The racers leave (a seat held for a dropped racer would keep its room's
        # countdown or race running, and the SIGTERM below would wait out the drain).
        for client in clients[:2]:
            await client.request({"type": "leave"})
        for client in clients:
            await client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0


async def test_workers_without_redis_is_a_clear_error():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--workers", "2", cwd=ROOT,
        stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert b"--workers above 1 needs --redis-url" in err


async def test_workers_past_the_last_route_tag_are_a_clear_error():
    status, lines = await _refused("--workers", "3", "--route-tag", "30", "--redis-url",
                                   f"redis://127.0.0.1:{_free_port()}/0", "--port", "1")
    assert status == 2 and len(lines) == 1
    assert "--workers 3 gives each worker its own route tag from --route-tag 30 on" in lines[0]


async def test_an_unreachable_redis_is_a_clear_error_at_start():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--port", "0", "--redis-url",
        f"redis://127.0.0.1:{_free_port()}/0", cwd=ROOT,
        stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert b"cannot connect to redis" in err


async def test_sighup_to_the_supervisor_drains_every_worker(redis_server, tmp_path):  # noqa: F811
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--workers", "2", "--port", str(port),
        "--redis-url", redis_server.url, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    line = ""
    while "workers (pids" not in line:      # after each worker's own "listening" line
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    pids = [int(p) for p in line.split("pids ", 1)[1].rstrip(")\n").split(", ")]
    try:
        await _both_workers_listen(port)
        client = await Client.connect(f"ws://127.0.0.1:{port}/ws", "json")
        await client.hello("Ann")

        proc.send_signal(signal.SIGHUP)              # the terminal was closed
        assert (await client.expect("shutdown", timeout=30))["drain_ms"] == 30000
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        assert await _healthz(port) is None         # no worker was left behind
    finally:
        for pid in pids:                 # (before the fix the workers outlived it)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _refused(*args, env=None) -> tuple[int, list[str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", *args, cwd=ROOT, env=env,
        stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, err.decode().strip().splitlines()


async def test_a_worker_that_fails_to_start_stops_the_supervisor_with_its_status(
        redis_server, tmp_path):  # noqa: F811
    # Before: an unreachable Redis (or a missing --texts file) made the supervisor
    # restart the worker every second, forever.
    status, lines = await _refused(
        "--workers", "2", "--port", str(_free_port()),
        "--redis-url", f"redis://127.0.0.1:{_free_port()}/0")
    errors = [line for line in lines if "error" in line]
    assert status == 1 and "Traceback" not in "\n".join(lines)
    assert len(errors) == 1 and "cannot connect to redis" in errors[0], lines
    status, lines = await _refused(
        "--workers", "2", "--port", str(_free_port()), "--redis-url", redis_server.url,
        "--texts", str(tmp_path / "missing.txt"))
    errors = [line for line in lines if "error" in line]
    assert status == 2 and "Traceback" not in "\n".join(lines)
    assert len(errors) == 1 and "--texts" in errors[0] and "No such file" in errors[0], lines


async def test_no_other_server_can_join_the_port_of_a_deployments_workers(
        redis_server, tmp_path):  # noqa: F811
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--workers", "2", "--port", str(port),
        "--redis-url", redis_server.url, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        await _both_workers_listen(port)
        # A second deployment (another Redis database) on the same port is refused...
        status, lines = await _refused(
            "--workers", "2", "--port", str(port), "--redis-url",
            redis_server.url.rsplit("/", 1)[0] + "/1")
        assert status == 1 and len(lines) == 1 and f"--port {port}: already in use" in lines[0]
        # ...and so is a lone server on another store, even one that claims to be a
        # worker: only a worker whose parent is the supervisor shares the port.
        env = {**os.environ, "TYPERACE_WORKER": f"{proc.pid}:0"}
        status, lines = await _refused("--port", str(port), "--db", str(tmp_path / "o.db"),
                                       env=env)
        assert status == 1 and len(lines) == 1 and "address already in use" in lines[0].lower()
        health = await _healthz(port)
        assert health is not None and health["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0


async def _each_worker(port: int) -> dict[str, dict]:
    """node -> /healthz of both workers (requests naming no room go to them in turn)."""
    seen: dict[str, dict] = {}
    for _ in range(10):
        health = await _healthz(port)
        seen[health["node"]] = health
        if len(seen) == 2:
            return seen
    raise AssertionError(f"saw workers {list(seen)}")


async def _supervisor(redis_url: str, port: int, *args: str):
    """`--workers 2` started, its worker pids (the line after both listen)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--workers", "2", "--port", str(port),
        "--redis-url", redis_url, *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    line = ""
    while "workers (pids" not in line:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    return proc, [int(p) for p in line.split("pids ", 1)[1].rstrip(")\n").split(", ")]


async def test_every_player_of_a_room_lands_on_the_worker_that_owns_it(
        redis_server, transport):  # noqa: F811
    port = _free_port()
    proc, _ = await _supervisor(redis_server.url, port, "--transport", transport)
    clients = []
    try:
        url = f"ws://127.0.0.1:{port}/ws"
        owners = {}                     # code -> the node whose lobby holds its room
        for i in range(2):
            host = await Client.connect(url, "msgpack")     # in turn: one on each
            clients.append(host)
            await host.hello(f"Host{i}")
            before = await _each_worker(port)
            code = (await host.request({"type": "create_room"}))["room"]["code"]
            after = await _each_worker(port)
            owners[code] = next(node for node in after
                                if after[node]["rooms"] == before[node]["rooms"] + 1)
        assert len(set(owners.values())) == 2, owners
        assert {CODE_ALPHABET.index(code[0]) for code in owners} == {0, 1}   # own tags

        # Two guests a room, one after the other: handed out in turn, or at random as
        # the kernel did, the second of each pair (at least) would land on the other.
        for i, code in enumerate(sorted(owners) * 2):
            before = await _each_worker(port)
            guest = await Client.connect(room_url(url, code), "msgpack")
            clients.append(guest)
            await guest.hello(f"Guest{i}")
            assert (await guest.request({"type": "join_room", "code": code}))["type"] == "joined"
            after = await _each_worker(port)
            grew = {node for node in after
                    if after[node]["connections"] != before[node]["connections"]}
            assert grew == {owners[code]}, (i, code, owners, before, after)
            assert after[owners[code]]["connections"] == before[owners[code]]["connections"] + 1
        for client in clients:
            await client.request({"type": "leave"})
    finally:
        for client in clients:
            await client.close()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0


async def test_a_dead_worker_is_restarted_and_its_rooms_connections_reach_it_again(
        redis_server):  # noqa: F811
    port = _free_port()
    proc, pids = await _supervisor(redis_server.url, port, "--countdown-s", "1")
    try:
        tagged = [CODE_ALPHABET[i] + "ABCDE" for i in range(2)]   # codes worker i makes
        nodes = [(await _healthz(port, code))["node"] for code in tagged]
        assert nodes[0] != nodes[1]
        os.kill(pids[1], signal.SIGKILL)
        # Its rooms' connections go to the other worker, then to the new one (a new
        # node). (One handed over in the instant it dies is lost with it, as one in a
        # dead process's accept queue is.)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while True:
            assert loop.time() < deadline, "the worker was not restarted"
            health = await _healthz(port, tagged[1])
            if health is not None:
                assert health["node"] != nodes[1]
                if health["node"] != nodes[0]:
                    break
            await asyncio.sleep(0.1)      # polling: the supervisor restarts it
        assert (await _healthz(port, tagged[0]))["node"] == nodes[0]

        # A quick race still brings two players together, wherever they were handed.
        url = f"ws://127.0.0.1:{port}/ws"
        racers = [await Client.connect(url, "json") for _ in range(2)]
        rooms = set()
        for i, racer in enumerate(racers):
            await racer.hello(f"Q{i}")
            rooms.add((await racer.request({"type": "quick_race"}))["room"]["room_id"])
        assert len(rooms) == 1
        for racer in racers:
            await racer.request({"type": "leave"})
            await racer.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
