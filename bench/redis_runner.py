"""A private, throw-away redis-server: started on a free port of its own, stopped,
restarted, frozen and thawed on the same port, for the tests (tests/redis_fixture.py)
and the benches (bench.capacity, bench.soak, ...), which need it without pytest.

Nothing survives a restart (no RDB, no AOF) unless it is made with
``RedisServer(persistent=True)``: then it keeps an append-only file (fsync on every
write) in its temporary directory, as a production Redis holding results should.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from urllib.parse import quote

REDIS_SERVER = "redis-server"


def free_port() -> int:
    # The kernel picks a free port; there is a small window before redis-server binds
    # it, which start() covers by retrying on a fresh port if the first start fails.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers_ping(port: int) -> bool:
    """True if something on `port` answers a RESP PING (-NOAUTH and -LOADING count: it
    is up)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = s.recv(64)
    except OSError:
        return False
    return reply.startswith((b"+PONG", b"-NOAUTH", b"-LOADING"))


class RedisServer:
    """One redis-server process that can be stopped and started again on its port."""

    def __init__(self, *, password: str | None = None, start_timeout: float = 10.0,
                 persistent: bool = False):
        self.password = password
        self.persistent = persistent
        self.start_timeout = start_timeout
        self.port: int | None = None  # chosen at the first start, then kept
        self._dir = tempfile.TemporaryDirectory(prefix="typerace-redis-")
        self._proc: subprocess.Popen | None = None
        self._load_delay_us = 0

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the server (on the same port as before, if it ran before)."""
        assert not self.running, "redis-server is already running"
        if self.port is not None:
            self._spawn(self.port)
            return
        # First start: a port picked by free_port() may be taken meanwhile; retry.
        for _ in range(3):
            port = free_port()
            try:
                self._spawn(port)
            except RuntimeError:
                continue
            self.port = port
            return
        raise RuntimeError("could not start redis-server on a free port")

    def _spawn(self, port: int) -> None:
        args = [
            REDIS_SERVER,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "yes" if self.persistent else "no",
            "--dir", self._dir.name,
        ]
        if self.persistent:
            args += ["--appendfsync", "always"]
        if self.password:
            args += ["--requirepass", self.password]
        if self._load_delay_us:       # Redis's own testing knobs: load slowly, answering
            args += ["--key-load-delay", str(self._load_delay_us),   # LOADING meanwhile
                     "--loading-process-events-interval-bytes", "1024"]
        log = open(os.path.join(self._dir.name, "redis.log"), "ab")
        with log:
            self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break  # exited early: port taken, bad option...
            if _answers_ping(port):
                return
            time.sleep(0.02)  # polling interval while the process starts
        self._kill()
        raise RuntimeError(f"redis-server did not answer PING on port {port}: "
                           f"see {self._dir.name}/redis.log")

    def stop(self) -> None:
        """Stop the server at once (SIGKILL: the clients see their sockets close)."""
        self._kill()

    def restart(self, load_delay_us: int = 0) -> None:
        """Stop and start again; `load_delay_us` slows the loading of saved data by that
        much a key, so a test can meet a Redis that answers LOADING for a while."""
        self.stop()
        self._load_delay_us = load_delay_us
        self.start()

    def freeze(self) -> None:
        """SIGSTOP: the server keeps its sockets open but answers nothing (a hang)."""
        assert self.running
        self._proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.running
        self._proc.send_signal(signal.SIGCONT)

    def _kill(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.kill()  # SIGKILL works on a frozen process too
        self._proc.wait(timeout=10)
        self._proc = None

    def close(self) -> None:
        self._kill()
        self._dir.cleanup()

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"RedisServer({self.url}, running={self.running})"
