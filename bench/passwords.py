"""What a password costs: one scrypt hash (server/core/passwords.py), and how long the
event loop stalls while logins are being checked, on the server's worker thread
(server/net/passwords.py) and, for comparison, on the loop itself.

    .venv/bin/python -m bench.passwords [--hashes 10] [--logins 10]

The loop's lag is measured by a task that wakes every millisecond and records how late
it woke: what every race's tick and every player's input would wait.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time

from server.core.passwords import LOG2_N, P, R, hash_password, password_matches
from server.net.clock import Clock
from server.net.passwords import PasswordHasher

PASSWORD = "correct horse battery staple"


def hash_cost(n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        hash_password(PASSWORD, secrets.token_bytes(16))
        times.append(time.perf_counter() - started)
    return times


async def lag_while(work) -> list[float]:
    """How late a 1 ms timer wakes while `work` runs."""
    lags: list[float] = []
    stop = False

    async def probe():
        loop = asyncio.get_running_loop()
        while not stop:
            due = loop.time() + 0.001
            await asyncio.sleep(0.001)
            lags.append(loop.time() - due)

    task = asyncio.create_task(probe())
    await asyncio.sleep(0.01)
    await work()
    stop = True
    await task
    return lags


async def main(args) -> None:
    times = hash_cost(args.hashes)
    print(f"scrypt N=2**{LOG2_N} r={R} p={P} ({128 * (1 << LOG2_N) * R // 2**20} MiB): one "
          f"hash median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {args.hashes}")
    stored = hash_password(PASSWORD, secrets.token_bytes(16))
    hasher = PasswordHasher(Clock())

    async def on_the_worker():      # (each from its own address and account: none capped)
        await asyncio.gather(*(hasher.matches(PASSWORD, stored, f"10.0.{n // 250}.{n % 250}",
                                              f"account {n}") for n in range(args.logins)))

    async def on_the_loop():
        for _ in range(args.logins):
            password_matches(PASSWORD, stored)
            await asyncio.sleep(0)

    for label, work in [("worker thread (the server)", on_the_worker),
                        ("on the loop (for comparison)", on_the_loop)]:
        started = time.perf_counter()
        lags = await lag_while(work)
        took = time.perf_counter() - started
        print(f"{args.logins} logins checked {label}: {took:.2f} s; loop lag median "
              f"{statistics.median(lags) * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms")
    hasher.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=10)
    parser.add_argument("--logins", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
