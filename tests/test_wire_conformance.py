"""The wire below the messages, the same on both transports (each test runs on each):
every frame counts against a budget (a message that never ends, a ping flood), reserved
bits close with 1002, and handshakes we don't speak are refused at once with 400.
Raw sockets here: a real client library would not send any of this."""

from __future__ import annotations

import asyncio
import struct

import pytest

from server.core.ratelimit import BACKLOG_S
from server.net.transport import FRAMES_PER_MESSAGE, FrameBudget

from .helpers import write_texts
from .stepping import step, until_start

HANDSHAKE = (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
             b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             b"Sec-WebSocket-Version: 13\r\n\r\n")
MASK = b"\x00\x00\x00\x00"           # a zero mask: the payload goes as written


def frame(first_byte: int, payload: bytes = b"") -> bytes:
    """A masked client frame (payload under 126 bytes)."""
    return bytes((first_byte, 0x80 | len(payload))) + MASK + payload


# The defaults (--msg-rate 30, --msg-burst 60): 120 frames a second, and a burst that
# holds the largest backlog the message rule takes after a stall (1,680 frames).
BURST = int(FRAMES_PER_MESSAGE * (60 + 30 * BACKLOG_S))

TEXT_NOT_FIN = frame(0x01)           # a text message begun, FIN=0, empty
CONTINUATION = frame(0x00)           # and continued, FIN=0, empty: it never ends
PING = frame(0x89)


async def opened(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HANDSHAKE)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 101 ")
    return reader, writer


async def frames_until_close(reader: asyncio.StreamReader) -> tuple[list[int], int, str]:
    """Read server frames up to its close frame: (the opcodes before it, code, reason)."""
    opcodes = []
    async with asyncio.timeout(30):
        while True:
            first, second = await reader.readexactly(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", await reader.readexactly(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", await reader.readexactly(8))[0]
            payload = await reader.readexactly(size)
            if first & 0x0F == 0x8:
                return opcodes, struct.unpack("!H", payload[:2])[0], payload[2:].decode()
            opcodes.append(first & 0x0F)


async def send_until_closed(writer: asyncio.StreamWriter, batch: bytes, limit: int,
                            closing: asyncio.Task) -> int:
    """Write `batch` again and again until the server's close frame is read (`closing`
    is done) or it stops taking them, at most `limit` times; how many went out."""
    sent = 0
    try:
        while sent < limit and not closing.done() and not writer.is_closing():
            writer.write(batch)
            await asyncio.wait_for(writer.drain(), 10)
            sent += 1
            await asyncio.sleep(0)            # let the reader see the close
    except (ConnectionError, TimeoutError, RuntimeError):   # (uvloop: RuntimeError)
        pass
    return sent


async def test_a_message_that_never_ends_is_closed_with_1008_and_others_play_on(
        make_server, connect):
    server = await make_server(msg_rate=30, msg_burst=60)
    ann = await connect("Ann", target=server)
    reader, writer = await opened(server.port)
    writer.write(TEXT_NOT_FIN)
    closing = asyncio.create_task(frames_until_close(reader))
    # 1,000 batches of 1,000 empty continuation frames: before, all of them were read,
    # and the message, never growing, never reached --max-frame nor the message rate.
    await send_until_closed(writer, CONTINUATION * 1000, 1000, closing)
    _, code, reason = await closing
    assert (code, reason) == (1008, "frame flood")
    writer.close()
    assert (await ann.request({"type": "ping"}))["type"] == "pong"


async def test_a_ping_flood_is_closed_with_1008_after_its_budget_of_pongs(make_server):
    server = await make_server(msg_rate=30, msg_burst=60)
    reader, writer = await opened(server.port)
    closing = asyncio.create_task(frames_until_close(reader))
    await send_until_closed(writer, PING * 100, 1000, closing)   # read all the while
    opcodes, code, reason = await closing
    assert (code, reason) == (1008, "frame flood")
    # Every ping within the budget was answered (a pong, opcode 10), and no more: the
    # budget refills at 120 frames a second, so a slow machine may answer a few dozen more.
    assert set(opcodes) == {0xA}
    assert BURST <= len(opcodes) < BURST + 500, len(opcodes)
    writer.close()


async def test_pings_within_the_budget_are_all_answered(server):
    reader, writer = await opened(server.port)
    for n in range(50):
        writer.write(frame(0x89, b"%d" % n))
        first, second = await asyncio.wait_for(reader.readexactly(2), 10)
        assert first == 0x8A and (await reader.readexactly(second & 0x7F)) == b"%d" % n
    writer.write(frame(0x88, struct.pack("!H", 1000)))
    _, code, _ = await frames_until_close(reader)
    assert code == 1000
    writer.close()


