"""The picows adapter of the transport port (--transport picows; runs on uvloop).

picows (a Cython WebSocket library, PyPI `picows`) parses frames in C and calls one
listener object per connection with each frame; pings are answered for us. The rest
of what websockets does for the other adapter is here, in a few lines each:
- the handshake's decisions: HTTP routes, connection limits and the Origin allow-list
  before it, the subprotocol;
- messages from frames: fragments joined (a message over --max-frame closes with
  1009; picows itself closes a single frame over it), text checked as UTF-8 (1007),
  a misplaced continuation or data frame, or one with a reserved bit set, closes with
  1002 (picows passes those on);
- every frame held to the frame budget (transport.FrameBudget; over it: 1008), pings
  too: so we answer them, not picows;
- what picows lets through in the handshake: Sec-WebSocket-Version 8 and 7 (400 here,
  as websockets answers), and a request whose lines end in LF alone (400 at once:
  server/net/transport/picows_protocol.py);
- the closing handshake: ours (close frame, wait for the peer's, drop it when it does
  not come within --ping-timeout-s) and the peer's (answered with its code).

Memory per connection (picows' own floor measured 29 KiB per racer): picows reads into
a buffer per connection, 16 KiB unless told (it grows when a frame needs it; a racer's
frames are ~40 bytes), so READ_BUFFER (picows_protocol.py) asks for its minimum; given
a Logger it makes a child Logger per connection, so it gets one LoggerAdapter for all;
ws_create_server would run on aiofastnet's transport (installed with picows; ~5.5 KiB
more per connection than uvloop's own), so the server is made with the loop's
create_server; the handshake's headers are dropped once the connection is open. One
object per connection, the listener, is also the app's Link. (A bare connection,
handshake and one frame: 28.7 KiB of RSS with picows' defaults, 8.6 KiB so.)
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus

from multidict import CIMultiDict
from picows import WSListener, WSMsgType, WSUpgradeResponse, WSUpgradeResponseWithListener

from protocol.codes import CloseCode
from server.net.handoff import Receiver
from server.net.lag import Delay, link_socket
from server.net.transport import (FRAME_FLOOD, RESERVED_BITS, FrameBudget, HttpResponse,
                                  choose_subprotocol, origin_allowed, ws_version_refusal)
from server.net.transport.keepalive import Keepalive
from server.net.transport.picows_protocol import Log, PicowsProtocol

NO_STATUS = 1005              # a close frame without a code (RFC 6455 7.1.5)
ABNORMAL = 1006               # the connection ended without a close frame from the peer
BINARY, TEXT, CONTINUATION = WSMsgType.BINARY, WSMsgType.TEXT, WSMsgType.CONTINUATION
PING, PONG, CLOSE = WSMsgType.PING, WSMsgType.PONG, WSMsgType.CLOSE
NO_HEADERS: CIMultiDict = CIMultiDict()   # the handshake's headers once it is done (never written)


def _response(answer: HttpResponse) -> WSUpgradeResponse:
    response = WSUpgradeResponse()
    response.version = b"HTTP/1.1"
    response.status = HTTPStatus(answer.status)
    response.headers = CIMultiDict([("Content-Type", answer.content_type), *answer.headers])
    response.body = answer.body          # picows adds Content-Length and Connection: close
    return response


def _refusal(status: int, text: str) -> WSUpgradeResponseWithListener:
    return WSUpgradeResponseWithListener(
        _response(HttpResponse(status, text.encode() + b"\n", "text/plain; charset=utf-8")), None)


class PicowsLink(WSListener):
    """One connection: picows' listener and the port's Link in one object."""

    __slots__ = ("server", "transport", "tcp", "session", "ip", "subprotocol",
                 "keepalive_at", "pong_due", "delay", "ping_at", "frames", "_parts",
                 "_parts_kind", "_parts_size", "_close_timer")

    def __init__(self, server: "PicowsServer"):
        self.server = server
        self.transport = None        # picows' WSTransport, once open
        self.tcp = None              # the event loop's transport under it
        self.session = None
        self.ip = ""
        self.subprotocol = None
        self.keepalive_at = 0.0
        self.pong_due = False
        self.delay = None            # its measured round trip (server/net/lag.py), once open
        self.ping_at = 0.0           # the loop's time of the last ping
        self.frames = None           # the frame budget, once open
        self._parts = None           # the fragments of a message not yet whole
        self._parts_kind = BINARY
        self._parts_size = 0
        self._close_timer = None

    # ---- the handshake ----

    def upgrade(self, request):
        """picows' listener factory for this connection: the answer to its request
        (always a GET over HTTP/1.1: picows answers anything else with 400 itself)."""
        server = self.server
        if server.closing:
            return _refusal(503, "the server is shutting down")
        answer = server.app.route("GET", request.path.decode("latin-1").split("?", 1)[0],
                                  self.ip)
        if answer is not None:
            return WSUpgradeResponseWithListener(_response(answer), None)
        headers = request.headers
        if not origin_allowed(headers.get("Origin"), server.origins):
            return _refusal(403, "this web origin may not connect")
        refusal = ws_version_refusal(headers.get("Sec-WebSocket-Version"))
        if refusal is not None:               # picows takes 8 and 7 too
            return _refusal(400, refusal)
        # Firefox asks with "Connection: keep-alive, Upgrade"; picows takes only "Upgrade".
        tokens = [t.strip().lower() for t in headers.get("Connection", "").split(",")]
        if "upgrade" in tokens:
            headers["Connection"] = "Upgrade"
        offers = [offer.strip() for line in headers.getall("Sec-WebSocket-Protocol", ())
                  for offer in line.split(",")]
        self.subprotocol = choose_subprotocol(offers, server.subprotocols)
        extra = {"Sec-WebSocket-Protocol": self.subprotocol} if self.subprotocol else None
        return WSUpgradeResponseWithListener(WSUpgradeResponse.create_101_response(extra), self)

    def on_ws_connected(self, transport) -> None:
        self.transport = transport
        self.frames = FrameBudget(self.server.config, self.server.loop.time())
        self.delay = Delay(link_socket(self.tcp))
        transport.request.headers = NO_HEADERS
        transport.response.headers = NO_HEADERS
        server = self.server
        server.opening.discard(self)
        server.links.add(self)
        server.keepalive.add(self)
        self.session = server.app.opened(self)

    # ---- frames in ----

    def on_ws_frame(self, transport, frame) -> None:
        if not self.frames.spend(self.server.loop.time) or frame.rsv1 or frame.rsv2 \
                or frame.rsv3 or transport.is_close_frame_sent:
            self._refuse_frame(frame)
            return
        kind = frame.msg_type
        if kind == BINARY and frame.fin and self._parts is None:
            self.session.frame(frame.get_payload_as_bytes())     # an input, mostly
        elif kind == BINARY or kind == TEXT or kind == CONTINUATION:
            self._data(frame)
        elif kind == PING:
            transport.send_pong(frame.get_payload_as_bytes())
        elif kind == PONG:
            if self.pong_due:
                self.delay.pong((asyncio.get_running_loop().time() - self.ping_at) * 1000)
            self.pong_due = False
        elif kind == CLOSE:
            self._peer_closed(frame)

    def _refuse_frame(self, frame) -> None:
        """A frame after our close frame (picows goes on handing us the frames it has
        already read): ignored, but the peer's close. Else a frame over the budget, or
        with a reserved bit set (no extension is ever agreed): fail the connection."""
        if self.transport.is_close_frame_sent:
            if frame.msg_type == CLOSE:
                self._peer_closed(frame)
            return
        if frame.rsv1 or frame.rsv2 or frame.rsv3:
            self._drop(CloseCode.PROTOCOL_ERROR, RESERVED_BITS)
        else:
            self._drop(CloseCode.POLICY, FRAME_FLOOD)

    def _data(self, frame) -> None:
        """A text frame, or a frame of a fragmented message (RFC 6455 5.4)."""
        kind = frame.msg_type
        if (kind == CONTINUATION) != (self._parts is not None):
            self._drop(CloseCode.PROTOCOL_ERROR, "unexpected continuation frame"
                       if kind == CONTINUATION else "expected a continuation frame")
            return
        if frame.fin and kind != CONTINUATION:
            self._message(kind, frame.get_payload_as_bytes())
            return
        if self._parts is None:
            self._parts, self._parts_kind, self._parts_size = [], kind, 0
        self._parts_size += frame.payload_size
        if self._parts_size > self.server.max_frame:
            self._parts = None
            self._drop(CloseCode.TOO_BIG, f"message over {self.server.max_frame} bytes")
            return
        self._parts.append(frame.get_payload_as_bytes())
        if frame.fin:
            message, self._parts = b"".join(self._parts), None
            self._message(self._parts_kind, message)

    def _message(self, kind, data: bytes) -> None:
        if kind == BINARY:
            self.session.frame(data)
            return
        try:
            text = data.decode()
        except UnicodeDecodeError:
            self._drop(CloseCode.INVALID_DATA, "invalid UTF-8")
            return
        self.session.frame(text)

    # ---- frames out ----

    @property
    def open(self) -> bool:
        transport = self.transport
        return not (transport.is_close_frame_sent or transport.is_disconnected)

    def write(self, wire: bytes) -> None:
        transport = self.transport
        if not (transport.is_close_frame_sent or transport.is_disconnected):
            self.tcp.write(wire)

    def buffered(self) -> int:
        return self.tcp.get_write_buffer_size()

    # ---- closing ----

    @property
    def close_code(self) -> int:
        """The code the peer's close frame carried (1006: it sent none), as websockets
        reports it."""
        shake = self.transport.close_handshake
        if shake is None or shake.recv is None:
            return ABNORMAL
        return int(shake.recv.code) or NO_STATUS

    @property
    def close_reason(self) -> str:
        shake = self.transport.close_handshake
        return shake.recv.reason if shake is not None and shake.recv is not None else ""

    def close(self, code: int, reason: str) -> None:
        transport = self.transport
        if transport.is_close_frame_sent or transport.is_disconnected:
            return
        transport.send_close(code, reason.encode())
        self._arm_close_timer()

    def _drop(self, code: int, reason: str) -> None:
        """Fail the connection (RFC 6455 7.1.7): our close frame, then end TCP."""
        transport = self.transport
        if not transport.is_close_frame_sent:
            transport.send_close(code, reason.encode())
        transport.disconnect()
        self._arm_close_timer()

    def _peer_closed(self, frame) -> None:
        transport = self.transport
        if not transport.is_close_frame_sent:
            code = int(frame.get_close_code())
            if code:
                transport.send_close(code, frame.get_close_message())
            else:                                 # no code: an empty close frame back
                transport.send(CLOSE, b"")
        transport.disconnect()                   # after what is queued has gone
        self._arm_close_timer()

    def _arm_close_timer(self) -> None:
        """A peer that does not answer our close frame, or does not read what is still
        queued for it, is dropped after --ping-timeout-s."""
        if self._close_timer is None:
            self._close_timer = asyncio.get_running_loop().call_later(
                self.server.close_timeout, self.tcp.abort)

    def abort(self) -> None:
        self.tcp.abort()

    def on_ws_disconnected(self, transport) -> None:
        server = self.server
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        server.keepalive.discard(self)
        server.links.discard(self)
        if server.closing and not server.links:
            server.drained.set()
        if self.session is not None:
            self.session.closed()

    # ---- keepalive (server/net/transport/keepalive.py) ----

    def ping(self) -> None:
        self.pong_due = True
        self.ping_at = asyncio.get_running_loop().time()
        self.transport.send_ping()

    def fail(self, code: int, reason: str) -> None:
        """A peer that stopped answering: our close frame, and no wait for its answer."""
        transport = self.transport
        if not transport.is_close_frame_sent:
            transport.send_close(code, reason.encode())
        self.tcp.abort()


class PicowsServer:
    def __init__(self, app, config, subprotocols: list[str]):
        self.app = app
        self.subprotocols = subprotocols
        self.origins = config.origins
        self.max_frame = config.max_frame
        self.close_timeout = config.ping_timeout_s
        self.config = config
        self.keepalive = Keepalive(config.ping_interval_s, config.ping_timeout_s)
        self.links: set[PicowsLink] = set()           # open WebSocket connections
        self.opening: set[PicowsLink] = set()         # connections before the handshake
        self.adopting: set[asyncio.Task] = set()      # handed-over sockets being taken on
        self.closing = False
        self.drained = asyncio.Event()
        self.port = 0
        self._server = None
        self._receiver = None           # a --workers worker's hand-off channel
        self._log = Log(logging.getLogger("picows.server"), {})
        self.loop = asyncio.get_running_loop()

    def _protocol(self) -> PicowsProtocol:
        """What ws_create_server makes for each connection, with this connection's own
        listener factory (so the listener can read the peer's address in it)."""
        link = PicowsLink(self)
        return PicowsProtocol(link, self._log, self.max_frame)

    async def start(self) -> None:
        config = self.config
        if config.handoff_fd is None:
            self._server = await self.loop.create_server(self._protocol, config.host,
                                                         config.port)
            self.port = self._server.sockets[0].getsockname()[1]
        else:                  # a worker listens on nothing: connections come via adopt
            self.port = config.port
            self._receiver = Receiver(config.handoff_fd, self.adopt)
        self.keepalive.start()

    def adopt(self, sock) -> None:
        """A connection accepted by the --workers supervisor, nothing read from it yet:
        served as if our listener had accepted it."""
        task = self.loop.create_task(self.loop.connect_accepted_socket(self._protocol, sock))
        self.adopting.add(task)               # (the loop keeps only a weak reference)
        task.add_done_callback(self.adopting.discard)

    async def close(self, timeout: float | None = None) -> None:
        self.closing = True
        if self._receiver is not None:             # no new connections
            self._receiver.close()
        if self._server is not None:
            self._server.close()
        for link in list(self.opening):            # half a request: not worth waiting for
            link.tcp.abort()
        for link in list(self.links):
            link.close(CloseCode.GOING_AWAY, "")
        try:
            if self.links:
                await asyncio.wait_for(self.drained.wait(), timeout)
        finally:
            await self.keepalive.stop()


async def serve(app, config, subprotocols: list[str]) -> PicowsServer:
    server = PicowsServer(app, config, subprotocols)
    await server.start()
    return server
