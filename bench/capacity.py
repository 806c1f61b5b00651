"""Capacity at saturation: how many racers 1 and 2 server processes carry on equal CPU.

    python -m bench.capacity                   # one, two, two-spread, two-haproxy; 35 % of a core each
    python -m bench.capacity --share 0.3 --configs one,two --window 8
    python -m bench.capacity --transport picows --configs one     # picows on uvloop

Every server process runs in a cgroup of its own (the `cpu` controller, v1 or v2) that
lets it use at most --share of one core per 10 ms period, whatever else the machine
does. On a 2-core box the load generator then has the rest, so it can push each
configuration past what it carries instead of running out of CPU first.
For each configuration the racers (standard workload: rooms of 5 at 80 WPM, inputs
every 100 ms, msgpack) step up by --grow until the service level breaks, then the step
is halved between the last pass and the first failure down to --resolution.
A step passes when every racer races, ticks arrive at >= 9.5 per racer-second, tick
p99 <= 50 ms (the issue's latency target) and no error came back.

Configurations:
- one:        1 process, embedded SQLite (what `python -m server` runs);
- two:        2 processes sharing a private redis-server (store, bus, directory); each
              room's racers connect to the process of its room, as a load balancer that
              routes by invite code would have them;
- two-spread: the same 2 processes, but each room's racers alternate between them (a
              random load balancer): about half of every room's frames cross Redis;
- two-haproxy: the same 2 processes (--route-tag 0 and 1) behind a real haproxy running
              deploy/haproxy.cfg, every racer connecting to haproxy as real traffic
              does: a room's host first (leastconn picks the process), its guests once
              they have the code, with it in the URL (/ws?room=CODE). haproxy's own CPU
              is outside the shares (it is the balancer any deployment has).
- workers:    `python -m server --workers 2`, the racers connecting as for two-haproxy
              to the supervisor, which hands each room's guests to the room's worker
              (server/net/router.py); each worker in its own share, the supervisor
              outside them like haproxy (its CPU is reported: `router_cpu_s`).
Needs root (cgroups) and `redis-server` on PATH. Writes bench/results/capacity-<date>.json
and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

from bench.__main__ import (HERE, ROOT, code_copy, code_version, cpu_seconds, default_loop,
                            drive, make_texts, rss_kib, start_target, stop_target)
from bench.loadgen import GROUP
from bench.redis_runner import RedisServer, free_port

PERIOD_US = 10_000            # a short period: a throttled process waits at most ~7 ms
TICKS_MIN = 9.5               # per racer-second, of the 10 the server sends
TICK_P99_MAX = 50.0           # ms


class CpuShare:
    """A cgroup that holds processes to `share` of one core."""

    def __init__(self, name: str, share: float):
        quota = int(share * PERIOD_US)
        v2 = "/sys/fs/cgroup/cgroup.controllers"
        if os.path.exists(v2):
            self.path = f"/sys/fs/cgroup/{name}"
            os.makedirs(self.path, exist_ok=True)
            self._write("cpu.max", f"{quota} {PERIOD_US}")
        else:
            self.path = f"/sys/fs/cgroup/cpu/{name}"
            os.makedirs(self.path, exist_ok=True)
            self._write("cpu.cfs_period_us", str(PERIOD_US))
            self._write("cpu.cfs_quota_us", str(quota))

    def _write(self, name: str, value: str) -> None:
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def add(self, pid: int) -> None:
        self._write("cgroup.procs", str(pid))

    def throttled_s(self) -> float:
        """Time the group's processes were held back, in seconds (cpu.stat)."""
        with open(os.path.join(self.path, "cpu.stat")) as f:
            stat = dict(line.split() for line in f)
        if "throttled_usec" in stat:
            return int(stat["throttled_usec"]) / 1e6
        return int(stat.get("throttled_time", 0)) / 1e9

    def remove(self) -> None:
        try:
            os.rmdir(self.path)
        except OSError:
            pass


