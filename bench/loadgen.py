"""The load generator: thousands of racers from several processes.

Each worker process runs one event loop with many racers. A racer is a minimal
RFC 6455 client written on asyncio.Protocol (HTTP upgrade, unmasked server frames,
client frames masked with a zero key, pong on ping) speaking msgpack (or, with
--codec json, JSON as the web page does: bench/wire.py): far cheaper
per message than a full client library, so the load generator leaves the CPU to the
server it measures. Racers come in groups of exactly 5: the first creates a private
room, the others join it with the code, the host starts it (countdown 0), and when a
race ends the host asks for a rematch. Every racer types at 80 WPM with human jitter
(log-normal key intervals, a few typos fixed with a backspace) and sends what it typed
every 100 ms.

Against the floor (bench/floor.py) a racer skips the set-up: the floor greets each
connection with a `countdown` and then sends ticks.

Measured on the client side, only inside the window the parent chooses:
- tick latency: receipt time minus the server's send stamp (countdown's
  start_server_ms + the tick's race_ms; clients share the server's clock);
- input-to-tick latency: from sending an input that moves the racer's pos until the
  first tick that shows that pos.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import time
from array import array
from collections import deque
from urllib.parse import urlsplit

from bench.wire import WIRES

WPM = 80
KEY_MS = 60_000 / (WPM * 5)          # 150 ms between keys on average at 80 WPM
KEY_SIGMA = 0.35                      # log-normal spread of key intervals (human rhythm)
TYPO_RATE = 0.02                      # a wrong key, deleted and retyped at once
SEND_MS = 100                         # clients batch their keys every 100 ms
GROUP = 5                             # racers per room
MASK0 = b"\x00\x00\x00\x00"           # client frames must be masked; a zero key costs nothing
BACKSPACE = "\b"


def now_ms() -> float:
    return time.time() * 1000.0


def key_interval() -> float:
    # exp(mu + sigma^2/2) = 1 keeps the mean at KEY_MS
    return KEY_MS * random.lognormvariate(-KEY_SIGMA * KEY_SIGMA / 2, KEY_SIGMA)


class Racer(asyncio.Protocol):
    def __init__(self, worker: "Worker", group: "Group", index: int, url: str):
        self.w = worker
        self.group = group
        self.index = index                # 0 is the host
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = parts.path or "/"
        self.transport = None
        self.buf = bytearray()
        self.open = False
        self.closed = False
        self.slot: int | None = None
        self.start_ms: float | None = None
        self.passage = ""
        self.typed = 0                    # characters of the passage typed correctly
        self.fix = False                  # a wrong key stands: the next key is a backspace
        self.next_key_ms = 0.0
        self.inflight: deque = deque()    # (sent_ms, pos it should reach)
        self.last_target = 0

    # ---- transport -------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        transport.write((
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {self.w.wire.subprotocol}\r\n\r\n"
        ).encode())

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.w.lost += 1

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:buf.find(b"\r\n")])
            del buf[:end + 4]
            if b" 101 " not in status:
                self.w.fail(f"handshake refused: {status!r}")
                self.transport.close()
                return
            self.open = True
            self.w.on_open(self)
        now = now_ms()
        off, n = 0, len(buf)
        while n - off >= 2:
            op = buf[off] & 0x0F
            length = buf[off + 1] & 0x7F
            head = 2
            if length == 126:
                if n - off < 4:
                    break
                length = (buf[off + 2] << 8) | buf[off + 3]
                head = 4
            elif length == 127:
                if n - off < 10:
                    break
                length = int.from_bytes(buf[off + 2:off + 10], "big")
                head = 10
            if n - off < head + length:
                break
            payload = bytes(buf[off + head:off + head + length])
            off += head + length
            if op == 2 or op == 1:
                self.on_message(self.w.wire.decode(payload), now)
            elif op == 9:
                self.send_frame(0xA, payload)
            elif op == 8:
                self.transport.close()
        if off:
            del buf[:off]

    def send_frame(self, op: int, payload: bytes) -> None:
        if self.closed:
            return
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | op, 0x80 | n))
        else:
            head = bytes((0x80 | op, 0xFE)) + n.to_bytes(2, "big")
        self.transport.write(head + MASK0 + payload)

    def send(self, message: dict) -> None:
        self.send_frame(self.w.wire.opcode, self.w.wire.encode(message))

    # ---- protocol --------------------------------------------------------------

    def on_message(self, msg: dict, now: float) -> None:
        kind = msg.get("type")
        if kind == "tick":
            self.on_tick(msg, now)
        elif kind == "countdown":
            self.begin(msg)
        elif kind == "error":
            self.w.error(msg)
        else:
            self.group.on_message(self, kind, msg)

    def begin(self, msg: dict) -> None:
        """A race starts at start_server_ms: type from a human reaction time after it."""
        self.start_ms = msg["start_server_ms"]
        if "slot" in msg:
            self.slot = msg["slot"]
        body = msg.get("text", {}).get("body")
        self.passage = body or self.w.passage
        self.typed, self.fix, self.last_target = 0, False, 0
        self.inflight.clear()
        self.next_key_ms = max(self.start_ms, now_ms()) + random.uniform(200, 600)
        self.w.on_racing(self)

    def on_tick(self, msg: dict, now: float) -> None:
        w = self.w
        if self.start_ms is None:
            return
        inside = w.t0 <= now <= w.t1
        if inside:
            w.ticks += 1
            w.tick_lat.append(now - (self.start_ms + msg["race_ms"]))
        if self.inflight:
            pos = -1
            for entry in msg["p"]:
                if entry[0] == self.slot:
                    pos = entry[1]
                    break
            inflight = self.inflight
            while inflight and inflight[0][1] <= pos:
                sent, _ = inflight.popleft()
                if inside:
                    w.input_lat.append(now - sent)

    def type_keys(self, now: float) -> None:
        """The keys this racer typed since its last send, sent as one `input`."""
        if self.start_ms is None or self.closed or now < self.next_key_ms:
            return
        passage, end = self.passage, len(self.passage)
        keys = []
        while self.next_key_ms <= now and self.typed < end:
            if self.fix:
                keys.append(BACKSPACE)
                self.fix = False
            elif random.random() < TYPO_RATE:
                keys.append("#")
                self.fix = True
            else:
                keys.append(passage[self.typed])
                self.typed += 1
            self.next_key_ms += key_interval()
        if not keys:
            return
        self.send_frame(self.w.wire.opcode, self.w.wire.input("".join(keys)))
        if self.w.t0 <= now <= self.w.t1:
            self.w.inputs += 1
        target = self.typed
        if self.w.track_inputs and target > self.last_target:
            self.inflight.append((now, target))
            self.last_target = target


class Group:
    """Five racers in one private room: hello, create, join with the code, start.
    Racer i connects to urls[i % len(urls)] (several: a room spread over servers).
    `routed`: as real invitations go through a load balancer, the host connects first,
    and the others connect once the code is known, with it in the URL (/ws?room=CODE)."""

    def __init__(self, worker: "Worker", gid: int, urls: tuple[str, ...], routed: bool = False):
        self.w = worker
        self.gid = gid
        self.routed = routed
        self.racers = [Racer(worker, self, i, urls[i % len(urls)]) for i in range(GROUP)]
        self.welcomed = 0
        self.joined = 0
        self.code: str | None = None

    def on_message(self, racer: Racer, kind: str, msg: dict) -> None:
        host = self.racers[0]
        if kind == "welcome":
            self.welcomed += 1
            if self.routed and racer is not host:
                racer.send({"type": "join_room", "id": 3, "code": self.code})
            elif self.welcomed == (1 if self.routed else GROUP):
                host.send({"type": "create_room", "id": 2,
                           "settings": {"countdown_s": 0, "max_players": GROUP}})
        elif kind == "joined":
            racer.slot = msg["slot"]
            if racer is host and self.routed:
                self.code = msg["room"]["code"]
                for other in self.racers[1:]:
                    other.path += f"?room={self.code}"
                    self.w.connect_later(other)
            elif racer is host:
                code = msg["room"]["code"]
                for other in self.racers[1:]:
                    other.send({"type": "join_room", "id": 3, "code": code})
            else:
                self.joined += 1
                if self.joined == GROUP - 1:
                    host.send({"type": "start", "id": 4})
        elif kind == "results" and racer is host:
            host.send({"type": "rematch", "id": 5})


class Worker:
    def __init__(self, wid: int, groups: list[tuple[int, tuple[str, ...], bool]], mode: str,
                 passage: str, codec: str = "msgpack"):
        self.wid = wid
        self.wire = WIRES[codec]()
        self.mode = mode                   # "server" or "floor"
        self.track_inputs = mode == "server"
        self.passage = passage
        self.groups = [Group(self, gid, urls, routed) for gid, urls, routed in groups]
        self.racers = [r for g in self.groups for r in g.racers]
        self.t0 = self.t1 = math.inf
        self.tick_lat = array("d")
        self.input_lat = array("d")
        self.ticks = self.inputs = self.lost = self.errors = 0
        self.failures: list[str] = []
        self.error_samples: list[dict] = []
        self.racing = 0
        self.all_racing = asyncio.Event()

    def fail(self, why: str) -> None:
        if len(self.failures) < 5:
            self.failures.append(why)

    def error(self, msg: dict) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(msg)

    def on_open(self, racer: Racer) -> None:
        if self.mode == "server":
            racer.send({"type": "hello", "id": 1, "name": f"bench{racer.group.gid}.{racer.index}"})

    def on_racing(self, racer: Racer) -> None:
        self.racing += 1
        if self.racing >= len(self.racers):
            self.all_racing.set()

    async def connect(self, racer: Racer) -> None:
        try:
            await asyncio.get_running_loop().create_connection(lambda: racer, racer.host,
                                                               racer.port)
        except OSError as exc:
            self.fail(f"connect: {exc}")

    def connect_later(self, racer: Racer) -> None:
        """A routed guest, once its room's code is known."""
        task = asyncio.get_running_loop().create_task(self.connect(racer))
        self._connecting.add(task)
        task.add_done_callback(self._connecting.discard)

    async def connect_all(self, batch: int = 20) -> None:
        self._connecting: set = set()
        for i in range(0, len(self.groups), batch):
            await asyncio.gather(*(self.connect(r) for g in self.groups[i:i + batch]
                                   for r in (g.racers[:1] if g.routed else g.racers)))

    async def send_loop(self) -> None:
        """Every racer sends every 100 ms, racers spread evenly over the interval."""
        slots = 10
        buckets = [self.racers[i::slots] for i in range(slots)]
        step = SEND_MS / slots / 1000.0
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        i = 0
        while True:
            deadline += step
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            now = now_ms()
            for racer in buckets[i]:
                racer.type_keys(now)
            i = (i + 1) % slots

    def results(self) -> dict:
        return {"wid": self.wid, "tick_lat": self.tick_lat.tobytes(),
                "input_lat": self.input_lat.tobytes(), "ticks": self.ticks,
                "inputs": self.inputs, "lost": self.lost, "errors": self.errors,
                "error_samples": self.error_samples, "failures": self.failures,
                "racing": self.racing, "racers": len(self.racers)}


