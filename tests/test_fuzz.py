"""100,000 random and mutated frames of every message type (bench/fuzz_client.py, in a
separate process) while a race runs in another room: no crash, no `internal` error,
no room or seat left behind, the races finish, and the server's memory is flat."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import json
import os
import sys
from pathlib import Path

import pytest

from protocol.messages import SCHEMAS

FUZZ_CLIENT = Path(__file__).resolve().parent.parent / "bench" / "fuzz_client.py"


async def run_fuzz_client(port: int, frames: int, seed: int) -> dict:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(FUZZ_CLIENT), "--url", f"ws://127.0.0.1:{port}/ws",
        "--frames", str(frames), "--seed", str(seed), "--conns", "2",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(FUZZ_CLIENT.parent.parent)})
    out, err = await asyncio.wait_for(process.communicate(), 150)
    assert process.returncode == 0, err.decode()[-3000:]
    return json.loads(out.decode().strip().splitlines()[-1])


async def race_until(done: asyncio.Task, ann, bob, first: str) -> int:
    """Ann (host) and Bob race again and again until `done` is; returns races run."""
    races = 0
    while not done.done() or races == 0:
        await ann.send({"type": first if races == 0 else "rematch"})
        countdown = await ann.expect("countdown", timeout=15)
        body = countdown["text"]["body"]
        await bob.expect("countdown", where=lambda m: m["race_id"] == countdown["race_id"])
        await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")
        step = max(10, len(body) // 20)
        for i in range(0, len(body), step):            # each racer types in ~20 bursts,
            for client in (ann, bob):                  # waiting for the tick showing it
                await client.send({"type": "input", "keys": body[i:i + step]})
            typed = min(i + step, len(body))
            if typed < len(body):
                await ann.expect("tick", where=lambda m: all(p[1] >= typed for p in m["p"]))
        for client in (ann, bob):
            results = await client.expect(
                "results", timeout=15, where=lambda m: m["race_id"] == countdown["race_id"])
            assert [r["status"] for r in results["ranking"]] == ["finished", "finished"]
            client.drop_unread()
        races += 1
    return races


async def fuzz_phase(server, ann, bob, frames: int, seed: int) -> tuple[dict, int]:
    """Fuzz while racing; once all the fuzzer made is gone, return its report and races."""
    fuzzing = asyncio.create_task(run_fuzz_client(server.port, frames, seed=seed))
    races = await race_until(fuzzing, ann, bob, "rematch")
    report = await fuzzing
    # Everything the fuzzer opened is gone: rooms, seats, connections.
    players = {ann.player_id, bob.player_id}
    async with asyncio.timeout(15):
        while not (server.lobby.counts() == (1, 2, 0)
                   and {p for p, _ in server.lobby.seated_players()} == players
                   and set(server.conns) == players
                   and server.limits.total == 2):
            await asyncio.sleep(0.05)
    for client in (ann, bob):
        client.seen.clear()              # the test's own record of messages, not the server's
    return report, races


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def malloc_in_use() -> int:
    """Bytes malloc has handed out and not had back (heap chunks and mmapped ones)."""
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd


def kept() -> tuple[int, int]:
    """(blocks, bytes) the process holds once its garbage is collected.

    Blocks (sys.getallocatedblocks: every live object and buffer Python allocated) are
    what a leak adds (one or more per message, room or connection); tracing each
    allocation instead (tracemalloc) made the whole test two to three times slower.
    Bytes are what malloc hands out (glibc's mallinfo2: objects over 512 bytes, and
    buffers) and can jump once when CPython grows a table of its own (msgpack interns
    map keys, and the interned-strings table may double mid-run)."""
    gc.collect()
    return sys.getallocatedblocks(), malloc_in_use()


# Longer than the suite's 180 s: on the shared 2-core machine it once took 177 s alone
# (about 15 s a transport now that the fuzz client sends a batch in one write; its
# logins and sign-ups, about 50, hash at the tests' cheap cost, conftest.py).
@pytest.mark.timeout(400)
async def test_fuzzing_with_100000_frames_breaks_nothing(make_server, connect):
    server = await make_server(msg_rate=100000, msg_burst=100000, room_rate=100000,
                               reconnect_grace_s=0, countdown_s=0)
    ann = await connect("Ann", target=server)
    bob = await connect("Bob", target=server, codec="msgpack")
    room = (await ann.request({"type": "create_room"}))["room"]
    await bob.request({"type": "join_room", "code": room["code"]})

    # Warm up (caches, first rooms, code paths), then count what the server keeps.
    warm = asyncio.create_task(run_fuzz_client(server.port, 4000, seed=1))
    await race_until(warm, ann, bob, "start")
    await warm
    blocks_start, bytes_start = kept()
    first, races_a = await fuzz_phase(server, ann, bob, 50_000, seed=2)
    blocks_first, kept_first = kept()
    second, races_b = await fuzz_phase(server, ann, bob, 50_000, seed=3)
    blocks_second, kept_second = kept()

    print(f"fuzz: {first['frames'] + second['frames']} frames in "
          f"{first['elapsed_s'] + second['elapsed_s']:.1f} s, {races_a + races_b} races, "
          f"kept {blocks_first - blocks_start:+} blocks / "
          f"{(kept_first - bytes_start) // 1024:+} KiB after half, "
          f"{blocks_second - blocks_start:+} blocks / "
          f"{(kept_second - bytes_start) // 1024:+} KiB after all")
    for report in (first, second):
        assert set(SCHEMAS) <= set(report["sent"]), "every message type was fuzzed"
        assert min(report["sent"][t] for t in SCHEMAS) >= 500
        assert "internal" not in report["errors"]
        assert report["closes"] == [] and report["connections"] == 2   # never thrown out
    assert first["frames"] + second["frames"] >= 100_000
    assert server.metrics.error("internal")._value.get() == 0
    assert races_a >= 1 and races_b >= 1
    # Flat: the second 50,000 frames leave next to nothing more behind than the first
    # did (a few dozen blocks); a leak of one object per 50 frames read, or one per room
    # the fuzzer opened and closed, adds over a thousand (one `object()` kept per 50
    # frames in Sessions._receive: +1,163).
    assert blocks_second - blocks_first < 1000, (blocks_first, blocks_second)
    assert kept_second - bytes_start < 8 * 1024 * 1024, (bytes_start, kept_second)
    # And the server still serves a fresh player.
    cat = await connect("Cat", target=server)
    assert (await cat.request({"type": "practice"}))["type"] == "joined"
