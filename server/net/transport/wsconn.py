"""websockets' server connection, with plain inputs taken straight off the wire.

A racer sends a small binary `input` frame 10 times a second, and for each websockets
feeds its parser (a stack of generators), builds a Frame and an event list, checks
what to send back and hands the frame to the receive queue, whose reader is a task.
Here, once the connection is open and websockets' parser stands between two frames,
`data_received` splits the bytes into frames itself (RFC 6455 5.2: a 2-byte header,
an optional 2-byte length, the 4-byte mask, the payload):
- a whole, masked, unfragmented binary or text frame of at most FAST_MAX bytes (and
  max_size), outside a fragmented message, arriving while the connection's task waits
  for a message with none queued, is unmasked (a text frame decoded as UTF-8) and
  handed to `on_frame` (the session's `frame`, which websockets' path calls too: see
  websockets_adapter). The web page sends text (JSON); a text frame that is not UTF-8
  goes to websockets, which closes with 1007;
- every other frame (control frames, text, fragments) is handed to websockets whole,
  so its parser always starts at a frame boundary and keeps doing everything it does
  (pings, close, errors, limits, ordering).
A frame longer than that, a 64-bit length, an unmasked frame or a closing
connection sends the rest of the stream to websockets as it came.
Every frame, ours or websockets', costs one token of the connection's frame budget
(transport.FrameBudget); a connection over it is failed with 1008 (`process_event`
sees each frame websockets parsed, `data_received` each one split off here).
Before that, during the opening handshake, websockets gets the HTTP request and nothing
after it until the request is answered: it would parse pipelined bytes (a second GET)
as frames, fail, and then trip over its own assertion when the answer went out. Bytes
behind the request are held (up to EARLY_MAX) and handed over once the connection is
open, or dropped with the connection when the answer was plain HTTP. A request whose
lines end in LF alone is answered 400 here (websockets would drop it without a word;
picows would wait for a CRLF: transport.bare_line_feed). Only frame
boundaries are ours; what a frame means is still decided by websockets or the app.
(Reads websockets internals -- the parser's position and the receive queue -- so
websockets is pinned below 18; when they change, the check fails safe: websockets
parses everything, as before.)
"""

from __future__ import annotations

import weakref

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State
from websockets.streams import StreamReader

from protocol.codes import CloseCode
from server.net.transport import (BAD_LINE_ENDS, FRAME_FLOOD, bare_line_feed,
                                  http_refusal)

try:
    from websockets.speedups import apply_mask
except ImportError:                 # websockets built without its C extension
    from websockets.frames import apply_mask

OPEN = State.OPEN
READ_SIZE = 16 * 1024     # bytes per socket read (see Connection.connection_made)
FAST_MAX = 16 * 1024      # payload bytes of a frame we split off ourselves (an input <= ~8 KB)
_AT_EOF = StreamReader.at_eof.__code__    # where websockets' parser waits between frames
BINARY_FIN = 0x82         # FIN, no RSV bits, opcode 2
TEXT_FIN = 0x81           # FIN, no RSV bits, opcode 1
REQUEST_END = b"\r\n\r\n"  # a handshake request has no body: its head ends here
EARLY_MAX = 64 * 1024     # bytes held behind a request until it is answered
FLOOD_DROP_S = 1.0        # a frame flooder's close frame has had time to arrive


_opening: weakref.WeakSet = weakref.WeakSet()      # connections whose handshake runs


def abort_half_open(server) -> None:
    """Drop `server`'s connections that have not sent a whole request yet: shutdown
    would otherwise wait websockets' open_timeout (10 s) for each of them."""
    for conn in list(_opening):
        if conn.server is server and conn.request is None and conn.transport is not None:
            conn.transport.abort()


def _utf8(payload: bytes) -> str | None:
    """A text frame's payload as text; None when it is not UTF-8 (websockets fails the
    connection with 1007 then)."""
    try:
        return payload.decode()
    except UnicodeDecodeError:
        return None


