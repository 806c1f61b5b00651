"""A soak anyone can run: players racing over several processes and one Redis for a
while, with faults on a schedule, and what the players saw checked against what was
stored.

    .venv/bin/python -m bench soak [--players 60] [--processes 2] [--minutes 5]
                                   [--fault-every 30] [--faults kill,redis,stop]
                                   [--stop-s 10] [--faults-for MINUTES] [--no-save]

Each process is `python -m server` on a port of its own with `--route-tag` and the same
Redis (with an append-only file, as a production Redis keeping results must have). The
players (asyncio tasks of this process) connect to the processes in turn, say hello
with their token after any drop (through the next process if theirs is down, as the
balancer does), and race quick races over and over, typing like people (2 characters
every 250 ms). Every `--fault-every` seconds the next fault of `--faults`
happens: `kill` (SIGKILL a process, start it again at once on its port), `redis`
(restart Redis), `stop` (SIGSTOP a process for --stop-s, then SIGCONT).

The report (printed, and saved as bench/results/soak-<time>.json and .md):
- results seen vs stored: every `finish` and `results` entry a player was shown, looked
  up in the store at the end; `lost` must be 0, and a stored result must equal what
  was shown (status, place, wpm);
- time back to racing after each fault kind, p50 / p95 / max: for each player that was
  racing when the fault happened (a tick within 0.5 s before), from the fault to its
  first tick after the gap the fault made, a gap starting within 1 s of the fault (a
  player the fault did not touch, whose first gap is its race's end, is not counted);
- RSS of each process over time (every 10 s), and its slope at steady load (MB/min,
  least squares): over the second half of the run, or, with `--faults-for M`, over what
  follows the first STEADY_AFTER_S of fault-free load after minute M (faults stop at M,
  so no process restarts inside the window and its RSS says whether memory leaks);
- tracebacks in the processes' logs (must be 0).
Exit status 1 when a result was lost or a traceback was logged (CI runs a short one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

from websockets.exceptions import WebSocketException

from client_demo.client import Client, ServerError
from bench.redis_runner import RedisServer, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PASSAGES = [
    "The quick brown fox jumps over the lazy dog while the cat watches from the warm sill.",
    "Pack my box with five dozen liquor jugs, then carry it home before the rain begins.",
    "How vexingly quick daft zebras jump when the sun comes up over the quiet green hills.",
    "Sphinx of black quartz, judge my vow, and tell the patient travellers what you saw.",
]
CHUNK, PAUSE_S = 2, 0.25         # 2 characters every 250 ms: 96 WPM, like a fast person
RSS_EVERY_S = 10.0
QUICK_RACE_ID = 1                # its reply, or its refusal, carries this id
REASK_S = 0.5                    # a refused quick race is asked again after this long
STEADY_AFTER_S = 60.0   # rooms refill and caches warm after the last fault
# What a fault does to a player's connection (a process gone, frozen or refusing it):
# the player connects again; anything else is a bug in the soak and ends it.
FAULTS = (WebSocketException, OSError, TimeoutError, ServerError)


class Process:
    """One server process on a port of its own, that can be killed and started again."""

    def __init__(self, index: int, port: int, redis_url: str, workdir: str):
        self.index, self.port, self.redis_url = index, port, redis_url
        self.log_path = os.path.join(workdir, f"p{index}.log")
        self.texts = os.path.join(workdir, "texts.txt")
        self.proc: subprocess.Popen | None = None
        self.rss: list[tuple[float, float]] = []     # (seconds into the run, MiB)

    def start(self) -> None:
        cmd = [sys.executable, "-m", "server", "--port", str(self.port), "--route-tag",
               str(self.index), "--redis-url", self.redis_url, "--texts", self.texts,
               "--countdown-s", "2", "--lobby-wait-s", "2", "--log-level", "warning",
               "--drain-s", "5",
               "--secret", "a soak's shared secret, long enough to sign tokens",
               "--max-conns-per-ip", "0", "--room-rate", "1000000"]
        log = open(self.log_path, "a")
        with log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=log,
                                         text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"process {self.index} did not start: see {self.log_path}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def sample_rss(self, at: float) -> None:
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        self.rss.append((at, int(line.split()[1]) / 1024))
        except OSError:
            pass

    def tracebacks(self) -> int:
        with open(self.log_path, errors="replace") as f:
            return sum(1 for line in f if "Traceback" in line)


class Player:
    def __init__(self, n: int, urls: list[str], rng: random.Random):
        self.name, self.rng, self.urls, self.at = f"Soak{n}", rng, urls, n % len(urls)
        self.token: str | None = None
        self.player_id: str | None = None
        self.seen: dict[tuple[str, str], dict] = {}   # (race_id, player_id) -> result shown
        self.ticks: list[float] = []                  # monotonic times of ticks received
        self.drops = 0

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            try:
                client = await Client.connect(self.urls[self.at], "msgpack")
            except FAULTS:
                # Down: the next one (haproxy.cfg's redispatch), a pause after all.
                self.at = (self.at + 1) % len(self.urls)
                if self.at == 0:
                    await asyncio.sleep(0.5)
                continue
            try:
                welcome = await client.hello(self.name, self.token)
                self.token, self.player_id = welcome["token"], welcome["player_id"]
                await self._race(client, until)
            except FAULTS:
                self.drops += 1                     # a fault ended it: connect again
            finally:
                await client.close()

    async def _race(self, client: Client, until: float) -> None:
        """Race quick races until `until`. Typing starts when the room says racing after
        a countdown, or from a `resume`'s position after a reconnect."""
        typing: asyncio.Task | None = None
        seated, body = False, None

        def type_from(pos: int, wrong: str = "") -> asyncio.Task:
            if typing is not None:
                typing.cancel()
            return asyncio.create_task(self._type(client, "\b" * len(wrong) + body[pos:]))

        try:
            while time.monotonic() < until:
                if not seated:
                    await client.send({"type": "quick_race", "id": QUICK_RACE_ID})
                    seated = True
                message = await client.recv(timeout=30)
                client.seen.clear()                 # (the client keeps everything otherwise)
                kind = message.get("type")
                if kind == "tick":
                    self.ticks.append(time.monotonic())
                elif kind == "countdown":
                    body = message["text"]["body"]
                elif kind == "room" and message["room"].get("state") == "racing" \
                        and body is not None and typing is None:
                    typing = type_from(0)
                elif kind == "resume" and body is not None:
                    seated = True
                    if message.get("status") == "racing":
                        typing = type_from(message["pos"], message.get("wrong", ""))
                elif kind == "results":
                    for entry in message.get("ranking", []):
                        if entry.get("player_id") == self.player_id and not entry.get("ghost"):
                            self._shown(message["race_id"], entry)
                    seated, body = False, None
                    if typing is not None:
                        typing.cancel()
                        typing = None
                elif kind == "error" and message.get("id") == QUICK_RACE_ID:
                    await asyncio.sleep(REASK_S)    # refused (unavailable): ask again
                    seated, body = False, None
                elif kind in ("left", "kicked") or (kind == "error"
                                                    and message.get("code") == "room_lost"):
                    seated, body = False, None
        finally:
            if typing is not None:
                typing.cancel()

    def _shown(self, race_id: str, result: dict) -> None:
        if result.get("status") == "finished":
            self.seen[(race_id, self.player_id)] = {"wpm": result.get("wpm"),
                                                    "place": result.get("place")}

    async def _type(self, client: Client, keys: str) -> None:
        for i in range(0, len(keys), CHUNK):
            await client.send({"type": "input", "keys": keys[i:i + CHUNK]})
            await asyncio.sleep(PAUSE_S * self.rng.uniform(0.8, 1.2))


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _slope(points: list[tuple[float, float]]) -> float | None:
    """MiB per minute, least squares."""
    if len(points) < 3:
        return None
    xs, ys = [p[0] / 60 for p in points], [p[1] for p in points]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else None


