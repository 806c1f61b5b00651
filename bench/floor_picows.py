"""The floor's picows half (bench/floor.py --transport picows): picows' own server with
the connection settings our picows adapter uses (server/net/transport/picows_adapter.py:
the smallest read buffer, one logger for all connections), picows' auto-ping every 20 s
and its auto-pong, ticks sent with WSTransport.send."""

from __future__ import annotations

import logging

from picows import WSListener, WSMsgType, ws_create_server

from bench.floor import SUBPROTOCOL
from server.net.transport.picows_protocol import READ_BUFFER

BINARY, CLOSE = WSMsgType.BINARY, WSMsgType.CLOSE


class FloorListener(WSListener):
    __slots__ = ("floor", "room")

    def __init__(self, floor):
        self.floor = floor
        self.room = None

    def on_ws_connected(self, transport) -> None:
        self.room, slot = self.floor.join(transport)
        transport.send(BINARY, self.floor.greeting(slot))

    def on_ws_frame(self, transport, frame) -> None:
        if frame.msg_type == CLOSE:            # inputs are read and left alone
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()

    def on_ws_disconnected(self, transport) -> None:
        if self.room is not None:
            self.room.remove(transport)


def send_to_room(room, frame: bytes) -> None:
    for transport in room:
        transport.send(BINARY, frame)


async def start(floor, port: int):
    from picows import WSUpgradeResponse, WSUpgradeResponseWithListener

    def listener(request):
        response = WSUpgradeResponse.create_101_response({"Sec-WebSocket-Protocol": SUBPROTOCOL})
        return WSUpgradeResponseWithListener(response, FloorListener(floor))

    server = await ws_create_server(
        listener, "127.0.0.1", port, enable_auto_ping=True, auto_ping_idle_timeout=20,
        auto_ping_reply_timeout=20, max_frame_size=65536, read_buffer_init_size=READ_BUFFER,
        logger_name=logging.LoggerAdapter(logging.getLogger("picows.floor"), {}),
        # uvloop's own transport, as the adapter: picows would take aiofastnet's when
        # installed (a picows dependency), ~5 KiB more per connection.
        use_aiofastnet=False)
    return server, send_to_room
