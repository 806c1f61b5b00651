"""Plain HTTP on the WebSocket port, as a stranger's client sends it: bad requests get
a 4xx and leave the log alone."""

from __future__ import annotations

import asyncio
import json
import logging
import os

import pytest


async def exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes, return everything the server sends until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return raw


def status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


def head_of(raw: bytes) -> dict:
    head = raw.partition(b"\r\n\r\n")[0].decode().split("\r\n")[1:]
    return {k.lower(): v for k, v in (line.split(": ", 1) for line in head)}


@pytest.fixture
def quiet_log(caplog):
    """Every record the server logs (websockets' included) at warning or above."""
    caplog.set_level(logging.WARNING)
    return caplog


async def test_a_path_segment_over_255_characters_is_404_without_a_traceback(server, quiet_log):
    for path in ("/" + "a" * 300, "/" + "a" * 300 + ".js", "/x/" + "b" * 4000):
        raw = await exchange(server.port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert status_of(raw) == 404, raw[:80]
    assert quiet_log.records == []


async def test_two_pipelined_gets_get_the_first_answer_and_a_close(server, quiet_log):
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = await exchange(server.port, request * 2)
    assert status_of(raw) == 200 and head_of(raw)["connection"] == "close"
    assert json.loads(raw.partition(b"\r\n\r\n")[2])["status"] == "ok"
    assert quiet_log.records == []


async def test_a_frame_sent_right_behind_the_upgrade_request_is_not_lost(server):
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    upgrade = (f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    payload = json.dumps({"type": "hello", "name": "Early", "id": 1}).encode()
    mask = os.urandom(4)
    frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(
        b ^ mask[i % 4] for i, b in enumerate(payload))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(upgrade + frame)                # one write, before any answer
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 101")
    first = await asyncio.wait_for(reader.readexactly(2), 10)
    size = first[1] & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    welcome = json.loads(await asyncio.wait_for(reader.readexactly(size), 10))
    assert (welcome["type"], welcome["name"], welcome["id"]) == ("welcome", "Early", 1)
    writer.close()


async def test_head_gets_the_headers_of_get_and_other_methods_get_405(
        server, quiet_log, transport):
    if transport == "picows":
        pytest.skip("picows answers any method but GET itself (400), before the server "
                    "sees the request: the next test")
    get = await exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await exchange(server.port, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(head) == 200 and head.endswith(b"\r\n\r\n")      # no body
    assert head_of(head)["content-length"] == head_of(get)["content-length"] != "0"
    for method in ("PUT", "DELETE", "OPTIONS", "POST"):
        for path in ("/", "/healthz", "/ws"):
            raw = await exchange(server.port, f"{method} {path} HTTP/1.1\r\nHost: x\r\n"
                                 f"Content-Length: 0\r\n\r\n".encode())
            assert status_of(raw) == 405, (method, path, raw[:80])
            assert head_of(raw)["allow"] == ("GET" if path == "/ws" else "GET, HEAD")
    assert quiet_log.records == []


async def test_on_picows_any_method_but_get_is_a_400_and_no_log_line(
        server, quiet_log, transport):
    if transport != "picows":
        pytest.skip("websockets' answers are the test above")
    for method in ("HEAD", "PUT", "DELETE", "OPTIONS", "POST"):
        for path in ("/", "/healthz", "/ws"):
            raw = await exchange(server.port, f"{method} {path} HTTP/1.1\r\nHost: x\r\n"
                                 f"Content-Length: 0\r\n\r\n".encode())
            assert status_of(raw) == 400, (method, path, raw[:80])
            assert head_of(raw)["connection"] == "close"
    assert quiet_log.records == []