@pytest.mark.parametrize("bits", [0x40, 0x20, 0x10], ids=["rsv1", "rsv2", "rsv3"])
@pytest.mark.parametrize("opcode", [0x1, 0x2, 0x9], ids=["text", "binary", "ping"])
async def test_a_frame_with_a_reserved_bit_set_closes_with_1002(server, bits, opcode):
    reader, writer = await opened(server.port)
    payload = b'{"type":"ping"}' if opcode == 0x1 else b""
    writer.write(frame(0x80 | bits | opcode, payload))
    opcodes, code, reason = await frames_until_close(reader)
    assert (opcodes, code, reason) == ([], 1002, "reserved bits must be 0")
    writer.close()


async def http_answer(port: int, request: bytes) -> tuple[int, bytes]:
    """Status and body of the server's answer; the connection then ends."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    # (A server that waited for a CRLF CRLF sent nothing and closed after 10 s.)
    raw = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]) if head else 0, body


@pytest.mark.parametrize("version", [b"8", b"7", b"12", b"14"])
async def test_a_websocket_version_other_than_13_is_refused_with_400(server, version):
    status, body = await http_answer(
        server.port, HANDSHAKE.replace(b"Version: 13", b"Version: " + version))
    assert status == 400
    assert body == (b"Failed to open a WebSocket connection: invalid Sec-WebSocket-Version "
                    b"header: " + version + b".\n")


@pytest.mark.parametrize("request_bytes", [
    HANDSHAKE.replace(b"\r\n", b"\n"),                        # LF only, throughout
    HANDSHAKE.replace(b"Upgrade: websocket\r\n", b"Upgrade: websocket\n"),   # one line
    b"GET / HTTP/1.1\nHost: x\n\n",                           # a plain page request
], ids=["websocket", "one-line", "page"])
async def test_a_request_whose_lines_end_in_lf_alone_is_refused_with_400(
        server, request_bytes):
    status, body = await http_answer(server.port, request_bytes)
    assert (status, body) == (400, b"the request's lines must end with CRLF\n")


async def test_a_request_sent_a_byte_at_a_time_is_still_read(server):
    """The check for line ends sees the request across reads."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for byte in HANDSHAKE:
        writer.write(bytes((byte,)))
        await writer.drain()
        await asyncio.sleep(0.001)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 101 ")
    writer.close()


class Config:
    msg_rate, msg_burst = 30, 60           # the defaults (see BURST)


class Clock:
    def __init__(self):
        self.now, self.reads = 0.0, 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


def test_the_frame_budget_holds_a_burst_then_the_rate_and_reads_the_clock_only_when_dry():
    clock = Clock()
    budget = FrameBudget(Config, clock.now)
    assert all(budget.spend(clock) for _ in range(BURST))
    assert clock.reads == 0                     # a burst's frames: no clock read at all
    assert not budget.spend(clock)              # one more at once: over
    clock.now += 0.5                            # half a second: 60 more frames
    assert sum(budget.spend(clock) for _ in range(100)) == 60
    clock.now += 1000                           # long idle: a burst again, never more
    assert sum(budget.spend(clock) for _ in range(10_000)) == BURST


def test_a_client_at_the_message_rate_never_meets_the_frame_budget():
    clock = Clock()
    budget = FrameBudget(Config, clock.now)
    for _ in range(10 * 30):                    # 30 messages a second for 10 s,
        clock.now += 1 / 30
        assert budget.spend(clock)              # each in two fragments,
        assert budget.spend(clock)
    for _ in range(60 * 2):                     # then a burst of 60 messages of two
        assert budget.spend(clock)
    clock.now += 20
    for _ in range((60 + 30 * 12) * 2):         # a 12 s stall's backlog, of two each
        assert budget.spend(clock)


async def test_a_backlog_of_inputs_after_a_twelve_second_stall_is_all_taken(
        make_stepped_server, connect, tmp_path):
    """The message rule takes what a client sent at --msg-rate through a 12 s stall
    (BACKLOG_S); the frame budget must not close it for the same frames."""
    server = await make_stepped_server(texts=write_texts(tmp_path, "# Long\n" + "abc " * 150),
                                       practice_countdown_s=0, max_wpm=1_000_000)
    ann = await connect("Ann", "msgpack", target=server)
    await ann.request({"type": "practice"})
    body = (await until_start(server, ann))["text"]["body"]
    await step(server, 12_000)             # the server's clock: 12 s without a message
    for ch in body[:400]:                  # ~30 a second for 12 s, and more: at once
        await ann.send({"type": "input", "keys": ch})
    for ch in body[400:]:
        await step(server, 100)
        await ann.send({"type": "input", "keys": ch})
    await ann.expect("finish", timeout=30)
    assert [m for m in ann.seen if m.get("type") == "error"] == []
