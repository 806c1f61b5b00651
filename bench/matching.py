"""Quick races over two processes: time to a race against rooms scattered across them.

    .venv/bin/python -m bench.matching [--waits 0,1000,2000] [--rates 2,8] [--seconds 15]

A quick race takes a seat in another process's room only once that room's players have
waited `remote_wait_ms` (server/cluster/routing.py REMOTE_WAIT_MS), or when it holds a
single player. For each wait and arrival rate this starts two servers on one Redis (in
this process, with the default --countdown-s and --lobby-wait-s), sends players to
them at random, as a balancer that knows no rooms does, at `rate` arrivals a second
(Poisson) for `seconds`, and measures:
- time to a race: from `quick_race` to the start of the race it got (the countdown's
  `start_server_ms`; p50 / p95 / mean, seconds);
- scattered rooms: the share of races whose players came through both processes (every
  input and tick of those crosses Redis), and the share of players in them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.redis_runner import RedisServer  # noqa: E402
from client_demo.client import Client  # noqa: E402
from server.config import load_config  # noqa: E402
from server.net.app import TyperaceServer  # noqa: E402

SECRET = "one secret for the whole bench cluster"


async def _player(port: int, index: int, name: str, out: list) -> None:
    client = await Client.connect(f"ws://127.0.0.1:{port}/ws", "msgpack")
    try:
        await client.hello(name)
        asked_ms = time.time() * 1000       # the servers' clock: this machine's
        await client.request({"type": "quick_race"}, timeout=60)
        countdown = await client.expect("countdown", timeout=60)
        out.append(((countdown["start_server_ms"] - asked_ms) / 1000, countdown["race_id"],
                    index))
    finally:
        await client.close()


async def run(redis_url: str, tmp: str, wait_ms: int, rate: float, seconds: float,
              seed: int) -> dict:
    servers = []
    for i in range(2):
        config = load_config([], environ={}, port=0, redis_url=redis_url, secret=SECRET,
                             db=os.path.join(tmp, f"unused{i}.db"), log_level="warning")
        server = TyperaceServer(config)
        await server.start()
        server.live.cluster.remote_wait_ms = wait_ms
        servers.append(server)
    rng = random.Random(seed)
    out: list = []
    tasks = []
    try:
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            index = rng.randrange(2)
            tasks.append(asyncio.create_task(
                _player(servers[index].port, index, f"M{n}", out)))
            n += 1
            await asyncio.sleep(rng.expovariate(rate))
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for server in servers:
            await server.stop()
    waits = sorted(w for w, _, _ in out)
    races: dict[str, set[int]] = {}
    sizes: dict[str, int] = {}
    for _, race, index in out:
        races.setdefault(race, set()).add(index)
        sizes[race] = sizes.get(race, 0) + 1
    scattered = [r for r, where in races.items() if len(where) > 1]
    return {"players": len(out), "asked": len(tasks), "races": len(races),
            "p50": waits[len(waits) // 2], "p95": waits[int(0.95 * (len(waits) - 1))],
            "mean": statistics.fmean(waits),
            "scattered_races": len(scattered) / max(1, len(races)),
            "scattered_players": sum(sizes[r] for r in scattered) / max(1, len(out))}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--waits", default="0,1000,2000", help="remote_wait_ms values")
    parser.add_argument("--rates", default="2,8", help="arrivals per second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    redis = RedisServer()
    redis.start()
    tmp = tempfile.mkdtemp(prefix="typerace-matching-")
    print(f"matching bench: 2 processes, {args.seconds:.0f} s of arrivals per run, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    print("rate/s  wait ms  players  races  to race p50 / p95 / mean s  scattered races"
          "  players in them", flush=True)
    try:
        for rate in [float(r) for r in args.rates.split(",")]:
            for wait_ms in [int(w) for w in args.waits.split(",")]:
                r = await run(redis.url, tmp, wait_ms, rate, args.seconds, args.seed)
                print(f"{rate:6.1f}  {wait_ms:7d}  {r['players']:4d}/{r['asked']:<4d} "
                      f"{r['races']:5d}  {r['p50']:6.2f} / {r['p95']:5.2f} / {r['mean']:5.2f}"
                      f"       {100 * r['scattered_races']:5.1f} %         "
                      f"{100 * r['scattered_players']:5.1f} %", flush=True)
                redis.restart()                  # a clean directory for the next run
    finally:
        redis.close()


if __name__ == "__main__":
    asyncio.run(main())
