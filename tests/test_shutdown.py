"""SIGTERM: running races finish (up to --drain-s), every result is saved, clients are
told and closed with 1001, the process exits 0. A second SIGTERM ends at once.
The server runs as a real `python -m server` process."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest
from websockets.exceptions import ConnectionClosed

from client_demo.client import Client, ServerError
from server.config import load_config
from server.net.app import TyperaceServer
from tests.typist import type_passage


class ServerProcess:
    def __init__(self, process, port: int, log_path):
        self.process, self.port, self.log_path = process, port, log_path

    @classmethod
    async def start(cls, tmp_path, transport: str, *flags: str) -> "ServerProcess":
        log_path = tmp_path / "server.log"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server", "--port", "0", "--db", str(tmp_path / "t.db"),
            "--countdown-s", "0", "--log-format", "json", "--transport", transport, *flags,
            stdout=asyncio.subprocess.PIPE, stderr=open(log_path, "wb"))
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        port = int(line.decode().split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
        return cls(process, port, log_path)

    async def client(self, name: str, codec: str = "json") -> Client:
        client = await Client.connect(f"ws://127.0.0.1:{self.port}/ws", codec)
        await client.hello(name)
        return client

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    async def exit_code(self, timeout: float = 30) -> int:
        return await asyncio.wait_for(self.process.wait(), timeout)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


@pytest.fixture
async def spawn(tmp_path, transport):
    started = []

    async def start(*flags: str) -> ServerProcess:
        server = await ServerProcess.start(tmp_path, transport, *flags)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
        await server.process.wait()


async def private_race(server: ServerProcess) -> tuple[Client, Client, str]:
    """Ann (host) and Bob in a private room, racing; returns them and the passage."""
    ann = await server.client("Ann")
    bob = await server.client("Bob", "msgpack")
    room = (await ann.request({"type": "create_room"}))["room"]
    await bob.request({"type": "join_room", "code": room["code"]})
    await ann.send({"type": "start"})
    body = (await ann.expect("countdown"))["text"]["body"]
    await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")
    return ann, bob, body


async def closed_with(client: Client, timeout: float = 30) -> int:
    try:
        async with asyncio.timeout(timeout):
            while True:
                await client.ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def recent_races(tmp_path, make_server, connect, player_id: str) -> dict:
    """race_id -> status, read back through a fresh server on the same database."""
    server = await make_server(db=str(tmp_path / "t.db"))
    reader = await connect("Reader", target=server)
    stats = await reader.request({"type": "player_stats", "player_id": player_id})
    return {r["race_id"]: r["status"] for r in stats["recent"]}


async def test_sigterm_lets_the_race_finish_saves_it_and_closes_with_1001(
        spawn, tmp_path, make_server, connect):
    server = await spawn("--drain-s", "30")
    ann, bob, body = await private_race(server)
    cat = await server.client("Cat")

    server.signal()
    for client in (ann, bob, cat):
        notice = await client.expect("shutdown")
        assert notice["drain_ms"] == 30000
    for kind in ("quick_race", "create_room", "practice"):
        with pytest.raises(ServerError) as refused:
            await cat.request({"type": kind})
        assert refused.value.code == "shutting_down"
    # Still serving what starts nothing new.
    assert (await cat.request({"type": "list_races"}))["type"] == "races"

    await ann.send({"type": "input", "keys": body})
    await bob.send({"type": "input", "keys": body[: len(body) // 2]})
    await bob.send({"type": "input", "keys": body[len(body) // 2:]})
    results = [await c.expect("results") for c in (ann, bob)]
    assert [r["status"] for r in results[0]["ranking"]] == ["finished", "finished"]
    assert {await closed_with(c) for c in (ann, bob, cat)} == {1001}
    assert await server.exit_code() == 0

    race_id = results[0]["race_id"]
    assert await recent_races(tmp_path, make_server, connect, ann.player_id) == {
        race_id: "finished"}
    log = server.log_path.read_text()
    assert '"event": "shutdown_drain"' in log and '"event": "shutdown_done"' in log


async def test_sighup_from_a_closed_terminal_drains_like_sigterm(
        spawn, tmp_path, make_server, connect):
    server = await spawn("--drain-s", "30")
    ann, bob, body = await private_race(server)

    server.signal(signal.SIGHUP)
    for client in (ann, bob):
        await client.expect("shutdown")
    # 20 characters an input (under the paste rule's 24): a fifth of the inputs.
    await type_passage(ann, body, chunk=20)
    await type_passage(bob, body, chunk=20)
    results = await ann.expect("results")
    assert [r["status"] for r in results["ranking"]] == ["finished", "finished"]
    assert {await closed_with(c) for c in (ann, bob)} == {1001}
    assert await server.exit_code() == 0
    assert await recent_races(tmp_path, make_server, connect, ann.player_id) == {
        results["race_id"]: "finished"}
    log = server.log_path.read_text()
    assert '"event": "shutdown_requested", "signal": "SIGHUP"' in log
    assert '"event": "shutdown_done"' in log


async def test_a_race_still_running_when_the_drain_ends_is_cut_short_and_saved(
        spawn, tmp_path, make_server, connect):
    server = await spawn("--drain-s", "1")
    ann, bob, body = await private_race(server)
    await ann.send({"type": "input", "keys": body[:10]})
    await ann.expect("tick", where=lambda m: any(p[1] == 10 for p in m["p"]))

    server.signal()
    await ann.expect("shutdown")
    results = [await c.expect("results", timeout=30) for c in (ann, bob)]
    ranking = results[0]["ranking"]
    assert [(r["name"], r["status"]) for r in ranking] == [("Ann", "dnf"), ("Bob", "dnf")]
    assert {await closed_with(c) for c in (ann, bob)} == {1001}
    assert await server.exit_code() == 0
    saved = await recent_races(tmp_path, make_server, connect, ann.player_id)
    assert saved == {results[0]["race_id"]: "dnf"}


async def test_a_second_sigterm_ends_at_once_and_keeps_what_was_saved(
        spawn, tmp_path, make_server, connect):
    server = await spawn("--drain-s", "600")
    ann, bob, body = await private_race(server)
    await ann.send({"type": "input", "keys": body})
    await bob.send({"type": "input", "keys": body})
    first = await ann.expect("results")                      # saved before it was sent
    await ann.send({"type": "rematch"})
    await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")

    server.signal()
    await ann.expect("shutdown")
    server.signal()
    assert await server.exit_code(timeout=15) == 0            # no 600 s drain
    await closed_with(ann)
    assert await recent_races(tmp_path, make_server, connect, ann.player_id) == {
        first["race_id"]: "finished"}
    assert '"event": "shutdown_forced"' in server.log_path.read_text()


async def types_until_closed(client: Client, timeout: float = 30) -> tuple[list[str], int]:
    """The type of every message the client gets until the server closes it, and the code."""
    kinds = [m["type"] for m in client._unread]
    client.drop_unread()
    try:
        async with asyncio.timeout(timeout):
            while True:
                kinds.append(client.codec.decode(await client.ws.recv())["type"])
    except ConnectionClosed as closed:
        return kinds, closed.rcvd.code if closed.rcvd else None


async def test_a_draining_server_starts_no_race_not_even_a_lone_quick_racers(spawn):
    server = await spawn("--drain-s", "4", "--lobby-wait-s", "1")
    await private_race(server)              # keeps the drain going for its 4 s
    cat = await server.client("Cat")
    room_id = (await cat.request({"type": "quick_race"}))["room"]["room_id"]

    server.signal()
    # Cat's 1 s wait for company ends during the drain: its room must not count down.
    kinds, code = await types_until_closed(cat)
    assert "shutdown" in kinds and "countdown" not in kinds and code == 1001
    assert await server.exit_code() == 0
    log = server.log_path.read_text()
    assert '"event": "race_start"' in log                      # Ann and Bob's race
    assert f'"room": "{room_id}"' not in log.split('"event": "shutdown_drain"', 1)[1]


async def test_a_half_sent_handshake_does_not_hold_the_shutdown(tmp_path, transport):
    server = TyperaceServer(load_config([], environ={}, db=str(tmp_path / "h.db"), port=0,
                                        transport=transport))
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /ws HTTP/1.1\r\nHost: x\r\n")          # and never the rest
        await writer.drain()
        ann = await Client.connect(f"ws://127.0.0.1:{server.port}/ws")   # accepted after it
        await ann.hello("Ann")
    finally:
        stopping = asyncio.ensure_future(server.stop())
        # websockets (and picows) would wait 10 s for a request that never comes.
        await asyncio.wait_for(asyncio.shield(stopping), 5)
    assert await closed_with(ann) == 1001
    try:                                                         # dropped, not answered
        assert await asyncio.wait_for(reader.read(), 5) == b""
    except ConnectionResetError:
        pass
    writer.close()