class Connection(ServerConnection):
    def __init__(self, *args, **kwargs):
        # Set at construction, so that setting them later never grows the __dict__.
        self.on_frame = None      # the session's frame(payload), once the connection is open
        self.frames = None        # the FrameBudget, set before the connection opens
        self._flooded_out = None   # failed for going over it (the timer that drops it)
        self._own = False         # we split the stream into frames (see the module docstring)
        self._rest = b""          # the start of a frame not yet whole
        self._fast_max = FAST_MAX     # ... and never above the connection's max_size
        self._opening = True      # the opening handshake is not over
        self._tail = b""          # the request's last bytes, to find its end across reads
        self._early = None        # bytes behind the request, held until it is answered
        super().__init__(*args, **kwargs)
        # websockets only appends to, removes from and walks this; an empty deque
        # costs ~760 bytes per connection (it allocates a block up front), a list 56.
        self.drain_waiters = []

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        _opening.add(self)
        # asyncio's selector transport reads up to 256 KiB per recv: a fresh 256 KiB bytes
        # object that glibc serves with mmap, then mremap (shrink) and munmap, three
        # syscalls per ~30-byte input frame, unless its mmap threshold happened to rise
        # earlier. Reads the size of our largest frame need none (uvloop has no such knob).
        if hasattr(transport, "max_size"):
            transport.max_size = READ_SIZE

    def _between_frames(self) -> bool:
        """websockets has consumed every byte it was given and waits for a new frame."""
        protocol = self.protocol
        if (protocol.state is not OPEN or protocol.reader.buffer
                or protocol.current_size is not None):
            return False
        waiting = protocol.parser            # ServerProtocol.parse > Protocol.parse > ...
        while (inner := getattr(waiting, "gi_yieldfrom", None)) is not None:
            waiting = inner
        if getattr(waiting, "gi_code", None) is not _AT_EOF:
            return False
        # A frame over max_size must reach websockets, which closes with 1009.
        self._fast_max = min(FAST_MAX, protocol.max_message_size or FAST_MAX)
        return True

    def _idle(self) -> bool:
        """The connection's task waits for a message and none is queued: a frame handled
        now cannot overtake one handled the usual way."""
        frames = self.recv_messages.frames
        waiter = frames.get_waiter
        return waiter is not None and not waiter.done() and not frames.queue

    async def handshake(self, *args, **kwargs) -> None:
        try:
            await super().handshake(*args, **kwargs)
        finally:
            early, self._early, self._opening, self._tail = self._early, None, False, b""
            _opening.discard(self)
        if early and self.protocol.state is OPEN:
            self.data_received(bytes(early))     # frames sent right behind the request

    def _request_only(self, data: bytes) -> bytes:
        """The part of `data` that still belongs to the handshake request; the rest is
        held. (A request that is not HTTP at all is websockets' to refuse.)"""
        if self._early is not None:
            if len(self._early) + len(data) > EARLY_MAX:
                self.transport.abort()
            else:
                self._early += data
            return b""
        seen = self._tail + data
        end = seen.find(REQUEST_END)
        cut = len(data) if end < 0 else end + len(REQUEST_END) - len(self._tail)
        if bare_line_feed((b"\r" if self._tail.endswith(b"\r") else b"") + data[:cut]):
            self.transport.write(http_refusal(400, BAD_LINE_ENDS))
            self.transport.close()
            return b""
        if end < 0:
            self._tail = seen[-(len(REQUEST_END) - 1):]
            return data
        self._early = bytearray(data[cut:])
        return data[:cut]

    def data_received(self, data: bytes) -> None:
        if self._opening:
            data = self._request_only(data)
            if data:
                super().data_received(data)
            return
        if not self._own:
            if self.on_frame is None or not self._between_frames():
                super().data_received(data)
                return
            self._own = True
        buf = self._rest + data if self._rest else data
        pos, end = 0, len(buf)
        while end - pos >= 2:
            head, second = buf[pos], buf[pos + 1]
            size = second & 0x7F
            at = pos + 2
            if size == 126:
                if end - pos < 4:
                    break
                size = (buf[pos + 2] << 8) | buf[pos + 3]
                at = pos + 4
            elif size == 127:        # a 64-bit length: 65536 bytes or more, never ours
                size = 1 << 63
            if size > self._fast_max or not second & 0x80:
                self._hand_over(buf, pos)
                return
            stop = at + 4 + size
            if stop > end:
                break
            # (current_size: a fragmented message is open, so this frame is an error
            # websockets must report)
            if (head == BINARY_FIN or head == TEXT_FIN) and self.protocol.current_size is None \
                    and self._idle():
                payload = apply_mask(buf[at + 4:stop], buf[at:at + 4])
                if head == TEXT_FIN:
                    payload = _utf8(payload)
                if payload is not None:
                    if not self.frames.spend(self.loop.time):
                        self._flooded()
                        self._hand_over(buf, end)        # websockets discards the rest
                        return
                    self.on_frame(payload)
                    pos = stop
                    continue
            super().data_received(buf[pos:stop])
            pos = stop
            if self.protocol.state is not OPEN:    # a close frame, or an error
                self._hand_over(buf, pos)
                return
        self._rest = buf[pos:] if pos < end else b""

    def process_event(self, event) -> None:
        """Each frame websockets parsed (and, in the handshake, the request)."""
        if self._flooded_out is not None:
            return           # parsed in the same read as the frame over the budget
        frames = self.frames
        if frames is not None and self.protocol.state is OPEN \
                and not frames.spend(self.loop.time):
            self._flooded()
            return
        super().process_event(event)

    def _flooded(self) -> None:
        """Fail the connection (RFC 6455 7.1.7): our close frame and the end of our side
        of TCP now; nothing more is read, and FLOOD_DROP_S later the connection is
        dropped. (Closing at once would reset it while the flooder's frames are unread,
        and the reset can overtake the close frame; reading on, as websockets does after
        its own failures, cost a third of a core for the close timeout, bench.frame_flood.)"""
        self.protocol.fail(CloseCode.POLICY, FRAME_FLOOD)
        self.send_data()
        self.transport.pause_reading()
        self._flooded_out = self.loop.call_later(min(FLOOD_DROP_S, self.close_timeout or 0),
                                                 self.transport.abort)

    def connection_lost(self, exc) -> None:
        if self._flooded_out is not None:
            self._flooded_out.cancel()        # (it keeps the connection alive till then)
        super().connection_lost(exc)

    def _hand_over(self, buf: bytes, pos: int) -> None:
        """websockets parses from here on (until it again stands between frames)."""
        self._own = False
        self._rest = b""
        if pos < len(buf):
            super().data_received(buf[pos:])
