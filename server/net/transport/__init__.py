"""The transport port: what the server needs from a WebSocket library, and no more.

An adapter listens on one TCP port (or, in a --workers worker, takes the connections its
supervisor accepted: `adopt`) and, for each request on it:
- answers plain HTTP (the web client, /healthz, /metrics) with the app's `route`;
- at the WebSocket path, refuses the upgrade before the handshake when `route` says so
  (connection limits) or when the page's Origin is not allowed, chooses the
  subprotocol (the first of the client's offers we speak; none, meaning JSON, when it
  offers none we speak), completes the handshake and calls `app.opened(link)`;
- hands every whole message to the session `opened` returned, as bytes (binary frame)
  or str (text frame), from a plain callback: no task, no await per message;
- pings every open link (one task for all of them, not one per connection) and fails
  one whose pong is late with 1011 "keepalive ping timeout";
- closes a frame larger than --max-frame with 1009, a protocol violation with 1002
  (reserved bits set, too), text that is not UTF-8 with 1007, as RFC 6455 says;
- holds every connection to a frame budget (`FrameBudget`): every frame it sends,
  control frames and fragments included, and closes one over it with 1008;
- refuses, before the handshake, a request whose lines do not end with CRLF, and a
  WebSocket version other than 13, with 400 (RFC 6455 4.2.1, 4.4).

The app writes ready frames (`ready_frame`: header and payload built once per room and
codec, the same bytes for every member) to many links without awaiting; `buffered()`
says how much of that the peer has not taken yet (the slow-consumer rule).

Adapters: `websockets` (the default; server/net/transport/websockets_adapter.py) and
`picows` (picows on uvloop, the optional extra `pip install 'typerace[fast]'`;
server/net/transport/picows_adapter.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Protocol

from protocol.codes import CloseCode
from server.core.ratelimit import BACKLOG_S

if TYPE_CHECKING:
    from server.net.lag import Delay

TRANSPORTS = ("websockets", "picows")
WS_PATH = "/ws"

KEEPALIVE_TIMEOUT = "keepalive ping timeout"
FRAME_FLOOD = "frame flood"
RESERVED_BITS = "reserved bits must be 0"       # websockets' words, on both transports
# A frame budget of this many frames per message of the message budget (--msg-rate,
# --msg-burst, and the backlog a stall may bring: BACKLOG_S). The message rate counts
# only whole messages, so a message that never completes (a text frame with FIN=0, then
# empty continuation frames for ever) or a flood of pings passed it; every frame counts
# here. A client sends one frame per message, and a pong every --ping-interval-s: four
# is room for fragmenting clients, and a flood of whole messages, or a backlog the
# message rule takes, still meets the message rule first.
FRAMES_PER_MESSAGE = 4
BAD_LINE_ENDS = "the request's lines must end with CRLF"
WS_VERSION = "13"                                # RFC 6455 4.1: the only version we speak


class TransportUnavailable(RuntimeError):
    """The chosen transport's packages are not installed."""


@dataclass(frozen=True)
class HttpResponse:
    """A plain HTTP answer on the WebSocket port (the adapter adds Content-Length and
    `Connection: close`, and closes the connection after it)."""
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    head: bool = False          # the answer to a HEAD: these headers, no body