def trial(config: str, racers: int, args, workdir: str, passage: str, redis, n: int) -> dict:
    """Fresh servers (each in its own share), `racers` racing, measured, torn down."""
    procs = 1 if config == "one" else 2
    extra = () if config == "one" else ("--redis-url", redis.url)
    if redis is not None:
        redis.restart()                    # nothing left over from the last trial
    servers, shares, balancer, supervisor, pids = [], [], None, None, []
    try:
        if config == "workers":
            supervisor, port, pids = start_workers(args, workdir, f"cap-{config}-{n}", extra)
            for i, pid in enumerate(pids):
                share = CpuShare(f"typerace-bench-{os.getpid()}-{n}-{i}", args.share)
                share.add(pid)
                shares.append(share)
            servers = [(supervisor, port)]
        for i in range(procs if supervisor is None else 0):
            tag = ("--route-tag", str(i)) if config == "two-haproxy" else ()
            proc, port = start_target("server", args.transport, args.loop, workdir,
                                      f"cap-{config}-{n}-{i}", extra + tag)
            share = CpuShare(f"typerace-bench-{os.getpid()}-{n}-{i}", args.share)
            share.add(proc.pid)
            servers.append((proc, port))
            shares.append(share)
        if supervisor is None:
            pids = [p.pid for p, _ in servers]
        idle = {pid: rss_kib(pid) for pid in pids}
        urls = [f"ws://127.0.0.1:{port}/ws" for _, port in servers]
        if config == "two-haproxy":
            balancer, front = start_haproxy([port for _, port in servers])
            urls = [f"ws://127.0.0.1:{front}/ws"]
        throttled0 = sum(s.throttled_s() for s in shares)
        router0 = cpu_seconds(supervisor.pid) if supervisor is not None else 0.0
        try:
            result = drive(urls, pids, racers, "server", args, passage, idle,
                           spread=config == "two-spread",
                           routed=config in ("two-haproxy", "workers"))
        except RuntimeError as exc:          # the ramp never finished: far past capacity
            result = {"racers": racers, "racing": 0, "notes": [str(exc)[:200]]}
        result["throttled_s"] = round(sum(s.throttled_s() for s in shares) - throttled0, 2)
        if supervisor is not None:
            result["router_cpu_s"] = round(cpu_seconds(supervisor.pid) - router0, 2)
    finally:
        if balancer is not None:
            balancer.terminate()
            balancer.wait()
        for proc, _ in servers:
            stop_target(proc)
        if supervisor is not None:       # a supervisor killed in its drain leaves workers
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for share in shares:
            share.remove()
    result["config"] = config
    result["transport"] = args.transport
    result["loop"] = args.loop
    result["passed"] = passes(result)
    return result


def start_workers(args, workdir: str, tag: str, extra: tuple[str, ...]):
    """`python -m server --workers 2` on a free port: (supervisor, port, worker pids)."""
    port = free_port()
    proc, _ = start_target("server", args.transport, args.loop, workdir, tag,
                           (*extra, "--workers", "2", "--port", str(port)))
    line = ""
    while "workers (pids" not in line:      # after the other worker's "listening" line
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"--workers did not start: see {tag}.log")
    return proc, port, [int(p) for p in line.split("pids ", 1)[1].rstrip(")\n").split(", ")]


