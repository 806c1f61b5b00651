"""The game's own CPU per racer-second, without sockets: what the server adds to a floor.

    .venv/bin/python -m bench.hotpath [--racers 2000] [--seconds 20]
    .venv/bin/python -m bench.hotpath --instructions     # needs valgrind (Debian package)

`python -m bench run` measures the whole server against a floor, and on a shared
2-core machine both move with the load. This drives the real TyperaceServer (sessions,
dispatch, lobby, race, ticker, delivery, metrics) through in-memory links instead: each
racer's input is a msgpack frame handed to its session exactly as a transport hands it,
and each ready frame a room's tick writes is dropped by the link. The clock is a
ManualClock stepped by 100 ms, with the ticker's whole interval run at each step, as
tests/stepping.py does. What it prints is the Python the server runs for the standard
workload (rooms of 5, ~80 WPM, one input per racer about 6.5 times a second as the
load generator sends them, 10 Hz ticks, msgpack): µs of CPU (time.process_time) per
input, per room tick, and per racer-second: the part of `server CPU µs/racer·s` that is
ours rather than the WebSocket library's or the kernel's.

CPU time on a shared machine moves by ±20 % from run to run, too much to see a change
of a few percent. `--instructions` counts instructions instead (valgrind's cachegrind,
~50 times slower, within ~1 % from run to run): the whole run at --seconds 2 and at 12
(500 racers), the difference over 10 simulated seconds, per racer·s. The set-up waits
on the event loop in real time, so it isn't quite the same twice; the long difference
keeps that to about 1 %, enough for an A/B of two commits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

import msgpack

from bench.__main__ import make_texts
from protocol.codec import MSGPACK
from server.config import load_config
from server.net.app import TyperaceServer
from server.net.clock import ManualClock

GROUP = 5
TICK_MS = 100
INPUTS_PER_S = 6.5     # what the load generator's racers send at 80 WPM (bench results)


class MemoryLink:
    """The transport port's Link, in memory: frames written are counted and dropped."""

    __slots__ = ("subprotocol", "ip", "close_code", "close_reason", "open", "frames",
                 "messages")

    def __init__(self, keep: bool):
        self.subprotocol = MSGPACK.subprotocol
        self.ip = "127.0.0.1"
        self.close_code, self.close_reason = None, ""
        self.open = True
        self.frames = 0
        self.messages = [] if keep else None     # decoded, while the rooms fill

    def write(self, wire: bytes) -> None:
        self.frames += 1
        if self.messages is not None:
            size = wire[1]
            self.messages.append(msgpack.unpackb(wire[2 + {126: 2, 127: 8}.get(size, 0):]))

    def buffered(self) -> int:
        return 0

    def close(self, code: int, reason: str) -> None:
        self.open, self.close_code, self.close_reason = False, code, reason

    def abort(self) -> None:
        self.open = False


def pack(message: dict) -> bytes:
    return msgpack.packb(message)


async def reply(link: MemoryLink, kind: str, timeout: float = 30.0) -> dict:
    """The last `kind` message the racer got, once it came (requests that await the
    store answer after a few loop turns)."""
    deadline = time.monotonic() + timeout
    while True:
        for message in reversed(link.messages):
            if message.get("type") == kind:
                return message
            if message.get("type") == "error":
                raise RuntimeError(f"the server refused a racer: {message}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {kind!r} reached the racer; got {link.messages[-3:]}")
        await asyncio.sleep(0.001)


async def fill_rooms(server, clock, racers: int, make_link=MemoryLink):
    """Rooms of GROUP racers (create, join by code, start), stepped to the race start;
    [(session, link, passage)] per racer. `make_link(keep=True)` makes each link."""
    seats = []
    for i in range(racers):
        link = make_link(keep=True)
        seats.append((server.opened(link), link))
        seats[-1][0].frame(pack({"type": "hello", "id": 1, "name": f"bench{i}"}))
    for _, link in seats:
        await reply(link, "welcome")
    full = racers - racers % GROUP
    for g in range(0, full, GROUP):
        (host, host_link), others = seats[g], seats[g + 1:g + GROUP]
        host.frame(pack({"type": "create_room", "id": 2,
                         "settings": {"countdown_s": 0, "max_players": GROUP}}))
        code = (await reply(host_link, "joined"))["room"]["code"]
        for session, link in others:
            session.frame(pack({"type": "join_room", "id": 3, "code": code}))
            await reply(link, "joined")
        host.frame(pack({"type": "start", "id": 4}))
        await reply(host_link, "countdown")
    step(server, clock, 1000)
    ready = []
    for session, link in seats[:full]:
        ready.append((session, link, (await reply(link, "countdown"))["text"]["body"]))
        link.messages = None
    return ready


