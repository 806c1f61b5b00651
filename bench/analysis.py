"""What knowing your typing costs: the CPU of analysing one race (server/core/analysis.py)
and the extra CPU the per-key statistics add to saving a result.

    .venv/bin/python -m bench.analysis [--races 300] [--redis-url URL]

Prints one line per measure, with the issue's limit beside it:
- `analysis 10000 chars` / `analysis 300 chars`: CPU (time.process_time) of one
  `analyse` of a race typed one key per input with a mistake every ~30 keys, the
  best of 30 runs (limits 20 ms and 5 ms);
- `tally`: the CPU of the pure part of the per-key update for one 300-key result;
- `save sqlite` / `save redis`: CPU per race of `save_race` (3 clean racers, 300-key
  logs) without and with the per-key update, and the difference in per cent (limit
  +10 %). SQLite's is this process (the writer thread included); Redis's adds the
  redis-server's own CPU (from /proc), which runs the save script. Batches with and
  without alternate, and each side keeps its fastest batch (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import tempfile
import time
from unittest import mock

from server.core.analysis import analyse
from server.core.keystats import tally
from server.core.results import Result
from server.store import RaceRecord
from server.store.redis import RedisStore
from server.store.sqlite import SqliteStore

WORDS = ("the quick brown fox jumps over a lazy dog while every typist races to the end "
         "of long passages with steady hands and calm minds").split()
BATCHES = 6


def passage(chars: int, rng: random.Random) -> str:
    words = []
    while sum(map(len, words)) + len(words) < chars:
        words.append(rng.choice(WORDS))
    return " ".join(words)[:chars].rstrip()


def typed(body: str, rng: random.Random) -> list[tuple[int, str]]:
    """One key an input, 80-200 ms apart, a wrong key (then its deletion) every ~30."""
    log, t = [], 0
    for ch in body:
        t += rng.randint(80, 200)
        if rng.random() < 1 / 30:
            log.append((t, "#"))
            t += rng.randint(100, 300)
            log.append((t, "\b"))
        log.append((t, ch))
    return log


def analysis_ms(chars: int, rng: random.Random) -> float:
    body = passage(chars, rng)
    log = typed(body, rng)
    best = float("inf")
    for _ in range(30):
        start = time.process_time()
        analyse(body, log)
        best = min(best, time.process_time() - start)
    return best * 1000


def tally_ms(rng: random.Random) -> float:
    """CPU of the per-key tally of one 300-key result alone (the pure part of the update)."""
    body = passage(300, rng)
    log = typed(body, rng)
    best = float("inf")
    for _ in range(30):
        start = time.process_time()
        tally(body, log)
        best = min(best, time.process_time() - start)
    return best * 1000


def cpu_s(pid: int | None = None) -> float:
    """This process's CPU (all threads), or another's from /proc."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100      # utime + stime, in ticks


def races(n: int, body: str, text_id: int, prefix: str, rng: random.Random) -> list:
    out = []
    for i in range(n):
        results = [Result(f"p{p}", f"P{p}", slot, slot + 1, "finished", 60.0, 0.97, 9000,
                          len(body), 310, 300, typed(body, rng))
                   for slot, p in enumerate(rng.sample(range(50), 3))]
        out.append(RaceRecord(f"{prefix}{i}", "room", "quick", text_id, 1000 + i, 2000 + i,
                              results))
    return out


async def save_cpu(store, n: int, rng: random.Random, patch: str, off, other_pid=None):
    """(ms per race without the per-key update, ms with it)."""
    await store.open()
    body = passage(300, rng)
    [text_id] = await store.add_texts([{"title": "Bench", "source": "", "body": body}], 1)
    best = {False: float("inf"), True: float("inf")}
    try:
        for batch in range(BATCHES):
            for with_keys in (False, True):
                batch_races = races(n, body, text_id, f"b{batch}{int(with_keys)}-", rng)
                with mock.patch(patch, off) if not with_keys else _nothing():
                    start = cpu_s() + (cpu_s(other_pid) if other_pid else 0)
                    for race in batch_races:
                        await store.save_race(race)
                    used = cpu_s() + (cpu_s(other_pid) if other_pid else 0) - start
                best[with_keys] = min(best[with_keys], used / n * 1000)
    finally:
        await store.close()
    return best[False], best[True]


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def line(name: str, without: float, with_keys: float) -> str:
    return (f"save {name:7} {without:7.3f} ms/race without, {with_keys:7.3f} with the per-key "
            f"update: {100 * (with_keys / without - 1):+.0f} % (limit +10 %)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=300, help="races per batch")
    parser.add_argument("--redis-url", help="a Redis to use (default: a private one)")
    args = parser.parse_args()
    rng = random.Random(26)
    for chars, limit in ((10_000, 20), (300, 5)):
        print(f"analysis {chars:5} chars  {analysis_ms(chars, rng):7.2f} ms CPU (limit {limit} ms)")

    print(f"tally   300 keys   {tally_ms(rng):7.2f} ms CPU per result (the pure part of the "
          f"per-key update; a race saves 3)")
    with tempfile.TemporaryDirectory() as tmp:
        print(line("sqlite", *await save_cpu(
            SqliteStore(f"{tmp}/bench.db"), args.races, rng,
            "server.store.sqlite_results.keep_key_stats", lambda db, race, result: None)))
    off = lambda body, result: ""               # noqa: E731 (the script then adds nothing)
    if args.redis_url:
        print(line("redis", *await save_cpu(RedisStore(args.redis_url, prefix="bench:"),
                                            args.races, rng, "server.store.redis.tallies_arg",
                                            off)) + " (this process only)")
        return
    from tests.redis_fixture import RedisServer       # a private, throw-away redis-server
    server = RedisServer()
    server.start()
    try:
        print(line("redis", *await save_cpu(RedisStore(server.url, prefix="bench:"),
                                            args.races, rng, "server.store.redis.tallies_arg",
                                            off, server._proc.pid)))
    finally:
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