def start_haproxy(ports: list[int]) -> tuple[subprocess.Popen, int]:
    """haproxy with the shipped deploy/haproxy.cfg in front of the processes on `ports`."""
    front = free_port()
    env = {**os.environ, "TYPERACE_FRONT": f"127.0.0.1:{front}",
           **{f"TYPERACE_P{i}": f"127.0.0.1:{port}" for i, port in enumerate(ports)}}
    proc = subprocess.Popen(["haproxy", "-db", "-f", os.path.join(ROOT, "deploy", "haproxy.cfg")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", front), timeout=0.5).close()
            return proc, front
        except OSError:
            time.sleep(0.05)               # polling while haproxy starts
    proc.kill()
    raise RuntimeError("haproxy did not start")


def passes(r: dict) -> bool:
    return (r.get("racing") == r["racers"] and r.get("errors") == 0
            and (r.get("ticks_per_racer_s") or 0) >= TICKS_MIN
            and r.get("tick_p99_ms") is not None and r["tick_p99_ms"] <= TICK_P99_MAX)


def search(config: str, args, workdir: str, passage: str, redis, log: list) -> int:
    """The most racers (a multiple of GROUP) that passed; 0 if even the first step failed."""
    procs = 1 if config == "one" else 2
    good, bad = 0, None
    n = round(args.start * procs / GROUP) * GROUP
    while bad is None or (bad - good) > max(GROUP, args.resolution * good):
        r = trial(config, n, args, workdir, passage, redis, len(log))
        log.append(r)
        print(f"{config:10} {n:5} racers: {'pass' if r['passed'] else 'FAIL'}  "
              f"racing {r.get('racing')}, ticks/racer·s {r.get('ticks_per_racer_s')}, "
              f"tick p50/p99 {r.get('tick_p50_ms')}/{r.get('tick_p99_ms')} ms, "
              f"CPU {r.get('cpu_us_per_racer_s')} µs/racer·s, throttled {r['throttled_s']} s, "
              f"errors {r.get('errors')}", flush=True)
        if r["passed"]:
            good = n
        else:
            bad = n
        if bad is None:
            n = round(n * args.grow / GROUP) * GROUP
        else:
            n = round((good + bad) / 2 / GROUP) * GROUP
            if n in (good, bad):
                break
        if good == 0 and bad is not None and bad <= GROUP:
            break
    return good


def fixed(configs: list[str], args, workdir: str, passage: str, redis) -> int:
    """Each configuration at --fixed racers, in turn, --repeat times (so that the load
    of the machine falls on all alike): the median server CPU per racer-second."""
    cpu: dict[str, list[float]] = {config: [] for config in configs}
    for n in range(args.repeat):
        for config in configs:
            r = trial(config, args.fixed, args, workdir, passage, redis, n)
            print(f"{config:11} {args.fixed} racers: racing {r.get('racing')}, ticks/racer·s "
                  f"{r.get('ticks_per_racer_s')}, tick p50/p99 {r.get('tick_p50_ms')}/"
                  f"{r.get('tick_p99_ms')} ms, CPU {r.get('cpu_us_per_racer_s')} µs/racer·s"
                  + (f", router {r['router_cpu_s']} s" if "router_cpu_s" in r else ""),
                  flush=True)
            if r.get("cpu_us_per_racer_s") is not None:
                cpu[config].append(r["cpu_us_per_racer_s"])
    for config, values in cpu.items():
        values.sort()
        middle = values[len(values) // 2] if values else None
        print(f"{config:11} median CPU {middle} µs/racer·s of {values}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default="one,two,two-spread,two-haproxy")
    parser.add_argument("--share", type=float, default=0.35,
                        help="of one core, per server process")
    parser.add_argument("--start", type=int, default=800, help="racers per process to start at")
    parser.add_argument("--grow", type=float, default=1.25)
    parser.add_argument("--resolution", type=float, default=0.05)
    parser.add_argument("--window", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--procs", type=int, default=3, help="load-generator processes")
    parser.add_argument("--transport", choices=("websockets", "picows"), default="websockets")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default=None,
                        help="server event loop (default: uvloop for picows, else asyncio)")
    parser.add_argument("--client-loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--ready-timeout", type=float, default=45.0)
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--fixed", type=int, default=0,
                        help="no search: the configurations in turn at this many racers, "
                             "--repeat times, and the CPU each costs a racer (for a "
                             "machine too busy to find saturation; printed, not saved)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.loop is None:
        args.loop = default_loop(args.transport)
    configs = args.configs.split(",")
    stamp = datetime.now(timezone.utc)
    version = code_version()
    redis = None
    if any(c != "one" for c in configs):
        redis = RedisServer()
        redis.start()
    log: list = []
    capacity = {}
    try:
        with tempfile.TemporaryDirectory(prefix="typerace-capacity-") as workdir:
            passage = make_texts(os.path.join(workdir, "texts.txt"))
            code_copy(workdir)
            if args.fixed:
                return fixed(configs, args, workdir, passage, redis)
            for config in configs:
                capacity[config] = search(config, args, workdir, passage, redis, log)
    finally:
        if redis is not None:
            redis.close()
    md = report(capacity, args, stamp, version)
    print()
    print(md)
    if not args.no_save:
        name = "capacity-" + stamp.strftime("%Y-%m-%d-%H%M")
        out = os.path.join(HERE, "results")
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump({"date": stamp.isoformat(timespec="seconds"), "args": vars(args),
                       "command": "python -m bench.capacity " + " ".join(sys.argv[1:]),
                       "code": version,
                       "capacity": capacity, "trials": log}, f, indent=1)
        with open(os.path.join(out, name + ".md"), "w") as f:
            f.write(md + "\n")
        print(f"\nwrote bench/results/{name}.json and .md")
    return 0


def report(capacity: dict, args, stamp, version: str) -> str:
    one = capacity.get("one")
    lines = [f"Capacity at saturation, {stamp.isoformat(timespec='seconds')}: each server "
             f"process held to {args.share:g} of a core (cgroup), standard workload, service "
             f"level: all racing, >= {TICKS_MIN} ticks/racer·s, tick p99 <= {TICK_P99_MAX:g} ms, "
             f"no errors; transport {args.transport} on {args.loop}.",
             f"Command: `{' '.join(['python -m bench.capacity', *sys.argv[1:]])}`, "
             f"code {version}", "",
             "| configuration | racers carried | per process | × one process |",
             "|---|---:|---:|---:|"]
    for config, racers in capacity.items():
        procs = 1 if config == "one" else 2
        ratio = f"{racers / one:.2f}" if one else "—"
        lines.append(f"| {config} | {racers:,} | {racers // procs:,} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
