"""The websockets adapter of the transport port (the default transport).

websockets does the handshake (origin allow-list, subprotocol), the framing, the
close handshake and the limits; a handler task per connection pumps its messages into
the session's `frame`. Inputs mostly skip that task: server/net/transport/wsconn.py
splits the byte stream into frames itself and hands small binary frames to the same
`frame` straight from the socket read. Ready frames are written to the connection's
asyncio transport as they are (compression is off and we never fragment, so the bytes
are exactly what `ws.send` would write).
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from http import HTTPStatus

from websockets.asyncio.server import serve as ws_serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response
from websockets.protocol import State
from websockets.server import ServerProtocol

from server.net.handoff import Receiver
from server.net.lag import Delay, link_socket
from server.net.transport import FrameBudget, HttpResponse, choose_subprotocol, peer_ip
from server.net.transport.keepalive import Keepalive
from server.net.transport.wsconn import Connection, abort_half_open

OPEN = State.OPEN
NO_HEADERS = Headers()   # what a connection's handshake keeps once it is open (never written)
# Our pings, one ready frame (FIN, opcode 9, unmasked): the keepalive's and the delay
# probe's (server/net/lag.py) are written like any ready frame, with no task and no wait.
PING_DATA = b"tr"
PING_FRAME = bytes((0x89, len(PING_DATA))) + PING_DATA


class LinkConnection(Connection):
    """wsconn's connection, telling its link of the pongs that answer our pings (the
    rest go to websockets, which ignores pongs it did not ask for)."""

    def __init__(self, *args, **kwargs):
        self.link = None          # set at construction: setting it later grows __dict__
        super().__init__(*args, **kwargs)

    def acknowledge_pings(self, data: bytes) -> None:
        link = self.link
        if link is not None and data == PING_DATA:
            link.ponged()
            return
        super().acknowledge_pings(data)


class WebsocketsLink:
    """The port's Link over a websockets ServerConnection."""

    __slots__ = ("ws", "ip", "subprotocol", "keepalive_at", "delay", "pong_due", "_ping_at",
                 "_server")

    def __init__(self, ws: Connection, server: "WebsocketsServer"):
        self.ws = ws
        self.ip = peer_ip(ws.remote_address)
        self.subprotocol = ws.subprotocol
        self.keepalive_at = 0.0
        self.delay = Delay(link_socket(ws.transport))    # server/net/lag.py
        self.pong_due = False          # a ping of ours awaits its pong
        self._ping_at = 0.0            # the loop's time of that ping
        self._server = server

    @property
    def open(self) -> bool:
        return self.ws.protocol.state is OPEN

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    @property
    def close_reason(self) -> str:
        return self.ws.close_reason or ""

    def write(self, wire: bytes) -> None:
        if self.ws.protocol.state is OPEN:
            self.ws.transport.write(wire)

    def buffered(self) -> int:
        """asyncio's transport buffer plus whatever websockets still holds."""
        ws = self.ws
        transport = ws.transport
        size = transport.get_write_buffer_size() if transport is not None else 0
        writes = ws.protocol.writes
        if writes:
            size += sum(len(w) for w in writes)
        return size

    def close(self, code: int, reason: str) -> None:
        # Not awaited: the handler goes on reading (and the session ignoring) what the
        # peer already sent, which the close handshake needs.
        self._server.spawn(self.ws.close(code, reason))

    def abort(self) -> None:
        if self.ws.transport is not None:
            self.ws.transport.abort()

    # ---- keepalive (server/net/transport/keepalive.py) ----

    def ping(self) -> None:
        # Written as it is, behind what is queued (websockets' ping() would wait while the
        # send buffer is full, and so need a task of its own).
        ws = self.ws
        if ws.protocol.state is OPEN and ws.transport is not None:
            self.pong_due = True
            self._ping_at = ws.loop.time()
            ws.transport.write(PING_FRAME)

    def ponged(self) -> None:
        if self.pong_due:
            self.pong_due = False
            self.delay.pong((self.ws.loop.time() - self._ping_at) * 1000)

    def fail(self, code: int, reason: str) -> None:
        self._server.spawn(self._fail(code, reason))

    async def _fail(self, code: int, reason: str) -> None:
        """Send the close frame and drop the connection without waiting for an answer."""
        ws = self.ws
        try:
            async with ws.send_context():
                ws.protocol.fail(code, reason)
        except ConnectionClosed:
            pass


