"""The soak (python -m bench soak) in short: players racing over two processes and one
Redis while a process is killed and restarted, Redis restarts and a process freezes;
every result a player was shown is stored as shown, and no process logs a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from tests.redis_fixture import require_redis_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.default_transport          # processes of their own, on the default transport
@pytest.mark.timeout(300)
async def test_a_short_soak_loses_no_result_through_kill_redis_restart_and_freeze(tmp_path):
    require_redis_server()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench", "soak", "--players", "16", "--minutes", "1.2",
        "--fault-every", "18", "--stop-s", "4", "--no-save", "--json", str(tmp_path / "r.json"),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 280)
    report = json.loads((tmp_path / "r.json").read_text())
    assert [f["kind"] for f in report["faults"]] == ["kill", "redis", "stop"], out.decode()
    assert report["results_seen"] > 20, out.decode()          # the players did race
    assert report["results_lost"] == 0 and report["results_differ"] == 0, out.decode()
    assert report["tracebacks"] == 0, out.decode()
    assert proc.returncode == 0
