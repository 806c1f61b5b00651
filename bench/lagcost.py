"""What measuring each racer's delay costs the server (issue 28: at most 2 % of its CPU).

    python -m bench.lagcost [--racers 2000] [--repeat 3] [--chars 130] [--transport picows]
    python -m bench.lagcost --instructions        # needs valgrind (Debian package)

Two measures, as bench/hotpath.py has for the game's Python:

- **The whole server, on and off** (noisy): the standard workload (bench/__main__.py's
  load generator: rooms of 5, 80 WPM, inputs every 100 ms, a rematch at each race's
  end) on passages of --chars characters, so races of ~20 s start and end all through
  the window (the lag probe measures a player three times a race, and the standard
  bench's 5-minute races would hide that). Each run starts a fresh server with the
  probe on or off (Config's internal `measure_delay`, which no flag sets: the server
  is started through `python -m bench.lagcost serve on|off ...`), alternately, so both
  see the same noise. Prints the server's CPU per racer·s each way, the medians, and
  the share the difference is of the server's CPU with the probe on.
- **The probe path, in instructions** (noise-free): the real LagProbe over N racers
  seated in rooms (hotpath's in-memory links, each with a real loopback TCP socket for
  TCP_INFO, and a ping written to it), run over simulated races of --race-s seconds: a
  pass every PROBE_S s, the first PROBES_PER_RACE of a race measuring (a getsockopt, a
  ping whose pong is then timed as the transport times it), the others only looking.
  Counted by valgrind (cachegrind) at two numbers of races; the difference, per racer·s.
  It counts what runs in this process (the getsockopt and the write as syscalls, not
  the kernel's side of them; nor the WebSocket library parsing the pong frame).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import sys
import tempfile
import time
import urllib.request

from bench.__main__ import (code_copy, default_loop, drive, make_texts, rss_kib,
                            start_target, stop_target)
from bench.hotpath import MemoryLink, fill_rooms, instructions, valgrind_missing
from server.net.lag import PROBE_S, PROBES_PER_RACE, Delay
from server.net.transport.websockets_adapter import PING_FRAME

# The game's Python per racer·s in instructions, bench.hotpath --instructions on main
# (this branch, 2026-12-06; docs/performance.md): what the probe is compared to.
HOTPATH_INSTRUCTIONS = 404_097


# ---- the whole server, on and off ---------------------------------------------------------

def serve(argv: list[str]) -> int:
    """`python -m bench.lagcost serve on|off <server flags>`: `python -m server` with the
    lag probe on or off."""
    from server.__main__ import main as server_main
    switch, flags = argv[0], argv[1:]
    if switch not in ("on", "off"):
        raise SystemExit("python -m bench.lagcost serve: on or off first")
    return server_main(flags, measure_delay=switch == "on")


def rtt_samples(port: int) -> int:
    """How many delays the server measured (its /metrics): none with the probe off."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as page:
        text = page.read().decode()
    return int(float(re.search(r"^typerace_rtt_seconds_count (\S+)$", text, re.M).group(1)))


def whole_server(args) -> int:
    runs = {"on": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="typerace-lagcost-") as workdir:
        passage = make_texts(os.path.join(workdir, "texts.txt"), chars=args.chars)
        code_copy(workdir)
        for rep in range(args.repeat):
            order = ("on", "off") if rep % 2 == 0 else ("off", "on")
            for switch in order:
                proc, port = start_target("server", args.transport, args.loop, workdir,
                                          f"{switch}-{rep}", entry=("bench.lagcost", "serve",
                                                                    switch))
                try:
                    time.sleep(1.0)
                    point = drive([f"ws://127.0.0.1:{port}/ws"], [proc.pid], args.racers,
                                  "server", args, passage, {proc.pid: rss_kib(proc.pid)})
                    samples = rtt_samples(port)
                finally:
                    stop_target(proc)
                # per connected racer (between races a racer waits for the rematch;
                # `racing` counts race starts, rematches included)
                us = point["cpu_s"] * 1e6 / (args.racers * point["window_s"])
                runs[switch].append(us)
                print(f"probe {switch:3}: {us:6.1f} µs/racer·s (server CPU {point['cpu_s']} s "
                      f"over {point['window_s']} s), tick p99 {point['tick_p99_ms']} ms, "
                      f"errors {point['errors']}, lost {point['connections_lost']}, "
                      f"delays measured {samples}, "
                      f"load {point['loadavg']}", flush=True)
    on, off = statistics.median(runs["on"]), statistics.median(runs["off"])
    pairs = [a - b for a, b in zip(runs["on"], runs["off"])]
    print(f"\nmedian µs/racer·s: on {on:.1f}, off {off:.1f}: measuring costs {on - off:+.1f} "
          f"({100 * (on - off) / on:+.1f} % of the server); per pair (on − off): "
          + ", ".join(f"{d:+.1f}" for d in pairs)
          + f"; spread of the runs: on {min(runs['on']):.1f}-{max(runs['on']):.1f}, "
          f"off {min(runs['off']):.1f}-{max(runs['off']):.1f}")
    return 0


# ---- the probe path, in instructions ------------------------------------------------------