def step(server, clock, ms: int) -> None:
    for _ in range(ms // TICK_MS):
        clock.advance(TICK_MS)
        server.ticker.round()


async def measure(racers: int, seconds: int, seed: int) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as workdir:
        texts = os.path.join(workdir, "texts.txt")
        make_texts(texts)
        config = load_config([], environ={}, db=os.path.join(workdir, "hot.db"), texts=texts,
                             port=0, max_conns_per_ip=0, room_rate=1_000_000)
        clock = ManualClock()
        server = TyperaceServer(config, clock=clock, run_ticker=False)
        await server.start()
        try:
            seats = await fill_rooms(server, clock, racers)
            typed = [0] * len(seats)
            frames = [pack({"type": "input", "keys": body[i]}) for _, _, body in seats
                      for i in range(len(body))]
            offsets = []
            at = 0
            for _, _, body in seats:
                offsets.append(at)
                at += len(body)
            chance = INPUTS_PER_S * TICK_MS / 1000
            in_cpu = tick_cpu = 0.0
            inputs = 0
            written = sum(link.frames for _, link, _ in seats)
            for _ in range(seconds * 1000 // TICK_MS):
                senders = [i for i in range(len(seats)) if rng.random() < chance]
                started = time.process_time()
                for i in senders:
                    seats[i][0].frame(frames[offsets[i] + typed[i]])
                    typed[i] += 1
                middle = time.process_time()
                clock.advance(TICK_MS)
                server.ticker.round()
                ended = time.process_time()
                in_cpu += middle - started
                tick_cpu += ended - middle
                inputs += len(senders)
            applied = sum(room.race.racers[seat.slot].typing.pos
                          for room in server.lobby.all_rooms() for seat in room.seats.values())
            if applied != sum(typed):
                raise RuntimeError(f"{sum(typed) - applied} of {sum(typed)} keys were refused")
            rooms = len(seats) // GROUP
            room_ticks = rooms * seconds * 1000 // TICK_MS
            racer_s = len(seats) * seconds
            return {
                "racers": len(seats), "seconds": seconds, "inputs": inputs,
                "frames_written": sum(link.frames for _, link, _ in seats) - written,
                "us_per_input": round(in_cpu / inputs * 1e6, 2),
                "us_per_room_tick": round(tick_cpu / room_ticks * 1e6, 2),
                "us_per_racer_s": round((in_cpu + tick_cpu) / racer_s * 1e6, 1),
                "inputs_us_per_racer_s": round(in_cpu / racer_s * 1e6, 1),
                "ticks_us_per_racer_s": round(tick_cpu / racer_s * 1e6, 1),
            }
        finally:
            await server.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--racers", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=20, help="simulated seconds measured")
    parser.add_argument("--repeat", type=int, default=3, help="runs (the median is printed)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions per racer·s under valgrind instead")
    args = parser.parse_args(argv)
    if args.instructions:
        return count_instructions()
    runs = [asyncio.run(measure(args.racers, args.seconds, args.seed + i))
            for i in range(args.repeat)]
    for run in runs:
        print(" ".join(f"{k}={v}" for k, v in run.items()))
    runs.sort(key=lambda r: r["us_per_racer_s"])
    median = runs[len(runs) // 2]
    print(f"median: {median['us_per_racer_s']} µs per racer·s of the game's Python "
          f"({median['inputs_us_per_racer_s']} inputs + {median['ticks_us_per_racer_s']} ticks);"
          f" {median['us_per_input']} µs per input, {median['us_per_room_tick']} µs per room"
          f" tick (5 frames written)")
    return 0


def valgrind_missing(bench: str) -> bool:
    """Whether valgrind is missing (then says so), for an --instructions count."""
    if shutil.which("valgrind") is None:
        print(f"{bench}: --instructions needs valgrind (apt-get install valgrind)")
        return True
    return False


def instructions(*module_args: str) -> int:
    """The instructions `python -m <module_args>` runs, counted by valgrind (cachegrind)."""
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-m", *module_args], capture_output=True, text=True, check=True)
    return int(re.search(r"I\s+refs:\s+([\d,]+)", done.stderr).group(1).replace(",", ""))


def count_instructions(racers: int = 500, short: int = 2, long: int = 12) -> int:
    if valgrind_missing("bench.hotpath"):
        return 2

    def run(seconds: int) -> int:
        return instructions("bench.hotpath", "--racers", str(racers), "--seconds", str(seconds),
                            "--repeat", "1")

    extra = run(long) - run(short)
    print(f"{extra // (racers * (long - short)):,} instructions per racer·s of the game's "
          f"Python ({racers} racers, {long} minus {short} simulated seconds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