async def _worker(wid, groups, mode, passage, pipe, ready_timeout, codec) -> None:
    w = Worker(wid, groups, mode, passage, codec)
    loop = asyncio.get_running_loop()
    sender = asyncio.create_task(w.send_loop())
    await w.connect_all()
    try:
        await asyncio.wait_for(w.all_racing.wait(), ready_timeout)
    except TimeoutError:
        w.fail(f"only {w.racing}/{len(w.racers)} racing after {ready_timeout}s")
    pipe.send(("ready", w.racing, len(w.racers), w.failures, w.error_samples))
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command[0] == "window":
            w.t0, w.t1 = command[1], command[2]
            await asyncio.sleep(max(0.0, (w.t1 - now_ms()) / 1000.0) + 0.2)
            pipe.send(("results", w.results()))
        elif command[0] == "stop":
            break
    sender.cancel()
    for racer in w.racers:
        if racer.transport is not None:
            racer.transport.close()
    await asyncio.sleep(0.2)


def worker_main(wid, groups, mode, passage, pipe, loop_kind, ready_timeout,
                codec="msgpack") -> None:
    """Entry point of one load-generator process."""
    random.seed(os.getpid())
    work = _worker(wid, groups, mode, passage, pipe, ready_timeout, codec)
    if loop_kind == "uvloop":
        import uvloop
        uvloop.run(work)
    else:
        asyncio.run(work)


def percentile(sorted_values, q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]
