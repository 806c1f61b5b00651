"""Frames the server builds once and writes to many connections as they are."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from server.net.transport import ready_frame as ws_frame


def parse(wire: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(wire)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        return done.value
    raise AssertionError("the frame was incomplete")


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_a_ready_binary_frame_is_what_websockets_reads_back(size):
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frame = parse(ws_frame(payload, binary=True))
    assert frame.opcode is Opcode.BINARY and frame.fin and frame.data == payload


def test_a_ready_text_frame_carries_utf8():
    frame = parse(ws_frame('{"type":"tick","name":"Zoë"}', binary=False))
    assert frame.opcode is Opcode.TEXT and frame.data.decode() == '{"type":"tick","name":"Zoë"}'
