"""Competition boards at scale: what reading a points board, a place, and the day's
board costs on each store with many saved results and players, and what adding points
costs a save.

    .venv/bin/python -m bench.competition [--results 1000000] [--players 100000]
                                          [--per-race 50] [--days 30] [--redis-url URL]

Fills each store through the port (save_race, races of --per-race results from
--players players over --days days, every 20th race on the day's text) and folds what
it saved into statistics and points (server/store/folding.py; the stores' own folders
wait an hour here, so only the bench folds, and says how long it took), then times,
one call at a time (mean and p99, and this process's CPU per call): `points_board`
for the day, the week and all time, `points_place` of random players, `day_board` and
`day_board_place`. Last, `save_race` of 1,000 more races of 5 results (not on the day's
text; each result with a 300-character race's key log, as bench.store saves), with the
competition writes and without them (the same adapter with its points step left out:
on SQLite the result's row queued for folding, which carries its keys too, on Redis
the script's queueing of the points, ptsq), interleaved in blocks, so the difference is
what points add to a save. Then the saved points are folded onto the boards (as the
stores' folders do a moment after a save), and that is timed too: what points cost in
all, save and fold.

Without --redis-url it starts a private redis-server without persistence (the fill is
millions of writes; a save's own cost is measured the same way on both sides).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import replace

from bench.analysis import cpu_s
from bench.store import report, timed
from server.core import competition
from server.core.results import Result
import server.store.redis as redis_module
from server.store import RaceRecord, sqlite_results
from server.store.folding import FOLD_BATCH
from server.store.redis import RedisStore
from server.store.sqlite import SqliteStore
from server.store.sqlite_fold import fold_points

DAY = competition.DAY_MS
T0 = competition.week_window(1_764_000_000_000).starts_ms     # a Monday, 00:00 UTC
TEXTS = 40
CALLS = 2000
HOUR = 3600             # the stores' folders wait this long: the bench folds itself


# A 300-character race's key log, as bench.store saves it: what a saved result carries.
RACE_LOG = [(120 * i, "abcd") for i in range(75)]


def make_race(n: int, players: int, per_race: int, at_ms: int, rng: random.Random,
              log=((200, "abcd"),)) -> RaceRecord:
    results = []
    for place, p in enumerate(rng.sample(range(players), per_race), start=1):
        results.append(Result(f"p{p}", f"Player {p}", place - 1, place, "finished",
                              rng.uniform(30, 140), rng.uniform(0.85, 1.0), 20_000, 300,
                              310, 300, list(log)))
    text_id = 1 + n % TEXTS
    daily = text_id == 1 + (at_ms // DAY) % TEXTS         # each day, one text is the day's
    return RaceRecord(f"race{n}", f"room{n}", "quick", text_id, at_ms - 20_000, at_ms,
                      results, daily=daily)


async def fill(store, results: int, players: int, per_race: int, days: int) -> int:
    """Save the races; returns the time of the last one. SQLite fills without waiting
    for the disk (synchronous=OFF, restored after): the fill is not what is measured."""
    if isinstance(store, SqliteStore):
        await store._write(lambda db: db.execute("PRAGMA synchronous=OFF"))
    rng = random.Random(3)
    races = results // per_race
    step = days * DAY // races
    batch, started, at = [], time.perf_counter(), T0
    for n in range(races):
        at = T0 + n * step
        batch.append(make_race(n, players, per_race, at, rng))
        if len(batch) == 64 or n == races - 1:
            await asyncio.gather(*(store.save_race(r) for r in batch))
            batch = []
        if n % 2000 == 0 and n:
            done = n * per_race
            print(f"  filled {done:,} results ({done / (time.perf_counter() - started):,.0f}/s)",
                  flush=True)
    started = time.perf_counter()
    folded = 0
    while done := await store._fold_some(FOLD_BATCH):
        folded += done
    print(f"  folded {folded:,} results into statistics and points in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    if isinstance(store, SqliteStore):
        await store._write(lambda db: db.execute("PRAGMA synchronous=FULL"))
    return at


async def reads(name: str, store, players: int, now: int) -> None:
    rng = random.Random(5)
    for kind in ("day", "week", "all"):
        period = competition.window(kind, now).key
        calls = [lambda: store.points_board(period) for _ in range(CALLS)]
        report(name, f"points_board/{kind}", *await _one_at_a_time(calls))
    period = competition.window("week", now).key
    calls = [lambda p=rng.randrange(players): store.points_place(period, f"p{p}")
             for _ in range(CALLS)]
    report(name, "points_place/week", *await _one_at_a_time(calls))
    board = await _busiest_daily_board(store, now)
    calls = [lambda: store.day_board(board) for _ in range(CALLS)]
    report(name, "day_board", *await _one_at_a_time(calls))
    calls = [lambda p=rng.randrange(players): store.day_board_place(board, f"p{p}")
             for _ in range(CALLS)]
    report(name, "day_board_place", *await _one_at_a_time(calls))


async def _busiest_daily_board(store, now: int) -> int:
    """The last day's board (or the latest day's that has one, on a small fill)."""
    raced = []
    while not raced:
        day = competition.day_of(now).isoformat()
        raced = (await store.daily_texts([day]))[day]
        now -= 0 if raced else DAY
    sizes = {t: len(await store.day_board(competition.daily_board(now, t), 100_000))
             for t in raced}
    text_id = max(sizes, key=sizes.get)
    print(f"  day board of text {text_id}: {sizes[text_id]:,} players")
    return competition.daily_board(now, text_id)


async def _one_at_a_time(calls):
    cpu = time.process_time()
    seconds, latencies = await timed(calls, 1)
    return seconds, latencies, time.process_time() - cpu


class _WithoutPoints:
    """The adapter's save with its competition step left out (the baseline)."""

    def __init__(self, store):
        self.store = store

    def __enter__(self):
        if isinstance(self.store, SqliteStore):        # the result queued for folding
            self.saved = sqlite_results.queue
            sqlite_results.queue = lambda *args: None
        else:
            self.saved = redis_module.SAVE_RACE
            without = self.saved
            for line in ("  points[#points + 1] = day_period .. ' ' .. week_period .. ' ' .. "
                         "ARGV[i + 9] .. ' ' ..\n                        at .. ' ' .. pid\n",
                         "  redis.call('RPUSH', p .. 'ptsq', unpack(points))\n"):
                assert line in without
                without = without.replace(line, "")
            redis_module.SAVE_RACE = without

    def __exit__(self, *exc):
        if isinstance(self.store, SqliteStore):
            sqlite_results.queue = self.saved
        else:
            redis_module.SAVE_RACE = self.saved


