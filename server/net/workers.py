"""`--workers N`: N server processes on one host, behind one port, sharing Redis.

The supervisor listens on the port itself and hands every connection to a worker
(server/net/router.py): to the worker that owns the room the URL names
(`/ws?room=CODE`), so a room's players share its process, else to the workers in turn.
Worker i is `python -m server` with the same flags plus `--workers 1 --route-tag T+i`
(T: the supervisor's --route-tag, 0 by default), and TYPERACE_WORKER in its environment:
the supervisor's pid, a pipe and its end of the hand-off channel
(server/net/handoff.py). A worker listens on no port of its own (server/__main__.py
checks that its parent is the pid named); the supervisor binds the port without
SO_REUSEPORT, so no other server can join it and split the players between two stores.
The workers act as one server through Redis (server.cluster.node).

A worker writes one byte to the pipe once it takes connections. The workers start one
after another; one that exits before it listens (an unreachable Redis, a bad --texts file)
stops the supervisor: the others are stopped and the supervisor exits with that worker's
status (the worker has printed its one line). A worker that dies later is restarted (its
rooms are lost, its players reconnect; meanwhile its rooms' connections go to the
others), backing off while it keeps failing to start;
after RESTARTS_GIVEN_UP failed starts in a row the supervisor stops the others and exits
with the worker's status.

The supervisor passes SIGINT, SIGTERM and SIGHUP on to the workers as SIGTERM (each
drains; a second signal ends them at once) and stops accepting once they have stopped.
The workers run in a process group of their
own: a Ctrl-C or a closed terminal signals the whole foreground group, and a worker that
got the signal itself and then the supervisor's would take the second for "end at once".
"""

from __future__ import annotations

import errno
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time

from server.net.codes import ROUTE_TAGS
from server.net.handoff import channel_pair
from server.net.logs import event
from server.net.router import Router, listeners
from server.net.saving import LOST_RESULTS_EXIT
from server.net.shutdown import SAVE_WAIT_S, STOP_SIGNALS

log = logging.getLogger("typerace.workers")

WORKER_ENV = "TYPERACE_WORKER"   # "<supervisor pid>:<fd of the ready pipe>:<fd of the channel>"
FIRST_RESTART_S = 1.0
LAST_RESTART_S = 30.0
RESTARTS_GIVEN_UP = 5       # failed starts in a row of one worker before the supervisor stops
POLL_S = 0.2                # the supervisor's poll interval
CLOSE_WAIT_S = 30.0         # after its saves, a worker's connections get this long to close


class StartFailed(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def is_supervised(environ=os.environ) -> bool:
    """Whether this process is a worker its own supervisor started: the variable must
    name the parent process."""
    value = environ.get(WORKER_ENV, "")
    return value.split(":", 1)[0] == str(os.getppid())


def handoff_fd(environ=os.environ) -> int | None:
    """A worker's end of its hand-off channel (None for a lone server, which listens)."""
    if not is_supervised(environ):
        return None
    return int(environ[WORKER_ENV].split(":")[2])


def listening(environ=os.environ) -> None:
    """A worker tells its supervisor that it takes connections (nothing for a lone
    server)."""
    if is_supervised(environ):
        fd = int(environ[WORKER_ENV].split(":")[1])
        try:
            os.write(fd, b"1")
            os.close(fd)
        except OSError:
            pass                      # the supervisor is gone; it will be noticed


def route_tags_error(workers: int, base_tag: int | None) -> str | None:
    """Why N workers can't each get a route tag from `base_tag` on, or None."""
    base = base_tag or 0
    if base + workers > ROUTE_TAGS:
        return (f"--workers {workers} gives each worker its own route tag from --route-tag "
                f"{base} on, and there are {ROUTE_TAGS} (0-{ROUTE_TAGS - 1})")
    return None


class Worker:
    """One worker process, started and waited for until it listens; the router hands it
    connections from then until it exits."""

    def __init__(self, command: list[str], index: int, router: Router):
        self.command = command
        self.index = index
        self.router = router
        self.proc: subprocess.Popen | None = None
        self.failed_starts = 0

    def start(self) -> None:
        """Start the worker and wait until it listens; StartFailed if it exits first."""
        self.router.detach(self.index)        # the last run's channel, if any
        ready_r, ready_w = os.pipe()
        channel, theirs = channel_pair()
        env = {**os.environ, WORKER_ENV: f"{os.getpid()}:{ready_w}:{theirs.fileno()}"}
        try:
            self.proc = subprocess.Popen(self.command, process_group=0, env=env,
                                         pass_fds=(ready_w, theirs.fileno()))
        finally:
            os.close(ready_w)
            theirs.close()
        try:
            while True:
                readable, _, _ = select.select([ready_r], [], [], POLL_S)
                if readable:
                    if os.read(ready_r, 1):
                        self.failed_starts = 0
                        self.router.attach(self.index, channel)
                        return
                    break                 # EOF: the worker closed it without a word
                if self.proc.poll() is not None:
                    break
        finally:
            os.close(ready_r)
        channel.close()
        status = self.proc.wait()
        self.failed_starts += 1
        raise StartFailed(status or 1)

    def exited(self) -> bool:
        """Whether it has exited (its connections then go to the others)."""
        if self.proc is not None and self.proc.poll() is not None:
            self.router.detach(self.index)
            return True
        return False


def bind(host: str, port: int) -> list | None:
    """The port's listening sockets, or None after printing why not."""
    try:
        return listeners(host, port)
    except socket.gaierror as exc:
        print(f"python -m server: error: --host {host}: no such address ({exc.strerror})",
              file=sys.stderr)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"python -m server: error: --port {port}: already in use on {host} "
                  "(another server? only one deployment's own workers may share a port)",
                  file=sys.stderr)
        else:
            print(f"python -m server: error: --host {host} --port {port}: {exc.strerror}",
                  file=sys.stderr)
    return None


