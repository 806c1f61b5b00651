"""The SQLite store failing under a running server: a full disk (a real, small tmpfs)
and a write lock held by another process. Players are told `unavailable`, never
`internal`; results wait for the store and are never shown unsaved; a result still
unsaved at exit is named in the log and the exit status says so (3)."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import sqlite3

import pytest

from client_demo.client import ServerError
from tests.helpers import tmpfs
from tests.test_shutdown import ServerProcess, spawn  # noqa: F401
from tests.typist import type_passage

OWN = "A short passage to type while the disk is full."


def fill(folder) -> None:
    """Fill the file system holding `folder` to the last byte."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def log_events(server: ServerProcess) -> list[dict]:
    return [json.loads(line) for line in server.log_path.read_text().splitlines()
            if line.startswith("{")]


async def logged(server: ServerProcess, name: str, count: int = 1, timeout: float = 60):
    """Wait until the server has logged `count` events called `name`; returns them."""
    async with asyncio.timeout(timeout):
        while True:
            found = [e for e in log_events(server) if e["event"] == name]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)


async def finish_practice(client, text_id: int) -> str:
    """A practice race typed to its end; returns its race id (neither `finish` nor
    `results` awaited: both wait for the save)."""
    await client.request({"type": "practice", "text_id": text_id})
    countdown = await client.expect("countdown")
    await client.expect("room", where=lambda m: m["room"]["state"] == "racing")
    await type_passage(client, countdown["text"]["body"])
    return countdown["race_id"]


async def nothing_final_shown(client) -> None:
    """Everything the server sent the client so far carries no result: no `finish`,
    no `results`, no place in a tick (what the server sent before its answer to a
    `ping` has arrived before it)."""
    await client.request({"type": "ping"})
    assert not [m for m in client.seen if m["type"] in ("finish", "results")]
    assert not [p for m in client.seen if m["type"] == "tick" for p in m["p"] if p[3]]


@pytest.fixture
async def on_small_disk(spawn, tmp_path):
    """start() -> a `python -m server` whose --db is on a 4 MB tmpfs (`.disk`)."""
    started = []
    with tmpfs(tmp_path / "disk", "4m") as disk:
        async def start():
            server = await spawn("--db", str(disk / "t.db"), "--max-wpm", "10000",
                                 "--practice-countdown-s", "0")
            server.disk = disk
            started.append(server)
            return server
        yield start
        for server in started:        # before the file system goes
            server.kill()
            await server.process.wait()


async def a_text_then_a_full_disk(server) -> tuple:
    """Ann, a short text of hers (written while there was room), and a full disk."""
    ann = await server.client("Ann")
    text_id = (await ann.request({"type": "submit_text", "title": "Own",
                                  "body": OWN}))["text"]["text_id"]
    fill(server.disk)
    return ann, text_id


@pytest.mark.default_transport         # a store rule: the default transport is enough
async def test_a_full_disk_says_unavailable_and_results_wait_for_space(on_small_disk):
    server = await on_small_disk()
    ann, text_id = await a_text_then_a_full_disk(server)

    bob = await server.client("Bob")                  # a guest's hello writes nothing
    assert bob.player_id
    with pytest.raises(ServerError) as full:
        await ann.request({"type": "submit_text", "title": "More",
                           "body": "Another passage that has no room on the disk."})
    assert full.value.code == "unavailable"

    race_id = await finish_practice(ann, text_id)
    failures = await logged(server, "save_failed", 2)      # retried, one line each
    assert {f["race"] for f in failures} == {race_id}
    assert all("disk is full" in f["error"] and "exception" not in f for f in failures)
    assert "Traceback" not in server.log_path.read_text()
    assert not [e for e in log_events(server) if e["level"] == "error"]
    await nothing_final_shown(ann)                     # not even the finish: unsaved

    (server.disk / "filler").unlink()                  # space again: the retry lands
    assert (await ann.expect("finish", timeout=30))["place"] == 1
    results = await ann.expect("results", timeout=30)
    assert results["race_id"] == race_id
    stats = await bob.request({"type": "player_stats", "player_id": ann.player_id})
    assert stats["recent"][0]["race_id"] == race_id
    server.signal()
    assert await server.exit_code() == 0


async def test_a_result_unsaved_at_exit_is_named_and_the_exit_status_says_so(on_small_disk):
    server = await on_small_disk()
    ann, text_id = await a_text_then_a_full_disk(server)
    race_id = await finish_practice(ann, text_id)
    async with asyncio.timeout(60):                    # its save has failed at least once
        while not [e for e in log_events(server) if e["level"] != "info"
                   and race_id in json.dumps(e)]:
            await asyncio.sleep(0.05)

    await nothing_final_shown(ann)
    server.signal()
    await logged(server, "shutdown_drain")
    server.signal()                    # the second SIGTERM: no more waiting for the disk
    assert await server.exit_code() == 3
    [lost] = await logged(server, "results_not_saved")
    assert lost["race"] == race_id and lost["level"] == "error"
    assert len(lost["players"]) == 1 and lost["players"][0].startswith(f"{ann.player_id} 'Ann'")
    [done] = await logged(server, "shutdown_done")
    assert done["unsaved_races"] == 1


@pytest.mark.default_transport         # a store rule: the default transport is enough
async def test_a_lock_held_by_another_process_says_unavailable(spawn, tmp_path):
    server = await spawn()
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")                  # held for longer than 5 s
    try:
        ann = await asyncio.wait_for(server.client("Ann"), 10)   # hello: no write
        assert (await ann.request({"type": "list_texts", "limit": 1}))["total"] > 0
        with pytest.raises(ServerError) as locked:
            await ann.request({"type": "submit_text", "title": "Mine", "body": OWN})
        assert locked.value.code == "unavailable"
    finally:
        other.execute("ROLLBACK")
        other.close()
    created = await ann.request({"type": "submit_text", "title": "Mine", "body": OWN})
    assert created["type"] == "text_created"
    assert "Traceback" not in server.log_path.read_text()


@pytest.mark.default_transport         # a store rule: the default transport is enough
async def test_reads_are_not_held_behind_a_save_waiting_for_a_lock(
        make_server, connect, tmp_path, caplog):
    """Paging the library while a race's save waits for the write lock: the page comes
    at once, not after the save gives up (5 s per attempt)."""
    caplog.set_level(logging.INFO, logger="typerace")
    server = await make_server(practice_countdown_s=0, max_wpm=10000)
    ann, bob = await connect("Ann", target=server), await connect("Bob", target=server)
    text_id = (await ann.request({"type": "submit_text", "title": "Own",
                                  "body": OWN}))["text"]["text_id"]
    other = sqlite3.connect(server.config.db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        race_id = await finish_practice(ann, text_id)
        async with asyncio.timeout(10):         # the save has begun: it waits for the lock
            while not any(r.race is not None and r.race.race_id == race_id
                          and not r.results_out for r in server.lobby.all_rooms()):
                await asyncio.sleep(0.01)
        page = await bob.request({"type": "list_texts", "limit": 5})
        assert page["texts"][0]["text_id"] == text_id
        # ...before the save's first attempt gave up: no failure logged yet.
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        await nothing_final_shown(ann)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (await ann.expect("finish", timeout=30))["place"] == 1
    assert (await ann.expect("results", timeout=30))["race_id"] == race_id
