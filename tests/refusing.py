"""Standing in for a process of a cluster whose Redis has been away too long, between a
client and the real server: a stretch of the client's inputs is answered `unavailable`
(with the input's id) and not passed on, as server/cluster/routing.py does past
HOLD_BYTES. Used by the resend tests of the web page (a Playwright WebSocket route) and
of the terminal client (`proxy`, a WebSocket proxy)."""

from __future__ import annotations

import asyncio
import contextlib
import json

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

REFUSE_FROM = 3          # the client's inputs 1 and 2 pass; from the 3rd on, refused ...
REFUSALS = 5             # ... until this many were and the client probes (a ping): then
                         # everything passes, as once Redis is back (at a round's edge)


class Refuser:
    def __init__(self) -> None:
        self.inputs = 0
        self.refused: list[str] = []
        self.refusing = False

    def refusal(self, frame: str) -> str | None:
        """The `error` frame answering the client's `frame`, or None: pass it on."""
        message = json.loads(frame)
        kind = message.get("type")
        if kind == "input":
            self.inputs += 1
            self.refusing = self.refusing or self.inputs == REFUSE_FROM
        elif kind == "ping" and len(self.refused) >= REFUSALS:
            self.refusing = False
        if kind != "input" or not self.refusing:
            return None
        self.refused.append(message["keys"])
        return json.dumps({"type": "error", "code": "unavailable", "id": message.get("id"),
                           "message": "your keys could not reach the race's server; "
                                      "send them again"})


@contextlib.asynccontextmanager
async def proxy(refuser: Refuser, upstream: str):
    """A WebSocket proxy (JSON codec) to `upstream`; yields its ws:// URL."""
    async def pipe(client) -> None:
        async with connect(upstream, subprotocols=client.subprotocol and [client.subprotocol]) \
                as server:
            async def down() -> None:
                async for frame in server:
                    await client.send(frame)

            relay = asyncio.create_task(down())
            try:
                async for frame in client:
                    answer = refuser.refusal(frame)
                    await (client.send(answer) if answer is not None else server.send(frame))
            except ConnectionClosed:
                pass
            finally:
                relay.cancel()

    async with serve(pipe, "127.0.0.1", 0, subprotocols=["typerace.v1.json"]) as listening:
        port = listening.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws"