async def saves(name: str, store, players: int, now: int, server_pid=None) -> None:
    """Blocks of 100 saves with points and without, alternating; wall time and this
    process's CPU (the SQLite writer thread is in it), and with a private Redis the
    redis-server's CPU as well, which runs the save script."""
    rng = random.Random(9)
    timings = {"with points": [[], 0.0, 0.0], "without": [[], 0.0, 0.0]}
    n = 10**7
    for block in range(10):
        for label in ("with points", "without") if block % 2 == 0 else ("without", "with points"):
            races = []
            for _ in range(100):
                n += 1
                races.append(make_race(n, players, 5, now + n, rng, RACE_LOG))
            calls = [lambda r=replace(r, daily=False): store.save_race(r) for r in races]
            cpu, server = time.process_time(), cpu_s(server_pid) if server_pid else 0.0
            if label == "without":
                with _WithoutPoints(store):
                    _, lat = await timed(calls, 1)
            else:
                _, lat = await timed(calls, 1)
            timings[label][0] += lat
            timings[label][1] += time.process_time() - cpu
            timings[label][2] += (cpu_s(server_pid) if server_pid else 0.0) - server
    for label, (lat, cpu, _) in timings.items():
        report(name, f"save_race/{label}", sum(lat), lat, cpu)
    (with_lat, with_cpu, with_server), (base_lat, base_cpu, base_server) = (
        timings["with points"], timings["without"])
    both = (f", {((with_cpu + with_server) / (base_cpu + base_server) - 1) * 100:+.1f} % "
            f"(CPU with redis-server's)" if server_pid else "")
    print(f"{name:7} points add {(sum(with_lat) / sum(base_lat) - 1) * 100:+.1f} % to a save "
          f"of 5 results (wall), {(with_cpu / base_cpu - 1) * 100:+.1f} % (CPU){both}",
          flush=True)
    await folding(name, store, (base_cpu + base_server) / len(base_lat), server_pid)


def _fold_points(store):
    """The store's own fold of queued points, one batch a call (how many it folded)."""
    if isinstance(store, SqliteStore):
        return lambda: store._fold(fold_points, FOLD_BATCH)
    return lambda: store._fold_points(FOLD_BATCH)


async def folding(name: str, store, save_cpu: float, server_pid=None) -> None:
    """Fold the points the saves above queued (as the folder does, in batches): CPU per
    result, and against `save_cpu`, the CPU of a save of 5 results without points
    (redis-server's included)."""
    fold = _fold_points(store)
    folded, wall = 0, time.perf_counter()
    cpu, server = time.process_time(), cpu_s(server_pid) if server_pid else 0.0
    while done := await fold():
        folded += done
    cpu = time.process_time() - cpu + ((cpu_s(server_pid) - server) if server_pid else 0.0)
    wall = time.perf_counter() - wall
    print(f"{name:7} folding {folded:,} results' points: {cpu / folded * 1e6:.1f} us CPU a "
          f"result{' with redis-server' + chr(39) + 's' if server_pid else ''} "
          f"({wall / folded * 1e6:.1f} us wall): {cpu / folded * 5 / save_cpu * 100:+.1f} % "
          f"of a save of 5 results' CPU", flush=True)


async def bench(name: str, store, args, server_pid=None) -> None:
    await store.open()
    try:
        await store.add_texts([{"title": f"T{i}", "source": "bench",
                                "body": f"Bench passage {i} with enough words to type."}
                               for i in range(TEXTS)], T0)
        start = time.perf_counter()
        now = await fill(store, args.results, args.players, args.per_race, args.days)
        print(f"{name:7} filled {args.results:,} results of {args.players:,} players in "
              f"{time.perf_counter() - start:.0f} s", flush=True)
        await reads(name, store, args.players, now)
        await saves(name, store, args.players, now, server_pid)
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=1_000_000)
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--per-race", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--redis-url", help="an EMPTY Redis to use (default: a private one)")
    parser.add_argument("--stores", default="sqlite,redis")
    args = parser.parse_args()
    print(f"{args.results:,} results of {args.players:,} players over {args.days} days, "
          f"{args.per_race} a race; one call at a time")
    if "sqlite" in args.stores:
        with tempfile.TemporaryDirectory() as tmp:
            await bench("sqlite", SqliteStore(f"{tmp}/bench.db", fold_delay_s=HOUR), args)
    if "redis" not in args.stores:
        return
    if args.redis_url:
        await bench("redis", RedisStore(args.redis_url, prefix="bench:", timeout=30,
                                          fold_delay_s=HOUR), args)
        return
    from bench.redis_runner import RedisServer        # a private, throw-away redis-server
    server = RedisServer(persistent=False)
    server.start()
    try:
        await bench("redis", RedisStore(server.url, prefix="bench:", timeout=30,
                                          fold_delay_s=HOUR), args, server._proc.pid)
    finally:
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