class ProbedLink(MemoryLink):
    """An in-memory link with what the probe uses of a real one: a Delay on a real TCP
    socket, and the keepalive's ping and pong as the websockets adapter does them."""

    __slots__ = ("delay", "pong_due", "keepalive_at", "ping_at", "sock")

    def __init__(self, keep: bool):
        super().__init__(keep)
        self.delay = None
        self.pong_due = False
        self.keepalive_at = self.ping_at = 0.0
        self.sock = None

    def ping(self) -> None:
        self.pong_due = True
        self.ping_at = time.monotonic()
        self.sock.send(PING_FRAME)

    def ponged(self) -> None:
        if self.pong_due:
            self.pong_due = False
            self.delay.pong((time.monotonic() - self.ping_at) * 1000)


def tcp_pairs(n: int) -> tuple[list[socket.socket], list[socket.socket]]:
    """n connected loopback TCP sockets (the server's ends) and their peers."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=n)
    ours, peers = [], []
    for _ in range(n):
        peer = socket.create_connection(listener.getsockname())
        ours.append(listener.accept()[0])
        peers.append(peer)
    listener.close()
    return ours, peers


async def probe_races(racers: int, races: int, race_s: float) -> float:
    """`races` simulated races of the real LagProbe over `racers` seated racers; the CPU
    seconds (time.process_time) they took."""
    from server.config import load_config
    from server.net.app import TyperaceServer
    from server.net.clock import ManualClock

    with tempfile.TemporaryDirectory() as workdir:
        texts = os.path.join(workdir, "texts.txt")
        make_texts(texts)
        config = load_config([], environ={}, db=os.path.join(workdir, "probe.db"),
                             texts=texts, port=0, max_conns_per_ip=0, room_rate=1_000_000)
        clock = ManualClock()
        server = TyperaceServer(config, clock=clock, run_ticker=False)
        await server.start()
        await server.lag.stop()                  # the passes are run here, not on a timer
        ours, peers = tcp_pairs(racers)
        try:
            seats = await fill_rooms(server, clock, racers, make_link=ProbedLink)
            links = [link for _, link, _ in seats]
            for link, sock in zip(links, ours):
                link.sock, link.delay = sock, Delay(sock)
            passes = max(1, round(race_s / PROBE_S))
            loop = asyncio.get_running_loop()
            started = time.process_time()
            for _ in range(races):
                for link in links:
                    link.delay.race_id = None    # a new race: measured again
                for n in range(passes):
                    server.lag.probe(loop.time())
                    if n < PROBES_PER_RACE:
                        for link in links:       # each pong, before the next pass
                            link.ponged()
            return time.process_time() - started
        finally:
            for sock in ours + peers:
                sock.close()
            await server.stop()


def count_instructions(racers: int, race_s: float, short: int = 1, long: int = 4) -> int:
    if valgrind_missing("bench.lagcost"):
        return 2

    def run(races: int) -> int:
        return instructions("bench.lagcost", "probe", "--racers", str(racers),
                            "--races", str(races), "--race-s", str(race_s))

    per_racer_s = (run(long) - run(short)) / (racers * (long - short) * race_s)
    print(f"{per_racer_s:,.0f} instructions per racer·s for measuring delays ({racers} racers, "
          f"{long} minus {short} races of {race_s:g} s: {PROBES_PER_RACE} measures and "
          f"{max(1, round(race_s / PROBE_S))} passes a race), "
          f"{100 * per_racer_s / HOTPATH_INSTRUCTIONS:.2f} % of the game's Python "
          f"({HOTPATH_INSTRUCTIONS:,} per racer·s, bench.hotpath --instructions)")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        return serve(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.lagcost",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    probe = sub.add_parser("probe", help="(under valgrind) simulated races of the probe")
    for p in (parser, probe):
        p.add_argument("--racers", type=int, default=None,
                       help="racers (default: 2000 on and off, 500 for instructions)")
        p.add_argument("--race-s", type=float, default=20.0, help="a race's length, s")
    probe.add_argument("--races", type=int, default=1)
    parser.add_argument("--instructions", action="store_true",
                        help="count the probe path's instructions under valgrind instead")
    parser.add_argument("--chars", type=int, default=130,
                        help="characters a passage (130: ~20 s at 80 WPM)")
    parser.add_argument("--repeat", type=int, default=3, help="runs each way, alternating")
    parser.add_argument("--transport", choices=("websockets", "picows"), default="websockets")
    parser.add_argument("--window", type=float, default=45.0,
                        help="measured seconds (45: two races, as rooms start in step)")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--procs", type=int, default=3, help="load-generator processes")
    parser.add_argument("--client-loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--ready-timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.command == "probe":
        cpu = asyncio.run(probe_races(args.racers or 500, args.races, args.race_s))
        print(f"{1e6 * cpu / ((args.racers or 500) * args.races * args.race_s):.2f} µs of CPU "
              f"per racer·s measuring delays")
        return 0
    if args.instructions:
        return count_instructions(args.racers or 500, args.race_s)
    args.racers = args.racers or 2000
    args.loop = default_loop(args.transport)
    return whole_server(args)


if __name__ == "__main__":
    raise SystemExit(main())