def supervise(argv: list[str], n: int, drain_s: float, host: str, port: int,
              base_tag: int) -> int:
    socks = bind(host, port)
    if socks is None:
        return 1
    router = Router(socks, n, base_tag)
    workers = [Worker([sys.executable, "-m", "server", *argv, "--workers", "1",
                       "--route-tag", str(base_tag + i)], i, router)
               for i in range(n)]
    stopping = False

    def stop_all():
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.proc is not None and worker.proc.poll() is None:
                worker.proc.send_signal(signal.SIGTERM)

    def stop(signum, _frame):
        event(log, "shutdown_requested", signal=signal.Signals(signum).name, workers=n)
        stop_all()

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    status = 0
    try:
        for worker in workers:
            if not stopping:
                worker.start()
        # Connections that came while the workers started waited in the listen queue.
        router.start()
        print(f"Typerace: {n} workers (pids {', '.join(str(w.proc.pid) for w in workers)})",
              flush=True)
        while not stopping:
            for worker in workers:
                if worker.exited() and not stopping:
                    _restart(worker, lambda: stopping)
            if not router.alive():        # nothing would reach the workers any more
                log.error("the router stopped; stopping the workers")
                stop_all()
                status = 1
            time.sleep(POLL_S)
    except StartFailed as failed:
        if not stopping:
            stop_all()
            status = failed.status if failed.status > 0 else 128 - failed.status
    # A worker drains for up to drain_s, then waits for its saves: give it that long.
    # Its connections stay open meanwhile, and newcomers still reach it (and hear that
    # it is shutting down), as when it listened itself.
    deadline = time.monotonic() + drain_s + SAVE_WAIT_S + CLOSE_WAIT_S
    for worker in workers:
        if worker.proc is None:
            continue
        try:
            worker.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            worker.proc.wait()
    router.stop()
    if status:
        return status
    # A worker that stopped with results unsaved (it named them in the log) says so.
    lost = any(w.proc is not None and w.proc.returncode == LOST_RESULTS_EXIT for w in workers)
    return LOST_RESULTS_EXIT if lost else 0


def _restart(worker: Worker, stopping) -> None:
    """Start a dead worker again, backing off while it fails to start; StartFailed after
    RESTARTS_GIVEN_UP failures in a row."""
    log.error("worker %d exited with %s; restarting it", worker.proc.pid, worker.proc.returncode)
    while not stopping():
        wait_until = time.monotonic() + min(LAST_RESTART_S,
                                            FIRST_RESTART_S * 2 ** worker.failed_starts)
        while time.monotonic() < wait_until:
            if stopping():
                return
            time.sleep(POLL_S)
        try:
            worker.start()
            return
        except StartFailed:
            if worker.failed_starts >= RESTARTS_GIVEN_UP:
                log.error("worker failed to start %d times in a row; stopping",
                          worker.failed_starts)
                raise