def back_to_racing(players: list[Player], at: float) -> list[float]:
    """Seconds from a fault at `at` to each touched player's first tick after its gap."""
    backs = []
    for p in players:
        before = [t for t in p.ticks if at - 0.5 <= t < at]
        after = [t for t in p.ticks if t >= at]
        if not before or not after:
            continue                              # not racing then, or never again
        gap = next(((a, b) for a, b in zip([at] + after, after) if b - a > 1.0), None)
        if gap is None or gap[0] > at + 1.0:      # ticks went on: the fault did not touch
            continue                              # it (a later gap is its race's end)
        backs.append(gap[1] - at)
    return backs


async def check_stored(redis_url: str, players: list[Player]) -> tuple[int, int, list]:
    from server.store.redis import RedisStore
    store = RedisStore(redis_url)
    await store.open()
    seen, lost, differ = 0, 0, []
    try:
        races: dict[str, object] = {}
        for p in players:
            for (race_id, pid), shown in p.seen.items():
                seen += 1
                if race_id not in races:
                    races[race_id] = await store.get_race(race_id)
                race = races[race_id]
                stored = next((r for r in race.results if r.player_id == pid), None) if race else None
                if stored is None:
                    lost += 1
                elif shown["wpm"] is not None and abs(stored.wpm - shown["wpm"]) > 1e-6:
                    differ.append((race_id, pid, shown, stored.wpm))
    finally:
        await store.close()
    return seen, lost, differ