def _response(answer: HttpResponse) -> Response:
    headers = Headers()
    headers["Content-Type"] = answer.content_type
    headers["Content-Length"] = str(len(answer.body))
    # websockets closes the connection after any answer but a WebSocket upgrade.
    headers["Connection"] = "close"
    for key, value in answer.headers:
        headers[key] = value
    body = b"" if answer.head else answer.body
    return Response(answer.status, HTTPStatus(answer.status).phrase, headers, body)


def unreachable_listener() -> socket.socket:
    """A listening socket nobody can connect to: a Unix socket whose path is gone."""
    with tempfile.TemporaryDirectory(prefix="typerace-") as folder:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(os.path.join(folder, "none"))
        sock.listen(1)
    return sock


class WebsocketsServer:
    def __init__(self, app, config, subprotocols: list[str]):
        self.app = app
        self.config = config
        self.subprotocols = subprotocols
        self.keepalive = Keepalive(config.ping_interval_s, config.ping_timeout_s)
        self.port = 0
        self._server = None
        self._receiver = None           # a --workers worker's hand-off channel
        self._tasks: set[asyncio.Task] = set()
        origins = config.origins
        # What websockets' protocol and connection are made with, for every connection
        # whoever accepted it (ws_serve, or the supervisor: see adopt).
        self._protocol_options = dict(
            subprotocols=subprotocols, max_size=config.max_frame,
            # None admits clients that send no Origin (see transport.origin_allowed)
            origins=None if origins is None else [*origins, None])
        self._connection_options = dict(
            ping_interval=None,         # one Keepalive task for all, not one per connection
            close_timeout=config.ping_timeout_s)

    async def start(self) -> None:
        config = self.config
        handed = config.handoff_fd is not None
        # A worker listens on no port: websockets' server (which refuses handshakes once
        # it stops serving) serves a socket nobody can reach; connections come via adopt.
        where = dict(sock=unreachable_listener()) if handed else \
            dict(host=config.host, port=config.port)
        self._server = await ws_serve(
            self._handler, **where,
            select_subprotocol=self._select_subprotocol,
            process_request=self._process_request, compression=None,
            create_connection=LinkConnection,
            **self._protocol_options, **self._connection_options)
        self.port = config.port if handed else self._server.sockets[0].getsockname()[1]
        if handed:
            self._receiver = Receiver(config.handoff_fd, self.adopt)
        self.keepalive.start()

    def adopt(self, sock: socket.socket) -> None:
        """A connection accepted by the --workers supervisor, nothing read from it yet:
        served as if our listener had accepted it (websockets documents its serve as a
        thin wrapper over its protocol and connection classes: these are made here as
        serve makes them, and the connection calls the server's handler, handshake
        included, when the socket is connected)."""
        self.spawn(asyncio.get_running_loop().connect_accepted_socket(self._connection, sock))

    def _connection(self) -> LinkConnection:
        protocol = ServerProtocol(   # (a plain function: websockets binds it to the protocol)
            select_subprotocol=lambda _, offers: choose_subprotocol(offers, self.subprotocols),
            **self._protocol_options)
        return LinkConnection(protocol, self._server, **self._connection_options)

    async def close(self, timeout: float | None = None) -> None:
        if self._receiver is not None:
            self._receiver.close()
        self._server.close(close_connections=True)      # with 1001 (going away)
        abort_half_open(self._server)
        try:
            await asyncio.wait_for(self._server.wait_closed(), timeout)
        finally:
            await self.keepalive.stop()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _select_subprotocol(self, connection, offers):
        return choose_subprotocol(offers, self.subprotocols)

    def _process_request(self, connection, request):
        answer = self.app.route(request.method, request.path.split("?", 1)[0],
                                peer_ip(connection.remote_address))
        if answer is None:        # the handshake goes on: from now on, frames count
            connection.frames = FrameBudget(self.config, connection.loop.time())
            return None
        return _response(answer)

    async def _handler(self, ws: Connection) -> None:
        link = WebsocketsLink(ws, self)
        ws.link = link
        session = self.app.opened(link)
        # The handshake's headers (~3.5 KiB per connection) are not needed once the
        # codec and address are known: websockets reads them only during the handshake.
        # The request and response objects stay (websockets tells a handshake from a
        # frame by `request is None`); they share one empty Headers.
        ws.request.headers = ws.response.headers = NO_HEADERS
        self.keepalive.add(link)
        frame = session.frame
        ws.on_frame = frame
        try:
            async for message in ws:
                frame(message)
        except ConnectionClosed:
            pass
        finally:
            ws.on_frame = ws.link = None
            self.keepalive.discard(link)
            session.closed()


async def serve(app, config, subprotocols: list[str]) -> WebsocketsServer:
    server = WebsocketsServer(app, config, subprotocols)
    await server.start()
    return server
