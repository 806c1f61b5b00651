"""The `--workers` supervisor's router: one listener for the port, each connection handed
to the worker that owns the room its URL names.

Worker i runs with route tag base + i, so every code it makes starts with that tag's
character (server/net/codes.py). A client that connects for a room puts the code in
the URL (`GET /ws?room=CODE`), so the router reads the request line with MSG_PEEK (the
bytes stay in the socket for the worker's transport), maps the code's tag to its worker
and passes the socket over (server/net/handoff.py): every player of a room then sits on
the room's own process and its inputs and ticks never cross Redis. Everything else (a
quick race, the page, /healthz) goes to the workers in turn. A connection whose worker
is down or not yet listening goes to another, which answers for the room
(`room_not_found`, or the room is lost), as HAProxy does when a server is down; when
no worker listens (all restarting), the answer is 503.

The router decides on the first bytes that arrive: a request line cut by the network
before the code's first character (no client we know sends it so) goes in turn. A
connection that sends nothing within WAIT_S is closed (websockets gives a handshake as
long).

It runs in a thread of the supervisor, whose main thread starts and restarts workers.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

from server.net.codes import route_tag_of
from server.net.handoff import hand
from server.net.transport import http_refusal

log = logging.getLogger("typerace.router")

HEAD_PEEK = 2048            # bytes of a request read to find its line (a browser's: ~100)
WAIT_S = 10.0               # a connection that sends nothing in this long is closed
ACCEPTS_PER_WAKE = 64       # so that a flood of connections leaves room for requests
ACCEPT_PAUSE_S = 0.1        # after an accept failed for want of descriptors
ROOM_PARAM = "room"         # /ws?room=CODE (client_demo/client.py room_url)
NO_WORKER = http_refusal(503, "no worker is ready; try again in a moment")


def room_code(head: bytes) -> str | None:
    """The room named in an HTTP request's first line (`GET /ws?room=CODE HTTP/1.1`)."""
    line = head.split(b"\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) < 2 or b"?" not in parts[1]:
        return None
    query = urlsplit(parts[1].decode("latin-1")).query
    codes = parse_qs(query).get(ROOM_PARAM)
    return codes[0] if codes else None


def listeners(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address `host` names, without SO_REUSEPORT: nothing
    else can join the port. OSError when it is taken, socket.gaierror for a bad host."""
    found = []
    try:
        for family, kind, proto, _, address in socket.getaddrinfo(
                host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE):
            sock = socket.socket(family, kind, proto)
            found.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:       # as asyncio does: v4 on its own socket
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(socket.SOMAXCONN)
            sock.setblocking(False)
    except OSError:
        for sock in found:
            sock.close()
        raise
    return found


class Router:
    """Accepts on `socks` and hands each connection to a worker; `channels[i]` is the
    supervisor's end of worker i's channel while it listens, else None (set with
    `attach`/`detach` from the supervisor's thread)."""

    def __init__(self, socks: list[socket.socket], workers: int, base_tag: int):
        self.socks = socks
        self.base_tag = base_tag
        self.channels: list[socket.socket | None] = [None] * workers
        self.lock = threading.Lock()     # a channel is never closed while a hand-off uses it
        self.turn = 0
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        self._selector = selectors.DefaultSelector()
        self._waiting: dict[socket.socket, float] = {}    # in order of arrival
        self._thread = threading.Thread(target=self._run, name="router", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def attach(self, index: int, channel: socket.socket) -> None:
        with self.lock:
            self.channels[index] = channel

    def detach(self, index: int) -> None:
        with self.lock:
            channel, self.channels[index] = self.channels[index], None
        if channel is not None:
            channel.close()

    def stop(self) -> None:
        """Stop accepting; connections not yet handed over are closed."""
        self._stopping = True
        if self._thread.ident is not None:
            os.write(self._wake_w, b"x")
            self._thread.join()
        else:
            self._close()
        for index in range(len(self.channels)):
            self.detach(index)

    # ---- the router's thread ----

    def _run(self) -> None:
        selector = self._selector
        for sock in self.socks:
            selector.register(sock, selectors.EVENT_READ, self._accept)
        selector.register(self._wake_r, selectors.EVENT_READ, None)
        try:
            while not self._stopping:
                timeout = None
                if self._waiting:
                    timeout = max(0.0, next(iter(self._waiting.values())) - time.monotonic())
                for key, _ in selector.select(timeout):
                    if key.data is not None:
                        try:
                            key.data(key.fileobj)
                        except Exception:        # one connection's mishap must not
                            log.exception("routing failed")     # stop all routing
                            self._forget(key.fileobj)
                self._expire()
        finally:
            self._close()

    def _close(self) -> None:
        for conn in self._waiting:
            conn.close()
        for sock in self.socks:
            sock.close()
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _accept(self, sock: socket.socket) -> None:
        deadline = time.monotonic() + WAIT_S
        for _ in range(ACCEPTS_PER_WAKE):
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:          # e.g. out of descriptors: as asyncio does,
                log.warning("accept failed: %s; pausing", exc)     # wait a moment
                time.sleep(ACCEPT_PAUSE_S)
                return
            conn.setblocking(False)
            # The request mostly comes with the handshake's last packet: try it at once
            # (three system calls fewer than waiting for it to be readable).
            if not self._route(conn):
                self._waiting[conn] = deadline
                self._selector.register(conn, selectors.EVENT_READ, self._readable)

    def _readable(self, conn: socket.socket) -> None:
        # Unregistered before _route may close it: epoll watches the connection itself,
        # which the worker's copy keeps open, so a registration left behind by a close
        # would go on waking the router under a descriptor number used again since.
        self._selector.unregister(conn)
        deadline = self._waiting.pop(conn)
        if not self._route(conn):                # woken for nothing: wait on
            self._waiting[conn] = deadline
            self._selector.register(conn, selectors.EVENT_READ, self._readable)

    def _route(self, conn: socket.socket) -> bool:
        """Hand `conn` over (or close it: it closed, or no worker takes it) once its
        first bytes are in; False: none yet."""
        try:
            head = conn.recv(HEAD_PEEK, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            head = b""
        if head and not self._hand(conn, head):
            try:                  # no worker takes it: say so (the request read, so that
                conn.recv(HEAD_PEEK)          # closing sends no reset ahead of the answer)
                conn.send(NO_WORKER)
            except OSError:
                pass
        conn.close()                        # a worker has its own copy
        return True

    def _expire(self) -> None:
        now = time.monotonic()
        while self._waiting:
            conn, deadline = next(iter(self._waiting.items()))
            if deadline > now:
                return
            self._forget(conn)

    def _forget(self, conn: socket.socket) -> None:
        """Close a connection that is not handed over (a listener: never)."""
        if self._waiting.pop(conn, None) is not None:
            try:
                self._selector.unregister(conn)
            except (KeyError, ValueError):
                pass
            conn.close()

    def _hand(self, conn: socket.socket, head: bytes) -> bool:
        """To the owner of the room the request names if it listens, else by turn; a
        worker that can't take it is skipped. False: none could."""
        n = len(self.channels)
        code = room_code(head)
        tag = route_tag_of(code) if code else None
        order = list(range(n))
        if tag is not None and 0 <= tag - self.base_tag < n:
            owner = tag - self.base_tag
            order = [owner] + [i for i in order if i != owner]
        else:
            self.turn = (self.turn + 1) % n
            order = order[self.turn:] + order[:self.turn]
        with self.lock:
            for index in order:
                channel = self.channels[index]
                if channel is None:
                    continue
                try:
                    hand(channel, conn)
                except OSError:
                    continue
                return True
        return False
