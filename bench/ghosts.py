"""What a ghost costs the server, in the benchmark's terms: CPU µs per racer-second.

    .venv/bin/python -m bench.ghosts [--rooms 500] [--seconds 60]

Runs the pure core the way the server's ticker does (server/net/app.py: 4 wake-ups per
100 ms tick, timers at the first, each room's tick once per interval, every tick
encoded once with msgpack) on a simulated clock, over three kinds of practice room:
- idle: one player who does not type (the room's own cost: timers, no ticks);
- ghost: the same player racing a ghost of an 80 WPM typist (bot keystrokes batched
  every 100 ms, as a client sends them), fed by the race clock;
- live: one player typing those keystrokes, fed through Lobby.input at their times.
It prints the CPU (time.process_time) per room-second of each and, above the idle
room, what the ghost and the live typing add per racer-second: the core's share of
the `server CPU µs/racer·s` column of `python -m bench run`, where a live racer also
pays its socket reads, frame decoding and writes.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time

from client_demo.bot import batches, plan_keystrokes
from protocol.codec import MSGPACK
from server.core.keylog import KeyLog
from server.core.lobby import Lobby, LobbyConfig
from server.core.room import GhostSpec
from server.core.texts import Text

TICK_MS = 100
PHASES = 4
WPM = 80


def passage(rng: random.Random, chars: int = 1900) -> str:
    words = "the of and to in is was that for on with as by at from they which this".split()
    out = []
    while len(" ".join(out)) < chars:
        out.append(rng.choice(words))
    return " ".join(out)[:chars].strip()


def make_lobby() -> Lobby:
    ids = itertools.count()
    return Lobby(LobbyConfig(practice_countdown_s=0), lambda: f"r{next(ids)}",
                 lambda: f"C{next(ids)}")


def run(kind: str, rooms: int, seconds: int, seed: int = 1) -> float:
    """µs of CPU per room-second over `seconds` of simulated racing."""
    rng = random.Random(seed)
    text = Text(1, "Bench", "bench", passage(rng))
    lobby = make_lobby()
    inputs = []           # per typing room: [(race_ms, keys)]
    for n in range(rooms):
        sends = batches(plan_keystrokes(text.body, WPM, 0.97, rng))
        ghost = None
        if kind == "ghost":
            ghost = GhostSpec("pg", "Ghost", text.text_id, KeyLog.of(sends))
        lobby.practice(f"p{n}", "Player", text, 0, ghost)
        if kind == "live":
            inputs.append(sends)
    lobby.advance(0)
    cursor = [0] * len(inputs)
    step = TICK_MS // PHASES
    cpu0 = time.process_time()
    for wake, now in enumerate(range(0, seconds * 1000, step)):
        for n, sends in enumerate(inputs):      # the live typists' inputs due by now
            while cursor[n] < len(sends) and sends[cursor[n]][0] <= now:
                lobby.input(f"p{n}", sends[cursor[n]][1], now)
                cursor[n] += 1
        phase = wake % PHASES
        if phase == 0:
            lobby.advance(now)
        lobby.ticks(now, phase, PHASES)
        for _room, _audience, message in lobby.take_events()[0]:
            MSGPACK.encode(message)
    cpu = time.process_time() - cpu0
    assert all(room.state == "racing" for room in lobby.all_rooms()), "raced too long"
    return cpu * 1e6 / (rooms * seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    cost = {kind: run(kind, args.rooms, args.seconds) for kind in ("idle", "ghost", "live")}
    print(f"{args.rooms} practice rooms, {args.seconds} s simulated, core CPU per room-second:")
    for kind, us in cost.items():
        print(f"  {kind:5} {us:7.1f} µs")
    print(f"a ghost adds {cost['ghost'] - cost['idle']:.1f} µs per ghost-second; live "
          f"typing adds {cost['live'] - cost['idle']:.1f} µs per racer-second (before its "
          "socket, decoding and writes)")


if __name__ == "__main__":
    main()
