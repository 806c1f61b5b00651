"""picows' protocol, subclassed for what it does not do itself before the handshake.

- It tells the connection's link (server/net/transport/picows_adapter.py) its peer before
  the request comes, for per-address limits, and the server which connections are
  still in their handshake (to drop at shutdown).
- It reads the request as it comes and refuses one whose lines end in LF alone with
  400 at once (transport.bare_line_feed): picows looks for CRLF CRLF only, and would
  wait its handshake timeout (10 s) for one that never comes.
- Its logger makes a peer's protocol error an INFO line, not an ERROR.
"""

from __future__ import annotations

import logging

from picows import WSAutoPingStrategy
# Not exported by picows, but the only way to know a peer's address before the
# handshake (for per-address limits): ws_create_server builds its WSProtocols the
# same way, with a listener factory that sees only the request. picows is pinned <3.
from picows.picows import WSProtocol as _WSProtocol

from server.net.transport import BAD_LINE_ENDS, bare_line_feed, http_refusal, peer_ip

READ_BUFFER = 2048            # picows' smallest read buffer (its default is 16 KiB)
HANDSHAKE_TIMEOUT_S = 10.0    # for the HTTP request to arrive (websockets' open_timeout)
REQUEST_END = b"\r\n\r\n"


class Log(logging.LoggerAdapter):
    """picows' logger. A peer's protocol error is the client's fault, not an error of
    the server: picows logs those at ERROR; here they are INFO."""

    def log(self, level, msg, *args, **kwargs):
        if level >= logging.ERROR and isinstance(msg, str) and msg.startswith("WS parser error"):
            level = logging.INFO
        super().log(level, msg, *args, **kwargs)


class PicowsProtocol(_WSProtocol):
    """picows' protocol, telling the connection's link its peer before the request
    comes (and the server which connections are still in their handshake), and reading
    the request as it comes, to refuse one whose lines end in LF alone (bare_line_feed).
    (Once the request is whole, a read costs two Python calls more than picows' own:
    uvloop keeps the protocol's get_buffer and buffer_updated from the start.)"""

    __slots__ = ("link", "head", "view")

    def __init__(self, link, log, max_frame: int):
        super().__init__(
            None, None, False,                   # host:port and path (client side only), is_client
            link.upgrade, log,
            True,                                # an exception in a callback closes with 1011
            HANDSHAKE_TIMEOUT_S,
            False, 20, 20, WSAutoPingStrategy.PING_WHEN_IDLE,   # our Keepalive pings instead
            False,                               # pings: the listener answers them
            max_frame, None, READ_BUFFER)
        self.link = link
        self.head = b""                          # the request so far (None once whole)
        self.view = None                         # where picows reads the next bytes to

    def connection_made(self, transport) -> None:
        link = self.link
        link.tcp = transport
        link.ip = peer_ip(transport.get_extra_info("peername"))
        link.server.opening.add(link)
        super().connection_made(transport)

    def connection_lost(self, exc) -> None:
        self.link.server.opening.discard(self.link)
        super().connection_lost(exc)

    def get_buffer(self, size_hint):
        view = _WSProtocol.get_buffer(self, size_hint)
        if self.head is not None:
            self.view = view
        return view

    def buffer_updated(self, nbytes) -> None:
        if self.head is not None:
            head = self.head + bytes(self.view[:nbytes])
            self.view = None
            end = head.find(REQUEST_END)
            if bare_line_feed(head if end < 0 else head[:end + len(REQUEST_END)]):
                self.head = None
                tcp = self.link.tcp
                tcp.write(http_refusal(400, BAD_LINE_ENDS))
                tcp.close()
                return
            self.head = head if end < 0 else None
        _WSProtocol.buffer_updated(self, nbytes)
