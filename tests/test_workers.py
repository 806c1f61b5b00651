"""`python -m server --workers N`: N processes sharing one port through Redis."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys

from client_demo.client import Client
from tests.redis_fixture import redis_server  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _healthz(port: int) -> dict | None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = await reader.read()
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
