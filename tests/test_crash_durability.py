"""A result is committed before `results` is sent: SIGKILL right after can't lose it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from client_demo.client import Client
from tests.typist import type_passage

ROOT = Path(__file__).resolve().parent.parent


async def start_server(db: str) -> tuple[asyncio.subprocess.Process, int]:
    """`python -m server` on a free port; it prints its port once it listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--port", "0", "--db", db,
        "--practice-countdown-s", "0", "--max-wpm", "10000", "--log-level", "warning",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
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
        if process.returncode is None:
            process.kill()
            await process.wait()

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
