"""`--workers N`: N server processes on one host, sharing the port and Redis.

Each worker is `python -m server` with the same flags plus `--workers 1 --reuse-port 1`:
the kernel (SO_REUSEPORT) spreads new connections over the workers, and the workers
act as one server through Redis (server.cluster.node). The supervisor passes SIGINT, SIGTERM
and SIGHUP on to the workers as SIGTERM (each drains; a second signal ends them at once),
and restarts a worker that dies (its rooms are lost, its players reconnect). The workers
run in a process group of their own: a Ctrl-C or a closed terminal signals the whole
foreground group, and a worker that got the signal itself and then the supervisor's
would take the second for "end at once".
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time

from server.net.logs import event
from server.net.saving import LOST_RESULTS_EXIT
from server.net.shutdown import SAVE_WAIT_S, STOP_SIGNALS

log = logging.getLogger("typerace.workers")

RESTART_DELAY_S = 1.0
CLOSE_WAIT_S = 30.0     # after its saves, a worker's connections get this long to close


def supervise(argv: list[str], n: int, drain_s: float) -> int:
    command = [sys.executable, "-m", "server", *argv, "--workers", "1", "--reuse-port", "1"]
    stopping = False

    def stop(signum, _frame):
        nonlocal stopping
        event(log, "shutdown_requested", signal=signal.Signals(signum).name, workers=n)
        stopping = True
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    def start():
        return subprocess.Popen(command, process_group=0)

    procs = [start() for _ in range(n)]
    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    print(f"Typerace: {n} workers (pids {', '.join(str(p.pid) for p in procs)})", flush=True)
    while not stopping:
        for i, proc in enumerate(procs):
            if proc.poll() is not None and not stopping:
                log.error("worker %d exited with %s; restarting it", proc.pid, proc.returncode)
                time.sleep(RESTART_DELAY_S)
                if not stopping:
                    procs[i] = start()
        time.sleep(0.2)     # the supervisor's poll interval
    # A worker drains for up to drain_s, then waits for its saves: give it that long.
    deadline = time.monotonic() + drain_s + SAVE_WAIT_S + CLOSE_WAIT_S
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # A worker that stopped with results unsaved (it named them in the log) says so.
    return LOST_RESULTS_EXIT if any(p.returncode == LOST_RESULTS_EXIT for p in procs) else 0
