"""Store adapters compared: how many races per second each one saves, how long
statistics and leaderboards take to read with many requests in flight, and what
paging a big text library costs.

    .venv/bin/python -m bench.store [--races 2000] [--concurrency 32] [--texts 20000]
                                    [--redis-url URL]

Without --redis-url it starts a private redis-server with an fsync-always append-only
file (as durable as SQLite's synchronous=FULL, which the SQLite adapter uses).
Prints one line per adapter and operation. The library lines page through --texts
texts (half library, half written by 100 players) one call at a time, at random
offsets: `list_texts` alone, `list_texts/author` for one writer's texts (with the
CPU time a call costs this process), and `list_texts+saves` while races are being
saved with --concurrency in flight (reads must not wait behind saves).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time

from server.core.results import Result
from server.store import RaceRecord
from server.store.redis import RedisStore
from server.store.sqlite import SqliteStore

T0 = 1_700_000_000_000
PLAYERS = 200
TEXTS = 50
AUTHORS = 100
PAGE = 20


def make_race(n: int, rng: random.Random) -> RaceRecord:
    racers = rng.sample(range(PLAYERS), 3)
    results = []
    for place, p in enumerate(racers, start=1):
        log = [(120 * i, "abcd") for i in range(75)]           # a 300-character race
        results.append(Result(f"p{p}", f"Player {p}", place - 1, place, "finished",
                                    rng.uniform(30, 120), rng.uniform(0.85, 1.0), 9000, 300,
                                    310, 300, log))
    return RaceRecord(f"race{n}", f"room{n}", "quick", rng.randint(1, TEXTS),
                      T0 + n * 1000 - 9000, T0 + n * 1000, results)


async def timed(calls, concurrency: int) -> tuple[float, list[float]]:
    """Run the coroutine factories with `concurrency` in flight: (seconds, latencies)."""
    latencies: list[float] = []
    queue = list(calls)

    async def worker():
        while queue:
            call = queue.pop()
            start = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies


def report(name: str, what: str, seconds: float, latencies: list[float],
           cpu: float | None = None) -> None:
    """One line; `cpu`: this process's CPU seconds (all threads) over the calls, shown
    per call: on a loaded machine it says what a call costs better than the clock."""
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    per_call = f"   cpu {cpu / len(latencies) * 1000:5.2f} ms/call" if cpu is not None else ""
    print(f"{name:7} {what:17} {len(latencies) / seconds:9.0f}/s   "
          f"mean {statistics.mean(latencies) * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms"
          f"{per_call}", flush=True)


async def one_at_a_time(calls) -> tuple[float, list[float], float]:
    """timed(calls, 1), and the process CPU time it took."""
    cpu = time.process_time()
    seconds, latencies = await timed(calls, 1)
    return seconds, latencies, time.process_time() - cpu


async def fill_library(store, texts: int) -> None:
    """`texts` more texts, each call a second later than the last: half library
    passages (a thousand per call), half written by AUTHORS players (a hundred per
    call, the players in turn)."""
    body = "a passage long enough to look like one people type in a race " * 4
    start, calls = 0, 0
    while start < texts:
        written = start >= texts // 2
        end = min(texts, start + (100 if written else 1000))
        author = f"a{calls % AUTHORS}" if written else None
        await store.add_texts([{"title": f"L{i}", "source": "bench", "body": f"{i} {body}"}
                               for i in range(start, end)], T0 + calls * 1000, author,
                              author and "Author")
        start, calls = end, calls + 1


async def page_library(name: str, store, races: int, concurrency: int) -> None:
    rng = random.Random(11)
    _, total = await store.list_texts(0, 1)
    pages = [lambda o=rng.randrange(total - PAGE): store.list_texts(o, PAGE)
             for _ in range(2000)]
    report(name, "list_texts", *await one_at_a_time(pages))
    _, mine = await store.list_texts(0, 1, "a1")
    own = [lambda o=rng.randrange(max(1, mine - PAGE)): store.list_texts(o, PAGE, "a1")
           for _ in range(2000)]
    report(name, "list_texts/author", *await one_at_a_time(own))
    rng_races = random.Random(13)
    saves = [lambda r=make_race(races + n, rng_races): store.save_race(r)
             for n in range(races // 4)]
    pages_during: list[float] = []

    async def pager(done: asyncio.Event):
        while not done.is_set():
            offset = rng.randrange(total - PAGE)
            start = time.perf_counter()
            await store.list_texts(offset, PAGE)
            pages_during.append(time.perf_counter() - start)

    done = asyncio.Event()
    paging = asyncio.create_task(pager(done))
    await timed(saves, concurrency)
    done.set()
    await paging
    report(name, "list_texts+saves", sum(pages_during), pages_during)


async def bench(name: str, store, races: int, concurrency: int, texts: int) -> None:
    await store.open()
    try:
        rng = random.Random(7)
        await store.add_texts([{"title": f"T{i}", "source": "bench",
                                "body": f"Bench passage {i} with enough words to type."}
                               for i in range(TEXTS)], T0)
        records = [make_race(n, rng) for n in range(races)]
        seconds, lat = await timed([lambda r=r: store.save_race(r) for r in records],
                                   concurrency)
        report(name, "save_race", seconds, lat)
        reads = [lambda p=p: store.player_stats(f"p{p % PLAYERS}") for p in range(races)]
        report(name, "player_stats", *await timed(reads, concurrency))
        boards = [lambda t=t: store.leaderboard(t % (TEXTS + 1) or None) for t in range(races)]
        report(name, "leaderboard", *await timed(boards, concurrency))
        await fill_library(store, texts)
        await page_library(name, store, races, concurrency)
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--races", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--texts", type=int, default=20000, help="texts in the library paged")
    parser.add_argument("--redis-url", help="an EMPTY Redis to use (default: a private one)")
    args = parser.parse_args()
    print(f"{args.races} races of 3 results (300-keystroke logs), "
          f"{args.concurrency} requests in flight; a library of {args.texts} texts")
    runs = (args.races, args.concurrency, args.texts)
    with tempfile.TemporaryDirectory() as tmp:
        await bench("sqlite", SqliteStore(f"{tmp}/bench.db"), *runs)
    if args.redis_url:
        await bench("redis", RedisStore(args.redis_url, prefix="bench:"), *runs)
        return
    from bench.redis_runner import RedisServer        # a private, throw-away redis-server
    server = RedisServer(persistent=True)
    server.start()
    try:
        await bench("redis", RedisStore(server.url, prefix="bench:"), *runs)
    finally:
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