async def soak(args) -> dict:
    workdir = tempfile.mkdtemp(prefix="typerace-soak-")
    with open(os.path.join(workdir, "texts.txt"), "w") as f:
        f.write("\n\n".join(PASSAGES) + "\n")
    redis = RedisServer(persistent=True)
    redis.start()
    procs = [Process(i, free_port(), redis.url, workdir) for i in range(args.processes)]
    for proc in procs:
        proc.start()
    rng = random.Random(args.seed)
    urls = [f"ws://127.0.0.1:{proc.port}/ws" for proc in procs]
    players = [Player(n, urls, random.Random(rng.random())) for n in range(args.players)]
    start = time.monotonic()
    until = start + args.minutes * 60
    tasks = [asyncio.create_task(p.run(until)) for p in players]
    faults: list[tuple[str, float, int]] = []     # (kind, monotonic time, process)
    kinds = [k for k in args.faults.split(",") if k]
    next_fault, next_rss, n = start + args.fault_every, start, 0
    faults_until = until if args.faults_for is None else start + args.faults_for * 60
    try:
        while time.monotonic() < until:
            now = time.monotonic()
            if now >= next_rss:
                for proc in procs:
                    proc.sample_rss(now - start)
                next_rss += RSS_EVERY_S
            if kinds and now >= next_fault and now < faults_until - args.fault_every / 2:
                kind, target = kinds[n % len(kinds)], procs[n % len(procs)]
                faults.append((kind, now, target.index))
                print(f"{now - start:6.1f} s  fault: {kind}"
                      f"{'' if kind == 'redis' else f' process {target.index}'}", flush=True)
                await asyncio.get_running_loop().run_in_executor(
                    None, _fault, kind, target, redis, args.stop_s)
                # (how long the restart took: its share of the time back to racing)
                print(f"{'':8s}back after {time.monotonic() - now:.1f} s", flush=True)
                n += 1
                next_fault += args.fault_every
            await asyncio.sleep(0.2)
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for proc in procs:
            if proc.proc.poll() is None:
                proc.proc.send_signal(signal.SIGCONT)
                proc.proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.proc.kill()
    seen, lost, differ = await check_stored(redis.url, players)
    redis.close()
    by_kind: dict[str, list[float]] = {}
    for kind, at, _ in faults:
        by_kind.setdefault(kind, []).extend(back_to_racing(players, at))
    steady = (args.minutes * 30 if args.faults_for is None
              else args.faults_for * 60 + STEADY_AFTER_S)
    return {
        "command": "python -m bench soak " + " ".join(sys.argv[2:] if sys.argv[1:2] == ["soak"]
                                                       else sys.argv[1:]),
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "players": args.players, "processes": args.processes, "minutes": args.minutes,
        "faults": [{"kind": k, "at_s": round(t - start, 1), "process": i} for k, t, i in faults],
        "results_seen": seen, "results_lost": lost, "results_differ": len(differ),
        "back_to_racing_s": {k: {"n": len(v), "p50": _pct(v, 0.5), "p95": _pct(v, 0.95),
                                 "max": max(v) if v else None} for k, v in by_kind.items()},
        "rss_mib": {f"p{p.index}": p.rss for p in procs},
        "rss_steady_from_s": steady,
        "rss_slope_mib_per_min": {f"p{p.index}": _slope([x for x in p.rss if x[0] >= steady])
                                  for p in procs},
        "tracebacks": sum(p.tracebacks() for p in procs),
        "drops": sum(p.drops for p in players),
        "logs": workdir,
    }


