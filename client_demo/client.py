"""A small asyncio client of the Typerace protocol, used by the bots, the terminal
client, the load generator and the tests. It speaks either codec."""

from __future__ import annotations

import asyncio
import itertools
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import connect

from client_demo.resend import PROBE, Resender
from protocol.clocksync import SYNC_PINGS, ClockSync
from protocol.codec import JSON, MSGPACK


def monotonic_ms() -> int:
    return int(time.monotonic() * 1000)


def room_url(url: str, code: str | None) -> str:
    """The WebSocket URL for joining or watching the room with `code`: the code rides in
    the query (`/ws?room=CODE`), so a load balancer can send the connection to the
    process that owns the room (deploy/haproxy.cfg). The server itself ignores it."""
    if not code:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "room"] + [("room", code)]
    return urlunsplit(parts._replace(query=urlencode(query)))


class ServerError(Exception):
    def __init__(self, message: dict):
        super().__init__(f"{message.get('code')}: {message.get('message')}")
        self.code = message.get("code")
        self.error = message


class Client:
    def __init__(self, ws, codec):
        self.ws = ws
        self.codec = codec
        self.seen: list[dict] = []       # every message received, in order
        self._unread: list[dict] = []
        self._ids = itertools.count(1)
        self.welcome: dict | None = None
        self.clock = ClockSync()         # the server's clock, from ping/pong (sync_clock)
        self.keys = Resender()           # typed keys, sent again when refused (type_keys)

    @classmethod
    async def connect(cls, url: str, codec: str | None = "json", **kwargs) -> "Client":
        """codec: 'json', 'msgpack', or None to offer no subprotocol (server picks JSON)."""
        chosen = {"json": JSON, "msgpack": MSGPACK, None: JSON}[codec]
        protocols = [chosen.subprotocol] if codec else None
        ws = await connect(url, subprotocols=protocols, max_size=None, **kwargs)
        return cls(ws, chosen)

    @property
    def player_id(self) -> str | None:
        return self.welcome["player_id"] if self.welcome else None

    async def send(self, message: dict) -> None:
        await self.ws.send(self.codec.encode(message))

    async def send_raw(self, frame) -> None:
        await self.ws.send(frame)

    def type_keys(self, keys: str) -> None:
        """Keys typed in the race; `send_keys` sends them (and any refused, again)."""
        self.keys.type(keys)

    async def send_keys(self) -> None:
        """Send what the resender says is due now (client_demo/resend.py): typed keys as
        `input`s with ids, and a `ping` after keys sent again. A client that types calls
        this every ~SEND_BATCH_MS while it types, and while `keys.holding`."""
        for item in self.keys.take(monotonic_ms()):
            rid = next(self._ids)
            if item is PROBE:
                self.keys.probing(rid)
                await self.send({"type": "ping", "id": rid})
            else:
                self.keys.sending(rid, item)
                await self.send({"type": "input", "keys": item, "id": rid})

    async def recv(self, timeout: float = 10.0) -> dict:
        """The next message; those about our typed keys (a refused input, the pong of a
        probe) go to the resender only."""
        if self._unread:
            return self._unread.pop(0)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            frame = await asyncio.wait_for(self.ws.recv(), left)
            message = self.codec.decode(frame)
            self.seen.append(message)
            if not self.keys.heard(message, monotonic_ms()):
                return message

    async def expect(self, kind: str, timeout: float = 10.0, where=None) -> dict:
        """The next message of this type (and matching `where`); others stay unread."""
        skipped = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(f"no '{kind}' within {timeout}s; got "
                                       f"{[m.get('type') for m in skipped][-20:]}")
                message = await self.recv(remaining)
                if message.get("type") == kind and (where is None or where(message)):
                    return message
                skipped.append(message)
        finally:
            self._unread = skipped + self._unread

    def drop_unread(self, kind: str | None = None) -> None:
        self._unread = [m for m in self._unread if kind is not None and m.get("type") != kind]

    async def request(self, message: dict, timeout: float = 10.0) -> dict:
        """Send with an id; return the reply carrying that id (raise on `error`)."""
        rid = next(self._ids)
        await self.send({**message, "id": rid})
        skipped = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                message = await self.recv(max(0.001, deadline - loop.time()))
                if message.get("id") == rid:
                    if message.get("type") == "error":
                        raise ServerError(message)
                    return message
                skipped.append(message)
        finally:
            self._unread = skipped + self._unread

    async def hello(self, name: str, token: str | None = None) -> dict:
        message = {"type": "hello", "name": name}
        if token:
            message["token"] = token
        self.welcome = await self.request(message)
        return self.welcome

    async def login(self, name: str, password: str) -> dict:
        """Log in to an account (as the first message, or after hello): the `welcome`."""
        self.welcome = await self.request({"type": "login", "name": name,
                                           "password": password})
        return self.welcome

    async def sync_clock(self, pings: int = SYNC_PINGS, timeout: float = 10.0) -> ClockSync:
        """Estimate the server's clock NTP-style from `pings` ping/pong round trips
        (protocol/clocksync.py); the pings go one after another."""
        for _ in range(pings):
            sent = time.time() * 1000
            pong = await self.request({"type": "ping"}, timeout)
            self.clock.sample(sent, pong["server_ms"], time.time() * 1000)
        return self.clock

    def server_now_ms(self) -> float:
        """The server's clock now, as estimated (the local clock until synced)."""
        return self.clock.server_now(time.time() * 1000)

    async def close(self) -> None:
        # Unread frames past websockets' queue limit pause reading, and then the
        # server's close frame is never seen (close() waits its 10 s timeout). A client
        # that is leaving doesn't need them: drain while closing.
        drain = asyncio.create_task(self._discard_incoming())
        try:
            await self.ws.close()
        finally:
            drain.cancel()

    async def _discard_incoming(self) -> None:
        try:
            async for _ in self.ws:
                pass
        except Exception:
            pass
