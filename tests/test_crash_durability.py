"""A result is committed before anything shows it (`finish`, `results`): SIGKILL of
the process right after can't lose it, on SQLite and on Redis."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from client_demo.client import Client
from tests.redis_fixture import redis_server  # noqa: F401
from tests.typist import type_passage

ROOT = Path(__file__).resolve().parent.parent
SECRET = "one long secret shared by the whole cluster"


async def start_server(db: str | None = None, redis_url: str | None = None,
                       extra: tuple = ()) -> tuple[asyncio.subprocess.Process, int]:
    """`python -m server` on a free port (with `extra` flags); it prints its port once
    it listens."""
    store = ["--db", db] if db else ["--redis-url", redis_url, "--secret", SECRET]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--port", "0", *store,
        "--practice-countdown-s", "0", "--max-wpm", "10000", "--log-level", "warning",
        *extra, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "TYPERACE_REDIS_URL": ""} if db else None)
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    port = re.search(r":(\d+)/", line)
    assert port, f"the server did not say where it listens: {line!r}"
    return process, int(port.group(1))


async def test_a_result_survives_sigkill_right_after_results(tmp_path):
    db = str(tmp_path / "crash.db")
    process, port = await start_server(db)
    try:
        ann = await Client.connect(f"ws://127.0.0.1:{port}/ws", "msgpack")
        await ann.hello("Ann")
        text = (await ann.request({"type": "submit_text", "title": "Crash test",
                                   "body": "Nothing is lost when the power goes out."}))["text"]
        await ann.request({"type": "practice", "text_id": text["text_id"]})
        body = (await ann.expect("countdown"))["text"]["body"]
        await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")
        await type_passage(ann, body, chunk=4, pause_s=0.02)
        results = await ann.expect("results", timeout=60)
        os.kill(process.pid, signal.SIGKILL)            # no chance to flush anything
        assert await asyncio.wait_for(process.wait(), 30) == -signal.SIGKILL
    finally:
        await ended(process)

    process, port = await start_server(db)
    try:
        again = await Client.connect(f"ws://127.0.0.1:{port}/ws", "json")
        await again.hello("Ann", ann.welcome["token"])
        assert again.player_id == ann.player_id
        stats = await again.request({"type": "player_stats"})
        [entry] = results["ranking"]
        assert entry["flagged"] is None
        assert stats["races"] == 1
        [recent] = stats["recent"]
        assert (recent["race_id"], recent["wpm"], recent["status"]) == (
            results["race_id"], entry["wpm"], "finished")
        board = await again.request({"type": "leaderboard"})
        assert [e["player_id"] for e in board["entries"]] == [ann.player_id]
        await again.close()
    finally:
        process.kill()
        await process.wait()


async def killed(process: asyncio.subprocess.Process) -> None:
    os.kill(process.pid, signal.SIGKILL)                # no chance to flush anything
    assert await asyncio.wait_for(process.wait(), 30) == -signal.SIGKILL


async def ended(process: asyncio.subprocess.Process) -> None:
    """The process gone at the end of a test, whatever happened in it."""
    if process.returncode is None:
        process.kill()
        await process.wait()


async def race_until_one_finishes(host_port: int, guest_port: int) -> tuple:
    """A private room made on the first server, joined through the second: the host
    finishes and is shown `finish` while the guest still types. Returns (host, guest,
    the finish, the race id)."""
    host = await Client.connect(f"ws://127.0.0.1:{host_port}/ws", "msgpack")
    await host.hello("Ann")
    guest = await Client.connect(f"ws://127.0.0.1:{guest_port}/ws", "json")
    await guest.hello("Bob")
    text = (await host.request({"type": "submit_text", "title": "Kill test", "body":
                                "What the screen showed stays shown."}))["text"]
    created = await host.request({"type": "create_room", "settings": {
        "countdown_s": 0, "text_id": text["text_id"]}})
    await guest.request({"type": "join_room", "code": created["room"]["code"]})
    await host.expect("room", where=lambda m: len(m["room"]["players"]) == 2)
    await host.send({"type": "start"})
    countdown = await host.expect("countdown")
    await host.expect("room", where=lambda m: m["room"]["state"] == "racing")
    body = countdown["text"]["body"]
    await guest.send({"type": "input", "keys": body[:3]})
    await type_passage(host, body, chunk=4, pause_s=0.02)
    finish = await host.expect("finish", timeout=60)
    assert finish["place"] == 1
    return host, guest, finish, countdown["race_id"]


async def the_finish_was_kept(port: int, host: Client, finish: dict, race_id: str) -> None:
    """Seen from a server that is still up: the finisher's result, as `finish` showed it."""
    again = await Client.connect(f"ws://127.0.0.1:{port}/ws", "json")
    await again.hello("Ann", host.welcome["token"])
    assert again.player_id == host.player_id
    stats = await again.request({"type": "player_stats"})
    assert stats["races"] == 1 and stats["wins"] == 1
    [recent] = stats["recent"]
    assert (recent["race_id"], recent["status"], recent["wpm"], recent["place"]) == (
        race_id, "finished", finish["wpm"], 1)
    replay = (await again.request({"type": "replay", "race_id": race_id}))["race"]
    [mine] = replay["results"]
    assert (mine["player_id"], mine["race_ms"], mine["place"]) == (
        host.player_id, finish["race_ms"], 1)
    board = await again.request({"type": "leaderboard"})
    assert [e["player_id"] for e in board["entries"]] == [host.player_id]
    await again.close()


async def test_a_finish_survives_sigkill_while_the_race_runs_on_sqlite(tmp_path):
    db = str(tmp_path / "crash.db")
    process, port = await start_server(db)
    try:
        host, guest, finish, race_id = await race_until_one_finishes(port, port)
        await killed(process)
    finally:
        await ended(process)

    process, port = await start_server(db)
    try:
        await the_finish_was_kept(port, host, finish, race_id)
    finally:
        process.kill()
        await process.wait()


async def test_a_finish_survives_sigkill_of_the_owning_process_on_redis(
        redis_server):  # noqa: F811
    owner, owner_port = await start_server(redis_url=redis_server.url)
    other, other_port = await start_server(redis_url=redis_server.url)
    try:
        host, guest, finish, race_id = await race_until_one_finishes(owner_port, other_port)
        await killed(owner)
        # The guest, on the process that lives, hears that the room is gone...
        lost = await guest.expect("error", timeout=60)
        assert lost["code"] == "room_lost"
        # ...and the finisher's result, shown by the dead process, is in the store.
        await the_finish_was_kept(other_port, host, finish, race_id)
    finally:
        for process in (owner, other):
            await ended(process)
