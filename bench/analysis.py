"""What knowing your typing costs: the CPU of analysing one race (server/core/analysis.py)
and the extra CPU the per-key statistics and points add to saving a result, what
folding them costs, and what a read costs with results pending.

    .venv/bin/python -m bench.analysis [--races 300] [--redis-url URL]

Prints one line per measure, with the issue's limit beside it:
- `analysis 10000 chars` / `analysis 300 chars`: CPU (time.process_time) of one
  `analyse` of a race typed one key per input with a mistake every ~30 keys, the
  best of 30 runs (limits 20 ms and 5 ms);
- `tally`: the CPU of the pure part of the per-key update for one 300-key result;
- `save sqlite` / `save redis`: CPU per race of `save_race` (3 clean racers, 300-key
  logs) without and with the per-key statistics and points, and the difference in per
  cent (limit +10 %): with them a save queues each clean result for folding
  (server/store/folding.py), without it queues nothing. SQLite's CPU is this process
  (the writer thread included); Redis's adds the redis-server's own CPU (from /proc,
  in 10 ms ticks: keep batches long), which runs the scripts. 12 pairs of batches with
  and without, each pair back to back (in alternating order): each side's fastest
  batch, and the median of the pairs' ratios (on a shared machine the steadier);
- `fold`: the CPU per result of folding queued results into the statistics (and, on
  SQLite, the points), off the save path: with each player's one result in a batch
  (nothing added together: the dearest case) and with three;
- `read`: the wall time of `key_stats` with nothing pending and with the player's
  result saved just before (the read folds it first), and of `points_board` with 30
  results pending.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import tempfile
import time
from unittest import mock

from server.core.analysis import analyse
from server.core.keystats import tally
from server.core.results import Result
from server.store import RaceRecord
import server.store.redis as redis_module
from server.store.folding import FOLD_BATCH
from server.store.redis import RedisStore
from server.store.sqlite import SqliteStore

WORDS = ("the quick brown fox jumps over a lazy dog while every typist races to the end "
         "of long passages with steady hands and calm minds").split()
BATCHES = 12            # pairs of batches, with and without
FOLD = 100              # races folded at once, in fold_cpu


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
    # The scheduler's nanoseconds on CPU, summed over the threads (/proc/<pid>/stat
    # counts 10 ms ticks: too coarse for a bench of a few hundred milliseconds).
    return sum(int(open(f"/proc/{pid}/task/{task}/schedstat").read().split()[0])
               for task in os.listdir(f"/proc/{pid}/task")) / 1e9


def races(n: int, body: str, text_id: int, prefix: str, rng: random.Random) -> list:
    out = []
    for i in range(n):
        results = [Result(f"p{p}", f"P{p}", slot, slot + 1, "finished", 60.0, 0.97, 9000,
                          len(body), 310, 300, typed(body, rng))
                   for slot, p in enumerate(rng.sample(range(50), 3))]
        out.append(RaceRecord(f"{prefix}{i}", "room", "quick", text_id, 1000 + i, 2000 + i,
                              results))
    return out


async def save_cpu(store, n: int, rng: random.Random, without, other_pid=None):
    """(ms per race without the per-key statistics and points, ms with them, the median
    of the pairs' ratios): with them a save queues each clean result for folding, which
    is left to fold_cpu (the store's folder waits an hour here). Each pair of batches
    runs back to back, in alternating order."""
    body = passage(300, rng)
    [text_id] = await store.add_texts([{"title": "Bench", "source": "", "body": body}], 1)
    best = {False: float("inf"), True: float("inf")}
    ratios = []
    for batch in range(BATCHES):
        used = {}
        for with_view in (False, True) if batch % 2 == 0 else (True, False):
            batch_races = races(n, body, text_id, f"b{batch}{int(with_view)}-", rng)
            with without() if not with_view else _nothing():
                start = cpu_s() + (cpu_s(other_pid) if other_pid else 0)
                for race in batch_races:
                    await store.save_race(race)
                used[with_view] = cpu_s() + (cpu_s(other_pid) if other_pid else 0) - start
            best[with_view] = min(best[with_view], used[with_view] / n * 1000)
        ratios.append(used[True] / used[False])
    await _fold_all(store)
    return best[False], best[True], statistics.median(ratios)


async def _fold_all(store) -> int:
    folded = 0
    while done := await store._fold_some(FOLD_BATCH):
        folded += done
    return folded


async def fold_cpu(store, rng: random.Random, other_pid=None) -> tuple[float, float]:
    """(CPU ms per result of folding FOLD races' results, each player's one result in
    the batch, tables already kept: the case nothing is added together in; CPU ms per
    result of folding 3 races of the same 3 players at once)."""
    body = passage(300, rng)
    [text_id] = await store.add_texts([{"title": "Fold", "source": "", "body": body}], 2)
    out = []
    for name, players in (("one each", FOLD * 3), ("three each", 3)):
        for rnd in range(2):            # the first round gives every player tables
            for i in range(FOLD):
                picked = rng.sample(range(players), 3)
                results = [Result(f"f{name}{p}", f"F{p}", slot, slot + 1, "finished", 60.0,
                                  0.97, 9000, len(body), 310, 300, typed(body, rng))
                           for slot, p in enumerate(picked)]
                await store.save_race(RaceRecord(f"f{name}{rnd}-{i}", "room", "quick", text_id,
                                                 1000 + i, 2000 + i, results))
            start = cpu_s() + (cpu_s(other_pid) if other_pid else 0)
            folded = await _fold_all(store)
            used = cpu_s() + (cpu_s(other_pid) if other_pid else 0) - start
        out.append(used / folded * 1000)
    return out[0], out[1]


async def read_ms(store, rng: random.Random) -> tuple[float, float, float]:
    """Wall ms of `key_stats` of a player with nothing pending, of one with a result
    saved just before (folded by the read), and of `points_board` with 30 results of 30
    players pending (folded by the read)."""
    body = passage(300, rng)
    [text_id] = await store.add_texts([{"title": "Read", "source": "", "body": body}], 3)
    times = [[], [], []]
    for rnd in range(20):
        for i in range(10):
            results = [Result(f"r{rnd}-{i}-{slot}", "R", slot, slot + 1, "finished", 60.0, 0.97,
                              9000, len(body), 310, 300, typed(body, rng)) for slot in range(3)]
            await store.save_race(RaceRecord(f"rd{rnd}-{i}", "room", "quick", text_id,
                                             1000 + i, 2000 + i, results))
        for which, call in ((1, lambda: store.key_stats(f"r{rnd}-0-0")),
                            (0, lambda: store.key_stats(f"r{rnd}-0-0")),
                            (2, lambda: store.points_board("all"))):
            start = time.perf_counter()
            await call()
            times[which].append((time.perf_counter() - start) * 1000)
    return tuple(statistics.median(t) for t in times)


async def view_lines(name: str, store, n: int, rng: random.Random, without,
                     other_pid=None) -> None:
    await store.open()
    try:
        plain, with_view, ratio = await save_cpu(store, n, rng, without, other_pid)
        print(f"save {name:7} {plain:7.3f} ms/race without, {with_view:7.3f} with the per-key "
              f"statistics and points queued (the fastest batches): "
              f"{100 * (with_view / plain - 1):+.1f} %; the median pair "
              f"{100 * (ratio - 1):+.1f} % (limit +10 %)")
        one, three = await fold_cpu(store, rng, other_pid)
        print(f"fold {name:7} {one:7.3f} ms CPU a result (one a player a batch), {three:.3f} "
              f"(three a player): off the save path")
        idle, pending, board = await read_ms(store, rng)
        print(f"read {name:7} key_stats {idle:.2f} ms, with a result pending {pending:.2f} ms; "
              f"points_board with 30 pending {board:.2f} ms (wall, median)")
    finally:
        await store.close()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _redis_without():
    """SAVE_RACE without queueing a result for folding (the lines redis_scripts.py has)."""
    queued = ("  redis.call('RPUSH', p .. 'kpend:' .. pid, rid)\n"
              "  redis.call('SADD', p .. 'kpending', pid)\n")
    assert queued in redis_module.SAVE_RACE
    return mock.patch.object(redis_module, "SAVE_RACE",
                             redis_module.SAVE_RACE.replace(queued, ""))


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
        await view_lines("sqlite", SqliteStore(f"{tmp}/bench.db", fold_delay_s=3600),
                         args.races, rng,
                         lambda: mock.patch("server.store.sqlite_results.queue",
                                            lambda *args: None))
    if args.redis_url:
        await view_lines("redis", RedisStore(args.redis_url, prefix="bench:", fold_delay_s=3600),
                         args.races, rng, _redis_without)
        return
    from tests.redis_fixture import RedisServer       # a private, throw-away redis-server
    server = RedisServer()
    server.start()
    try:
        await view_lines("redis", RedisStore(server.url, prefix="bench:", fold_delay_s=3600),
                         args.races, rng, _redis_without, server._proc.pid)
    finally:
        server.close()

if __name__ == "__main__":
    asyncio.run(main())