class Link(Protocol):
    """One open WebSocket connection, as the app sees it."""

    subprotocol: str | None     # what the handshake chose (None: the client offered none)
    ip: str                     # the peer's address (behind a reverse proxy: the proxy's)
    close_code: int | None      # how it closed (the peer's code, else ours), for the logs
    close_reason: str
    delay: "Delay"              # its measured round trip (server/net/lag.py): the adapter
                                # times the pong of each of its pings into it

    @property
    def open(self) -> bool:
        """Frames written now still reach the peer (no close frame sent or received)."""

    def write(self, wire: bytes) -> None:
        """Queue a ready frame (see ready_frame); never blocks, never awaits."""

    def buffered(self) -> int:
        """Bytes written that the peer has not taken yet, on our side of the socket."""

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake; the adapter finishes it, or drops the connection
        when the peer does not answer within --ping-timeout-s."""

    def abort(self) -> None:
        """Drop the TCP connection at once (a close frame would wait behind a backlog)."""


class Session(Protocol):
    """What the app gives back for each opened link."""

    def frame(self, payload: bytes | str) -> None:
        """One whole message: bytes from a binary frame, str from a text frame."""

    def closed(self) -> None:
        """The connection is gone (called once; nothing more is delivered)."""


class App(Protocol):
    def route(self, method: str, path: str, ip: str) -> HttpResponse | None:
        """The answer to a plain HTTP request, or None to go on with the WebSocket
        handshake (only a GET at WS_PATH, when no limit refuses it)."""

    def opened(self, link: Link) -> Session:
        """A handshake completed (the app may still close the link at once)."""


class Server(Protocol):
    port: int

    def adopt(self, sock) -> None:
        """Serve a TCP connection accepted elsewhere, nothing read from it yet (a
        --workers worker listens on nothing: its supervisor hands it its connections,
        server/net/handoff.py), exactly as one accepted on the port."""

    async def close(self, timeout: float | None = None) -> None:
        """Stop accepting, close every link with 1001 (going away), wait for them to go
        (at most `timeout` seconds, else each link's close timeout), stop the keepalive."""


def choose_subprotocol(offers, ours) -> str | None:
    """The first of the client's offers that we speak; None (JSON) otherwise."""
    for offer in offers:
        if offer in ours:
            return offer
    return None


def peer_ip(address) -> str:
    """The address part of a socket's peer name."""
    if isinstance(address, (tuple, list)) and address:
        return str(address[0])
    return str(address)


def origin_allowed(origin: str | None, allowed: list[str] | None) -> bool:
    """An allow-list keeps other web sites' pages out; a client that sends no Origin (a
    bot, a terminal) is let in: this is not authentication."""
    return allowed is None or origin is None or origin in allowed


class FrameBudget:
    """A connection's frame budget (see FRAMES_PER_MESSAGE): a token bucket that counts
    down one token a frame and reads the clock only when it runs dry, to refill for the
    time since its last refill (up to a burst). So an input costs a decrement, not a
    clock read (0.34-0.6 us a frame, against 0.7-1.3 us for a TokenBucket's take with
    the loop's time, on the shared 2-core machine). Never stricter than a plain token
    bucket of the same rate and burst; at most a burst more lenient over a run."""

    __slots__ = ("left", "stamp", "rate", "burst")

    def __init__(self, config, now: float):
        self.rate = FRAMES_PER_MESSAGE * config.msg_rate
        self.burst = FRAMES_PER_MESSAGE * (config.msg_burst + config.msg_rate * BACKLOG_S)
        self.left = self.burst
        self.stamp = now

    def spend(self, clock) -> bool:
        """One frame (`clock`: the event loop's time, read only when the budget is dry);
        False: over the budget."""
        self.left -= 1
        if self.left >= 0:
            return True
        now = clock()
        self.left = min(self.burst, self.left + 1 + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.left >= 1:
            self.left -= 1
            return True
        return False                 # (a frame refused takes nothing)


def bare_line_feed(head: bytes) -> bool:
    """An HTTP request head (so far) has a line ending in LF alone (RFC 9112 2.2 lets a
    server refuse it; websockets does, and picows would wait for a CRLF CRLF that never
    comes)."""
    return b"\n" in head.replace(b"\r\n", b"")


def ws_version_refusal(version: str | None) -> str | None:
    """Why a WebSocket request's Sec-WebSocket-Version is refused (websockets' words),
    or None for 13 (or none given: the library refuses a request without it)."""
    if version is None or version == WS_VERSION:
        return None
    return f"Failed to open a WebSocket connection: invalid Sec-WebSocket-Version header: {version}."


def http_refusal(status: int, text: str) -> bytes:
    """A whole plain-text HTTP answer, for a refusal written before any library would
    (the connection is closed after it)."""
    body = text.encode() + b"\n"
    return (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode() + body


def ready_frame(payload: bytes | str, binary: bool) -> bytes:
    """One unmasked, unfragmented server-to-client data frame (RFC 6455 5.2), built
    once and written as it is to every link of a room."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    head = 0x82 if binary else 0x81
    if n < 126:
        return bytes((head, n)) + payload
    if n < 65536:
        return bytes((head, 126)) + n.to_bytes(2, "big") + payload
    return bytes((head, 127)) + n.to_bytes(8, "big") + payload


async def serve(kind: str, app: App, config, subprotocols: list[str]) -> Server:
    """Listen with the named adapter (config: server.config.Config)."""
    if kind == "picows":
        from server.net.transport.picows_adapter import serve as serve_with
    elif kind == "websockets":
        from server.net.transport.websockets_adapter import serve as serve_with
    else:
        raise ValueError(f"unknown transport {kind!r}")
    return await serve_with(app, config, subprotocols)


def check_available(kind: str) -> None:
    """Raise TransportUnavailable (one line an operator can act on) when `kind` can't run."""
    if kind != "picows":
        return
    missing = []
    for package in ("picows", "uvloop"):
        try:
            __import__(package)
        except ImportError:
            missing.append(package)
    if missing:
        raise TransportUnavailable(
            f"--transport picows needs the {' and '.join(missing)} package"
            f"{'s' if len(missing) > 1 else ''} (pip install 'typerace[fast]')")
