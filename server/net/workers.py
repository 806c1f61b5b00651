"""`--workers N`: N server processes on one host, sharing the port and Redis.

Each worker is `python -m server` with the same flags plus `--workers 1 --reuse-port 1`:
the kernel (SO_REUSEPORT) spreads new connections over the workers, and the workers
act as one server through Redis (server.cluster.node). The supervisor forwards SIGINT and
SIGTERM, and restarts a worker that dies (its rooms are lost, its players reconnect).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time

log = logging.getLogger("typerace.workers")

RESTART_DELAY_S = 1.0


def supervise(argv: list[str], n: int) -> int:
    command = [sys.executable, "-m", "server", *argv, "--workers", "1", "--reuse-port", "1"]
    stopping = False

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    procs = [subprocess.Popen(command) for _ in range(n)]
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"Typerace: {n} workers (pids {', '.join(str(p.pid) for p in procs)})", flush=True)
    while not stopping:
        for i, proc in enumerate(procs):
            if proc.poll() is not None and not stopping:
                log.error("worker %d exited with %s; restarting it", proc.pid, proc.returncode)
                time.sleep(RESTART_DELAY_S)
                if not stopping:
                    procs[i] = subprocess.Popen(command)
        time.sleep(0.2)     # the supervisor's poll interval
    deadline = time.monotonic() + 15
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return 0
