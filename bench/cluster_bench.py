"""Scaling out: capacity of 1 vs 2 processes, and a cross-process spectator's delay.

    .venv/bin/python -m bench.cluster_bench [--steps 20,40,80,160] [--seconds 8]

Needs `redis-server` on PATH (a private one is started on a free port). Prints:
1. For 1 process without Redis, 1 process with Redis and 2 processes with Redis (the
   load spread over both, as a load balancer would): for each load step (quick-race
   rooms of 5 players, everyone typing 2 characters every 100 ms), how late ticks
   reach the players (arrival minus the instant they describe) and the CPU the
   server processes used. On a small box the load generator, not the server, is what
   saturates first, so capacity is estimated from the server CPU the work done costs:
   ticks delivered per CPU-second / 10 = racers one core carries, times one core per
   process.
2. For one race owned by process A, the time from a tick's arrival at a spectator
   connected to A to its arrival at a spectator connected to B (relayed via Redis).

The load generator shares the machine with the servers, as everything does here; the
numbers compare configurations in the same run, they are not absolute capacities.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time

import msgpack
from websockets.asyncio.client import connect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.__main__ import cpu_seconds  # noqa: E402
from bench.redis_runner import RedisServer  # noqa: E402

MSGPACK = "typerace.v1.msgpack"


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def start_server(tmp: str, name: str, *args: str) -> tuple[asyncio.subprocess.Process, int]:
    store = () if "--redis-url" in args else ("--db", os.path.join(tmp, name + ".db"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--port", "0", *store,
        "--countdown-s", "1", "--lobby-wait-s", "1", "--log-level", "warning",
        "--msg-rate", "1000", "--msg-burst", "1000", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    return proc, int(re.search(rb"ws://[^:]+:(\d+)/ws", line).group(1))


class Player:
    """A racer: joins quick races, types 2 characters every 100 ms, times ticks.

    A tick's lateness is its arrival (wall clock) minus the moment it describes
    (start_server_ms + race_ms): scheduling, encoding, relaying and delivery together.
    """

    def __init__(self, port: int, index: int, window: tuple[float, float]):
        self.port, self.index, self.window = port, index, window
        self.lateness: list[float] = []

    async def run(self, until: float) -> None:
        async with connect(f"ws://127.0.0.1:{self.port}/ws", subprotocols=[MSGPACK],
                           max_size=None) as ws:
            await ws.send(msgpack.packb({"type": "hello", "name": f"B{self.index}"}))
            await ws.send(msgpack.packb({"type": "quick_race"}))
            start_ms, typer = 0, None
            while time.time() < until:
                try:
                    frame = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                message = msgpack.unpackb(frame)
                kind = message["type"]
                if kind == "countdown":
                    start_ms = message["start_server_ms"]
                    if typer:
                        typer.cancel()
                    typer = asyncio.create_task(self._type(ws, message["text"]["body"],
                                                           start_ms))
                elif kind == "tick":
                    now = time.time()
                    if self.window[0] <= now <= self.window[1]:
                        self.lateness.append(now * 1000 - start_ms - message["race_ms"])
                elif kind == "results":
                    await ws.send(msgpack.packb({"type": "quick_race"}))
            if typer:
                typer.cancel()

    async def _type(self, ws, body: str, start_ms: int) -> None:
        await asyncio.sleep(max(0.0, start_ms / 1000 - time.time()) + 0.05)
        for i in range(0, len(body), 2):
            await ws.send(msgpack.packb({"type": "input", "keys": body[i:i + 2]}))
            await asyncio.sleep(0.1)


def _loadgen(ports, indexes, window, until, out) -> None:
    """One load-generator process (the load is spread over several, like real users)."""
    async def run():
        players = [Player(ports[i % len(ports)], i, window) for i in indexes]
        await asyncio.gather(*[p.run(until) for p in players], return_exceptions=True)
        return [x for p in players for x in p.lateness]
    out.put(asyncio.run(run()))


async def load_step(ports: list[int], pids: list[int], rooms: int, seconds: float,
                    generators: int) -> dict:
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    t0 = time.time() + 4 + rooms * 0.02         # connect, queue, countdown
    window, until = (t0, t0 + seconds), t0 + seconds + 0.5
    n = rooms * 5
    procs = [ctx.Process(target=_loadgen, args=(ports, range(g, n, generators), window,
                                                 until, out)) for g in range(generators)]
    for proc in procs:
        proc.start()
    await asyncio.sleep(max(0.0, t0 - time.time()))
    cpu0 = sum(cpu_seconds(pid) for pid in pids)
    await asyncio.sleep(seconds)
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu0
    lateness = []
    for _ in procs:
        lateness += await asyncio.to_thread(out.get, True, 120)
    for proc in procs:
        await asyncio.to_thread(proc.join)
    return {"rooms": rooms, "players": n, "ticks": len(lateness),
            "p50": _pct(lateness, 0.5), "p99": _pct(lateness, 0.99),
            "cpu": 100 * cpu / seconds}


async def capacity(label: str, ports, pids, steps, seconds, generators,
                   redis_pid: int) -> float:
    """Runs every step; returns the racers one core of server CPU carries (last step)."""
    per_core = 0.0
    for rooms in steps:
        redis0 = cpu_seconds(redis_pid)
        r = await load_step(ports, pids, rooms, seconds, generators)
        redis_cpu = 100 * (cpu_seconds(redis_pid) - redis0) / (seconds + 8)
        # Ticks delivered per CPU-second, over the 10 ticks a second a racer needs: the
        # work actually done, whether or not the load generator kept up.
        cpu_s = r["cpu"] / 100 * seconds
        per_core = r["ticks"] / cpu_s / 10 if cpu_s else float("nan")
        print(f"  {label:<20} rooms {r['rooms']:>4} racers {r['players']:>4}  "
              f"tick lateness p50 {r['p50']:6.1f} ms  p99 {r['p99']:7.1f} ms  "
              f"servers CPU {r['cpu']:5.1f} % (redis ~{redis_cpu:4.1f} %)  "
              f"=> {per_core:5.0f} racers per core  ({r['ticks']} ticks)", flush=True)
    return per_core


async def spectator_delay(redis_url: str, tmp: str) -> None:
    a, port_a = await start_server(tmp, "sa", "--redis-url", redis_url)
    b, port_b = await start_server(tmp, "sb", "--redis-url", redis_url)
    try:
        arrivals: dict[str, dict[int, float]] = {"local": {}, "remote": {}}

        async def spectate(port: int, where: str, room_id: str, done: asyncio.Event):
            async with connect(f"ws://127.0.0.1:{port}/ws", subprotocols=[MSGPACK]) as ws:
                await ws.send(msgpack.packb({"type": "hello", "name": where}))
                await ws.send(msgpack.packb({"type": "watch", "code": room_id}))
                while not done.is_set():
                    try:
                        m = msgpack.unpackb(await asyncio.wait_for(ws.recv(), 0.5))
                    except TimeoutError:
                        continue
                    if m["type"] == "tick":
                        arrivals[where][m["race_ms"]] = time.perf_counter()

        async with connect(f"ws://127.0.0.1:{port_a}/ws", subprotocols=[MSGPACK]) as r1, \
                connect(f"ws://127.0.0.1:{port_a}/ws", subprotocols=[MSGPACK]) as r2:
            for ws, name in ((r1, "R1"), (r2, "R2")):
                await ws.send(msgpack.packb({"type": "hello", "name": name, "id": 1}))
                await ws.recv()
                await ws.send(msgpack.packb({"type": "quick_race", "id": 2}))
                while (joined := msgpack.unpackb(await ws.recv()))["type"] != "joined":
                    pass
            room_id = joined["room"]["room_id"]
            done = asyncio.Event()
            watchers = [asyncio.create_task(spectate(port_a, "local", room_id, done)),
                        asyncio.create_task(spectate(port_b, "remote", room_id, done))]
            while (m := msgpack.unpackb(await r1.recv()))["type"] != "countdown":
                pass
            body = m["text"]["body"]
            await asyncio.sleep(1.2)
            for i in range(0, min(len(body), 300), 3):   # ~30 s of ticks at most
                await r1.send(msgpack.packb({"type": "input", "keys": body[i:i + 3]}))
                await r2.send(msgpack.packb({"type": "input", "keys": body[i:i + 2]}))
                await asyncio.sleep(0.1)
            done.set()
            await asyncio.gather(*watchers)
        both = [k for k in arrivals["local"] if k in arrivals["remote"]]
        delays = [(arrivals["remote"][k] - arrivals["local"][k]) * 1000 for k in both]
        print(f"  {len(both)} ticks seen by both spectators; the one on the other process "
              f"gets them later by p50 {_pct(delays, 0.5):.2f} ms, p99 {_pct(delays, 0.99):.2f} ms, "
              f"mean {statistics.fmean(delays):.2f} ms", flush=True)
    finally:
        for proc in (a, b):
            proc.kill()
            await proc.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="40,100")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--generators", type=int, default=2,
                        help="load-generator processes")
    parser.add_argument("--skip-capacity", action="store_true")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    redis = RedisServer()
    redis.start()
    tmp = tempfile.mkdtemp(prefix="typerace-bench-")
    print(f"cluster bench: {os.cpu_count()} CPUs, {args.seconds:.0f} s per step", flush=True)
    try:
        if not args.skip_capacity:
            print("1. capacity (quick races of 5, everyone typing every 100 ms)")
            configs = [("1 process, no Redis", [()]),
                       ("1 process + Redis", [("--redis-url", redis.url)]),
                       ("2 processes + Redis", [("--redis-url", redis.url)] * 2)]
            per_core = {}
            for n, (label, servers) in enumerate(configs):
                procs = [await start_server(tmp, f"c{n}{i}", *extra)
                         for i, extra in enumerate(servers)]
                try:
                    per_core[len(servers), bool(servers[0])] = await capacity(
                        label, [p for _, p in procs], [pr.pid for pr, _ in procs],
                        steps, args.seconds, args.generators, redis._proc.pid)
                finally:
                    for proc, _ in procs:
                        proc.kill()
                        await proc.wait()
                redis.restart()                  # a clean directory for the next one
            one, two = per_core[1, False], per_core[2, True]
            cores = os.cpu_count() or 1
            print(f"  => estimated capacity (server CPU only, one core per process): "
                  f"1 process {one:.0f} racers; 2 processes {min(2, cores) * two:.0f} racers "
                  f"(x{min(2, cores) * two / one:.2f}); a racer costs "
                  f"{100 * (one / two - 1):+.0f} % CPU in the cluster", flush=True)
        print("2. spectator on the owner's process vs on another process")
        await spectator_delay(redis.url, tmp)
    finally:
        redis.close()


if __name__ == "__main__":
    asyncio.run(main())
