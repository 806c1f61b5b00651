"""The benchmark: the standard workload against our server and against the floor.

    python -m bench run                      # 500, 1000, 2000 racers; server and floor
    python -m bench run --racers 2000 --loop uvloop --window 20
    python -m bench run --racers 2000 --repeat 3 --transport picows     # on uvloop
    python -m bench load --url ws://host:8765/ws --url ws://host:8766/ws --racers 1000 \
        --pid 1234 --pid 1235                # drive running servers (round-robin by room)

Each point starts a fresh target (`python -m server` on a new SQLite file and a texts
file of long passages, or `python -m bench.floor`), measures its idle RSS, ramps the
racers up from several load-generator processes, waits until every racer races, lets
it settle (--warmup), then measures over --window seconds:
- server CPU: utime+stime from /proc/<pid>/stat, in µs per racer-second;
- RSS per racer: (VmRSS at the end of the window - idle VmRSS) / racers;
- tick latency p50/p99 and input-to-tick latency p99 from the racers.
Results go to bench/results/<date>-<time>.json and .md (the table docs/performance.md
shows); every point names its `transport` (websockets or picows: the server's
--transport and the floor's) and its `loop` (asyncio or uvloop; picows runs on uvloop
unless told).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from datetime import datetime, timezone

from bench.loadgen import GROUP, percentile, worker_main

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")

WORDS = ("the of and to in is was that for on with as by at from his her they which "
         "this have one had not but what all were when we there can an your who more "
         "time could people than first water been called long down day did get come "
         "made may part over new sound take only little work know place year live back "
         "give most very after thing our just name good sentence man think say great "
         "where help through much before line right too mean old any same tell boy follow "
         "came want show also around form three small set put end does another well large "
         "must big even such because turn here why ask went men read need land different "
         "home move try kind hand picture again change off play spell air away animal house "
         "point page letter mother answer found study still learn should world high every "
         "near add food between own below country plant last school father keep tree never "
         "start city earth eye light thought head under story saw left few while along "
         "might close something seem next hard open example begin life always those both "
         "paper together got group often run important until children side feet car mile "
         "night walk white sea began grow took river four carry state once book hear stop "
         "without second later miss idea enough eat face watch far really almost let above "
         "girl sometimes mountain cut young talk soon list song being leave family").split()


def make_texts(path: str, passages: int = 4, chars: int = 1900, seed: int = 8) -> str:
    """Long passages (1,900 characters: a racer at 80 WPM needs ~5 minutes), so races
    outlast the window."""
    rng = random.Random(seed)
    blocks = []
    for n in range(passages):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < chars:
            words.append(rng.choice(WORDS))
        body = " ".join(words)
        blocks.append(f"# Bench passage {n + 1}\n{body[0].upper()}{body[1:]}.")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n\n".join(blocks) + "\n")
    return blocks[0].split("\n", 1)[1]


# ---- /proc --------------------------------------------------------------------------

def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, all threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def cpu_seconds(pid: int) -> float:
    return sum(cpu_times(pid))


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


# ---- targets ------------------------------------------------------------------------

def code_copy(workdir: str) -> str:
    """The code the targets run, copied into the run's workdir when the first one starts:
    every point starts a fresh process, so without a copy an edit made while the bench
    runs would be measured from then on."""
    copy = os.path.join(workdir, "code")
    if not os.path.isdir(copy):
        skip = shutil.ignore_patterns("__pycache__", "results")
        for package in ("server", "protocol", "bench"):
            shutil.copytree(os.path.join(ROOT, package), os.path.join(copy, package),
                            ignore=skip)
    return copy


def code_version() -> str:
    """The commit measured (`-dirty`: with uncommitted changes)."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def start_target(kind: str, transport: str, loop: str, workdir: str, tag: str,
                 extra: tuple[str, ...] = (), entry: tuple[str, ...] = ("server",)
                 ) -> tuple[subprocess.Popen, int]:
    """`entry`: the server's `python -m` module and its first arguments (a bench may
    start it with internal settings, bench/lagcost.py)."""
    if kind == "server":
        # A server keeps its data in one store: its own SQLite file, or the Redis in extra.
        store = () if "--redis-url" in extra else ("--db", os.path.join(workdir, f"{tag}.db"))
        cmd = [sys.executable, "-m", *entry, "--port", "0", *store,
               "--texts", os.path.join(workdir, "texts.txt"),
               "--log-level", "warning", "--transport", transport, "--loop", loop,
               # every racer comes from 127.0.0.1: lift the per-address limits
               "--max-conns-per-ip", "0", "--room-rate", "1000000", *extra]
    else:
        cmd = [sys.executable, "-m", "bench.floor", "--port", "0", "--transport", transport,
               "--loop", loop]
    log = open(os.path.join(workdir, f"{tag}.log"), "w")
    proc = subprocess.Popen(cmd, cwd=code_copy(workdir), stdout=subprocess.PIPE, stderr=log,
                            text=True)
    line = proc.stdout.readline()
    if "listening on http://" not in line:
        proc.kill()
        proc.wait()
        log.close()
        with open(log.name) as f:
            raise RuntimeError(f"{kind} did not start: {line!r}\n{f.read()[-2000:]}")
    port = int(line.split("http://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    return proc, port


def stop_target(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---- one measurement ----------------------------------------------------------------

def drive(urls: list[str], pids: list[int], racers: int, mode: str, args, passage: str,
          rss_idle: dict[int, int], spread: bool = False, routed: bool = False,
          codec: str = "msgpack") -> dict:
    """Ramp up `racers` against `urls`, measure, tear down. Rooms go round-robin to the
    URLs; with `spread` each room's racers alternate between them instead; `routed`: one
    URL (a load balancer), each room's guests connecting with its code in the URL."""
    n = len(urls)
    if spread:
        groups = [(g, tuple(urls[(g + i) % n] for i in range(n)), False)
                  for g in range(racers // GROUP)]
    else:
        groups = [(g, (urls[g % n],), routed) for g in range(racers // GROUP)]
    procs = max(1, min(args.procs, len(groups)))
    ctx = mp.get_context("fork")
    workers = []
    for wid in range(procs):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=worker_main, daemon=True,
                        args=(wid, groups[wid::procs], mode, passage, child, args.client_loop,
                              args.ready_timeout, codec))
        p.start()
        workers.append((p, parent))
    started = time.time()
    racing = failures = 0
    notes: list = []
    for p, pipe in workers:
        if not pipe.poll(args.ready_timeout + 30):
            raise RuntimeError("a load-generator process never reported ready")
        _, n_racing, n, fails, errors = pipe.recv()
        racing += n_racing
        failures += n - n_racing
        notes.extend(fails + errors)
    ramp_s = time.time() - started
    t0 = time.time() * 1000 + args.warmup * 1000
    t1 = t0 + args.window * 1000
    for _, pipe in workers:
        pipe.send(("window", t0, t1))
    time.sleep(max(0.0, t0 / 1000 - time.time()))
    cpu0 = {pid: cpu_times(pid) for pid in pids}
    gen0 = sum(cpu_seconds(p.pid) for p, _ in workers)
    w0 = time.time()
    rss_peak = {pid: 0 for pid in pids}
    while time.time() < t1 / 1000:
        for pid in pids:
            rss_peak[pid] = max(rss_peak[pid], rss_kib(pid))
        time.sleep(min(1.0, max(0.0, t1 / 1000 - time.time())))
    cpu1 = {pid: cpu_times(pid) for pid in pids}
    gen1 = sum(cpu_seconds(p.pid) for p, _ in workers)
    w1 = time.time()
    rss_end = {pid: rss_kib(pid) for pid in pids}
    tick_lat, input_lat = array("d"), array("d")
    ticks = inputs = lost = errors = 0
    for _, pipe in workers:
        _, res = pipe.recv()
        tick_lat.frombytes(res["tick_lat"])
        input_lat.frombytes(res["input_lat"])
        ticks += res["ticks"]
        inputs += res["inputs"]
        lost += res["lost"]
        errors += res["errors"]
        notes.extend(res["error_samples"][:2])
    for p, pipe in workers:
        pipe.send(("stop",))
    for p, _ in workers:
        p.join(10)
        if p.is_alive():
            p.kill()
    window = w1 - w0
    user = sum(cpu1[pid][0] - cpu0[pid][0] for pid in pids)
    system = sum(cpu1[pid][1] - cpu0[pid][1] for pid in pids)
    cpu = user + system
    ticks_sorted = sorted(tick_lat)
    input_sorted = sorted(input_lat)
    rss_growth = sum(rss_end[pid] - rss_idle[pid] for pid in pids)

    def ms(v):
        return None if v is None else round(v, 1)

    return {
        "target": mode, "racers": racers, "racing": racing, "not_racing": failures,
        "ramp_s": round(ramp_s, 1), "window_s": round(window, 2),
        "cpu_s": round(cpu, 3),
        "cpu_us_per_racer_s": round(cpu * 1e6 / (racing * window), 1) if racing else None,
        # the kernel's share: on loopback it includes delivering our writes to the clients
        "system_us_per_racer_s": round(system * 1e6 / (racing * window), 1) if racing else None,
        "loadgen_cpu_s": round(gen1 - gen0, 2),
        "rss_idle_kib": sum(rss_idle.values()), "rss_kib": sum(rss_end.values()),
        "rss_peak_kib": sum(rss_peak.values()),
        "rss_per_racer_kib": round(rss_growth / racing, 2) if racing else None,
        "tick_p50_ms": ms(percentile(ticks_sorted, 0.50)),
        "tick_p99_ms": ms(percentile(ticks_sorted, 0.99)),
        "tick_max_ms": ms(ticks_sorted[-1] if ticks_sorted else None),
        "input_to_tick_p50_ms": ms(percentile(input_sorted, 0.50)),
        "input_to_tick_p99_ms": ms(percentile(input_sorted, 0.99)),
        "ticks_per_racer_s": round(ticks / (racing * args.window), 2) if racing else None,
        "inputs_per_racer_s": round(inputs / (racing * args.window), 2) if racing else None,
        "connections_lost": lost, "errors": errors, "notes": [str(n)[:200] for n in notes[:6]],
        "loadavg": open("/proc/loadavg").read().split()[:3],
    }


def default_loop(transport: str) -> str:
    """picows runs on uvloop (what --transport picows runs); websockets on asyncio."""
    return "uvloop" if transport == "picows" else "asyncio"


def run_point(kind: str, racers: int, args, workdir: str, passage: str) -> dict:
    proc, port = start_target(kind, args.transport, args.loop, workdir, f"{kind}-{racers}")
    try:
        time.sleep(1.0)
        idle = {proc.pid: rss_kib(proc.pid)}
        result = drive([f"ws://127.0.0.1:{port}/ws"], [proc.pid], racers, kind, args, passage,
                       idle, codec=args.codec)
    finally:
        stop_target(proc)
    result["transport"] = args.transport
    result["loop"] = args.loop
    return result


def fmt(v, unit=""):
    return "—" if v is None else f"{v}{unit}"


def table(points: list[dict]) -> str:
    by = {(p["target"], p["racers"]): p for p in points}
    sizes = sorted({p["racers"] for p in points})
    lines = [
        "| racers | server CPU µs/racer·s | floor µs/racer·s | ratio | tick p50 / p99 ms "
        "| floor tick p50 / p99 ms | input→tick p99 ms | ticks/racer·s | RSS KiB/racer "
        "| floor RSS KiB/racer |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        s, f = by.get(("server", n), {}), by.get(("floor", n), {})
        ratio = None
        if s.get("cpu_us_per_racer_s") and f.get("cpu_us_per_racer_s"):
            ratio = round(s["cpu_us_per_racer_s"] / f["cpu_us_per_racer_s"], 2)
        lines.append(
            f"| {n:,} | {fmt(s.get('cpu_us_per_racer_s'))} | {fmt(f.get('cpu_us_per_racer_s'))} "
            f"| {fmt(ratio)} | {fmt(s.get('tick_p50_ms'))} / {fmt(s.get('tick_p99_ms'))} "
            f"| {fmt(f.get('tick_p50_ms'))} / {fmt(f.get('tick_p99_ms'))} "
            f"| {fmt(s.get('input_to_tick_p99_ms'))} | {fmt(s.get('ticks_per_racer_s'))} "
            f"| {fmt(s.get('rss_per_racer_kib'))} "
            f"| {fmt(f.get('rss_per_racer_kib'))} |")
    return "\n".join(lines)


def cmd_run(args) -> int:
    sizes = [int(n) for n in args.racers.split(",")]
    targets = args.targets.split(",")
    stamp = datetime.now(timezone.utc)
    points = []
    version = code_version()
    with tempfile.TemporaryDirectory(prefix="typerace-bench-") as workdir:
        passage = make_texts(os.path.join(workdir, "texts.txt"))
        code_copy(workdir)
        for n in sizes:
            for rep in range(args.repeat):          # interleaved: both see the same noise
                for kind in targets:
                    point = run_point(kind, n, args, workdir, passage)
                    point["repeat"] = rep
                    points.append(point)
                    print(f"{kind:6} {n:5} racers: {point['cpu_us_per_racer_s']} µs/racer·s "
                          f"({point['system_us_per_racer_s']} system), "
                          f"tick p50/p99 {point['tick_p50_ms']}/{point['tick_p99_ms']} ms, "
                          f"input→tick p50/p99 {point['input_to_tick_p50_ms']}/{point['input_to_tick_p99_ms']} ms, "
                          f"RSS {point['rss_per_racer_kib']} KiB/racer, "
                          f"racing {point['racing']}/{n}, errors {point['errors']}, "
                          f"lost {point['connections_lost']}, "
                          f"load-gen CPU {point['loadgen_cpu_s']} s, "
                          f"load {point['loadavg']}", flush=True)
    best = _median_points(points)
    md = table(best)
    meta = {"date": stamp.isoformat(timespec="seconds"), "machine": {
                "cpus": os.cpu_count(), "python": platform.python_version(),
                "platform": platform.platform()},
            "workload": {"group": GROUP, "wpm": 80, "send_ms": 100, "tick_hz": 10,
                         "codec": args.codec, "window_s": args.window, "warmup_s": args.warmup,
                         "transport": args.transport, "loop": args.loop,
                         "client_loop": args.client_loop,
                         "procs": args.procs, "repeat": args.repeat},
            "command": "python -m bench " + " ".join(sys.argv[1:]), "code": version,
            "points": points, "table": best}
    print()
    print(md)
    if not args.no_save:
        name = stamp.strftime("%Y-%m-%d-%H%M")
        write_report(meta, name)
        print(f"\nwrote bench/results/{name}.json and .md")
    return 0


def write_report(meta: dict, name: str) -> None:
    """bench/results/<name>.json (every point) and .md (the table docs/performance.md shows)."""
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(meta, f, indent=1)
    w = meta["workload"]
    loads = sorted({float(p["loadavg"][0]) for p in meta["points"]})
    with open(os.path.join(out, name + ".md"), "w") as f:
        f.write(f"Standard workload (rooms of {w['group']}, {w['wpm']} WPM, inputs every "
                f"{w['send_ms']} ms, {w['tick_hz']} Hz ticks, {w['codec']}), {meta['date']}, "
                f"transport {w.get('transport', 'websockets')} on {w['loop']} (server and "
                f"floor), {w['window_s']:g} s window, "
                f"{meta['machine']['cpus']} CPUs shared by server, load generator and other "
                f"work (1-min load average {loads[0]:g}-{loads[-1]:g} during the run).\n"
                f"Command: `{meta['command']}`, code {meta.get('code', 'unknown')}\n\n"
                f"{table(meta['table'])}\n")


def cmd_report(args) -> int:
    """Rewrite the .md of a saved run from its .json."""
    with open(args.json) as f:
        meta = json.load(f)
    write_report(meta, os.path.basename(args.json).rsplit(".", 1)[0])
    print(table(meta["table"]))
    return 0


def _median_points(points: list[dict]) -> list[dict]:
    """With --repeat, the run with the median CPU figure stands for each (target, size)."""
    groups: dict = {}
    for p in points:
        groups.setdefault((p["target"], p["racers"]), []).append(p)
    out = []
    for runs in groups.values():
        runs = sorted(runs, key=lambda p: p["cpu_us_per_racer_s"] or 0)
        out.append(runs[(len(runs) - 1) // 2])
    return out


def cmd_load(args) -> int:
    """Drive servers that are already running; CPU/RSS from --pid if given."""
    pids = args.pid or []
    idle = {pid: rss_kib(pid) for pid in pids}
    mode = "floor" if args.floor else "server"
    with tempfile.TemporaryDirectory(prefix="typerace-bench-") as workdir:
        passage = make_texts(os.path.join(workdir, "texts.txt"))   # what floor racers type
    result = drive(args.url, pids, args.racers, mode, args, passage, idle, codec=args.codec)
    print(json.dumps(result, indent=1))
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["soak"]:                 # faults on a schedule: bench/soak.py
        from bench.soak import main as soak
        return soak(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "load"):
        p = sub.add_parser(name, help="measure the standard workload" if name == "run" else
                           "drive servers that already run")
        p.add_argument("--window", type=float, default=20.0, help="measured seconds")
        p.add_argument("--warmup", type=float, default=3.0, help="seconds racing before it")
        p.add_argument("--procs", type=int, default=3, help="load-generator processes")
        p.add_argument("--client-loop", choices=("asyncio", "uvloop"), default="asyncio")
        p.add_argument("--ready-timeout", type=float, default=60.0)
        p.add_argument("--codec", choices=("msgpack", "json"), default="msgpack",
                       help="the racers' codec: json as the web page speaks it, every "
                       "message numbered (bench/wire.py); the floor speaks msgpack only")
    run = sub.choices["run"]
    run.add_argument("--racers", default="500,1000,2000")
    run.add_argument("--targets", default="server,floor")
    run.add_argument("--transport", choices=("websockets", "picows"), default="websockets",
                     help="WebSocket library of the server and the floor")
    run.add_argument("--loop", choices=("asyncio", "uvloop"), default=None,
                     help="event loop of the server and the floor (default: uvloop for "
                     "picows, asyncio for websockets)")
    run.add_argument("--repeat", type=int, default=1, help="runs per point (median kept)")
    run.add_argument("--no-save", action="store_true")
    load = sub.choices["load"]
    load.add_argument("--url", action="append", required=True)
    load.add_argument("--pid", type=int, action="append")
    load.add_argument("--racers", type=int, default=1000)
    load.add_argument("--floor", action="store_true", help="the URLs are floor servers")
    report = sub.add_parser("report", help="rewrite a saved run's .md from its .json")
    report.add_argument("json")
    args = parser.parse_args(argv)
    if args.command == "run" and args.loop is None:
        args.loop = default_loop(args.transport)
    if args.command in ("run", "load") and args.codec == "json" and (
            getattr(args, "floor", False) or "floor" in getattr(args, "targets", "")):
        parser.error("--codec json: the floor speaks msgpack only (use --targets server)")
    return {"run": cmd_run, "load": cmd_load, "report": cmd_report}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
