"""What the transport port promises on either transport (server/net/transport): a
message arrives whole however the client framed it, the closing handshake is answered,
the handshake's choices are the same, and so are the plain HTTP answers."""

from __future__ import annotations

import asyncio
from importlib import resources

import msgpack
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from client_demo.client import Client

from .helpers import http_get


async def close_code(client: Client) -> int | None:
    """Read until the server closes; the code of its close frame."""
    try:
        async with asyncio.timeout(10):
            while True:
                await client.ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def pieces(data, n: int = 3):
    step = -(-len(data) // n)
    return [data[i:i + step] for i in range(0, len(data), step)]


@pytest.mark.parametrize("codec", ["json", "msgpack"])
async def test_a_message_sent_in_fragments_arrives_whole(connect, codec):
    ann = await connect("Ann", codec)
    frame = ann.codec.encode({"type": "ping", "id": 9, "pad": "é" * 40})
    await ann.ws.send(pieces(frame))           # a fragmented message (RFC 6455 5.4)
    assert (await ann.expect("pong"))["id"] == 9
    await ann.ws.send(pieces(frame, 1))        # one piece with fin set after it
    assert (await ann.expect("pong"))["id"] == 9


async def test_a_fragmented_message_over_max_frame_closes_with_1009(make_server):
    server = await make_server(max_frame=1024)
    client = await Client.connect(f"ws://127.0.0.1:{server.port}/ws", "msgpack")
    await client.hello("Ann")
    big = msgpack.packb({"type": "ping", "pad": "x" * 1500})
    await client.ws.send(pieces(big))          # every piece under 1024 bytes, together over
    assert await close_code(client) == 1009


async def test_a_text_frame_that_is_not_utf8_closes_with_1007(connect):
    ann = await connect("Ann", "json")
    ann.ws.transport.write(Frame(Opcode.TEXT, b'{"type":"ping","x":"\xff"}').serialize(mask=True))
    assert await close_code(ann) == 1007


async def test_a_client_that_closes_gets_its_code_back_and_its_seat_is_held(
        make_server, connect):
    server = await make_server(reconnect_grace_s=60)
    ann = await connect("Ann", target=server)
    await ann.request({"type": "create_room"})
    await ann.ws.close(4321, "see you")
    assert ann.ws.protocol.close_rcvd.code == 4321      # the server answered with our code
    async with asyncio.timeout(10):
        while server.limits.total:
            await asyncio.sleep(0.02)
    (room,) = server.lobby.all_rooms()
    assert [seat.connected for seat in room.seats.values()] == [False]


async def test_a_browser_style_handshake_gets_the_first_subprotocol_we_speak(server):
    """Firefox sends "Connection: keep-alive, Upgrade"; offers may share one header."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive, Upgrade\r\n"
                 b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"Sec-WebSocket-Protocol: chat, typerace.v1.msgpack, typerace.v1.json\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    writer.close()
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("HTTP/1.1 101 ")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if line)}
    assert headers["sec-websocket-protocol"] == "typerace.v1.msgpack"
    assert headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


async def test_the_web_client_and_health_are_served_on_the_websocket_port(server):
    status, headers, body = await http_get(server.port, "/")
    page = resources.files("client_demo").joinpath("web", "index.html").read_bytes()
    assert status == 200 and body == page
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert int(headers["content-length"]) == len(page)
    assert "default-src 'self'" in headers["content-security-policy"]
    status, headers, body = await http_get(server.port, "/app.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    status, headers, body = await http_get(server.port, "/metrics")
    assert status == 200 and b"typerace_" in body
    assert (await http_get(server.port, "/../pyproject.toml"))[0] == 404