def _fault(kind: str, target: Process, redis: RedisServer, stop_s: float) -> None:
    if kind == "kill":
        target.kill()
        target.start()
    elif kind == "redis":
        redis.restart()
    elif kind == "stop":
        target.proc.send_signal(signal.SIGSTOP)
        time.sleep(stop_s)
        target.proc.send_signal(signal.SIGCONT)
    else:
        raise ValueError(f"unknown fault {kind!r}")


def markdown(r: dict) -> str:
    lines = [f"# Soak {r['at']}", "", f"Command: `{r['command']}`", "",
             f"{r['players']} players, {r['processes']} processes, {r['minutes']} min; "
             f"faults: {', '.join(f['kind'] for f in r['faults']) or 'none'}", "",
             f"- results seen {r['results_seen']}, **lost {r['results_lost']}**, "
             f"stored differently {r['results_differ']}",
             f"- tracebacks {r['tracebacks']}; connections dropped {r['drops']}", "",
             "| fault | players touched | back to racing p50 | p95 | max |", "|---|---|---|---|---|"]
    for kind, b in r["back_to_racing_s"].items():
        fmt = (lambda v: "–" if v is None else f"{v:.1f} s")
        lines.append(f"| {kind} | {b['n']} | {fmt(b['p50'])} | {fmt(b['p95'])} | {fmt(b['max'])} |")
    lines += ["", f"| process | RSS start → end (MiB) | slope from {r['rss_steady_from_s']:.0f} s"
                  " (MiB/min) |", "|---|---|---|"]
    for name, points in r["rss_mib"].items():
        slope = r["rss_slope_mib_per_min"][name]
        span = f"{points[0][1]:.1f} → {points[-1][1]:.1f}" if points else "–"
        lines.append(f"| {name} | {span} | {'–' if slope is None else f'{slope:+.3f}'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench soak",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, default=60)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--fault-every", type=float, default=30.0, help="seconds")
    parser.add_argument("--faults", default="kill,redis,stop")
    parser.add_argument("--stop-s", type=float, default=10.0)
    parser.add_argument("--faults-for", type=float, metavar="MINUTES",
                        help="faults only in the first MINUTES; the rest is steady load")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--json", help="also write the report to this file")
    args = parser.parse_args(argv)
    report = asyncio.run(soak(args))
    text = markdown(report)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    if not args.no_save:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d-%H%M")
        base = os.path.join(HERE, "results", f"soak-{stamp}")
        with open(base + ".json", "w") as f:
            json.dump(report, f, indent=1)
        with open(base + ".md", "w") as f:
            f.write(text)
        print(f"saved {base}.md and .json")
    return 1 if report["results_lost"] or report["tracebacks"] or report["results_differ"] else 0


if __name__ == "__main__":
    sys.exit(main())
