"""A hostile client: sends random and mutated frames of every message type and reports
what came back. Used by tests/test_fuzz.py; also handy against a test server:

    python bench/fuzz_client.py --url ws://127.0.0.1:8765/ws --frames 100000

(the server's --msg-rate/--msg-burst must allow the pace, or most frames just get
`rate_limited`). Frames go out in batches; after each batch a `ping` with an id
marks the end, and the next batch waits for its `pong`, so the server is never
asked to queue more than one batch of replies. A batch goes out in one write. Prints
one JSON line of results.
"""

from __future__ import annotations

import argparse
from array import array
import asyncio
import json
import random
import sys
import time
from collections import Counter

import msgpack
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from protocol.codec import JSON, MSGPACK
from protocol.messages import SCHEMAS

SYNC_BASE = 10**12          # ids of the batch-ending pings; fuzzed ids stay below


POOLS = ("abcdefghijklmnopqrstuvwxyz ABC.,;'\"!?", "\b\b\b", "\x00\x01\x1b\x7f\n\t",
         "éüßñçøå", "漢字かな", "😀🏁🚀", "\u200b\u202e\ufeff")
# Each character: a pool at random, then a character of it. Two random bytes a character
# pick from a table of 65,536 laid out that way (each pool a seventh of it, each
# character of a pool as often as the others, give or take one in 250): ten times faster
# than a `choice` or two per character, once over half of this client's CPU.
TABLE = [pool[n % len(pool)] for p, pool in enumerate(POOLS)
         for n in range((p + 1 << 16) // len(POOLS) - (p << 16) // len(POOLS))]


def random_text(rng: random.Random, size: int) -> str:
    """Printable and not: ASCII, controls, backspaces, accents, CJK, emoji (no surrogates)."""
    return "".join(map(TABLE.__getitem__, array("H", rng.randbytes(2 * size))))


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(12 if depth < 2 else 8)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2, 5, 99, 2**31, 2**53, 2**53 + 1, -2**63, 2**64 - 1])
    if kind == 3:
        return rng.randint(-1000, 1000)
    if kind == 4:
        return rng.choice([0.5, -1.5, 1e308, -0.0, 3.0])
    if kind in (5, 6, 7):
        return random_text(rng, rng.choice([0, 1, 5, 24, 25, 40, 300, 600]))
    if kind in (8, 9):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {random_text(rng, rng.randrange(1, 8)): random_value(rng, depth + 1)
            for _ in range(rng.randrange(4))}


def plausible(rng: random.Random, kind: str) -> dict:
    """A message of `kind` that is valid or nearly so (the most interesting inputs)."""
    message: dict = {"type": kind}
    for name, (field, required) in SCHEMAS[kind].items():
        if not required and rng.random() < 0.4:
            continue
        cls = type(field).__name__
        if cls == "Str":
            if name in ("code",):
                value = rng.choice(["ABC234", "abc-234", "", "r" + "0" * 10,
                                    random_text(rng, 6)])
            elif name == "keys":
                value = random_text(rng, rng.randrange(0, 40))
            elif name == "name":
                value = rng.choice(["Fuzz", " ", "", random_text(rng, rng.randrange(1, 30))])
            else:
                value = random_text(rng, rng.randrange(0, min(field.max_len + 5, 400)))
        elif cls == "Int":
            value = rng.choice([field.lo, field.hi, field.lo - 1, field.hi + 1,
                                rng.randint(field.lo, min(field.hi, field.lo + 50))])
        elif cls == "GhostRef":         # practice's ghost: a name, or a saved result
            value = rng.choice(["best", "top", "worst", random_value(rng),
                                {"race_id": "r" + "0" * 16 + ".1", "slot": rng.randint(-1, 5)},
                                {"race_id": random_text(rng, 8)}])
        else:  # a map (room settings)
            value = {k: rng.choice([v, random_value(rng)]) for k, v in
                     (("max_players", rng.randint(0, 120)), ("countdown_s", rng.randint(-1, 70)),
                      ("text_id", rng.randint(0, 100)), ("colour", "red"))
                     if rng.random() < 0.5}
        message[name] = value
    if rng.random() < 0.5:
        message["id"] = rng.randint(0, SYNC_BASE - 1)
    return message


def mutate_message(rng: random.Random, message: dict) -> dict:
    message = dict(message)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        keys = list(message)
        if op == 0 and keys:
            message.pop(rng.choice(keys))
        elif op == 1 and keys:
            message[rng.choice(keys)] = random_value(rng)
        elif op == 2:
            message[random_text(rng, rng.randrange(1, 10))] = random_value(rng)
        elif op == 3:
            message["type"] = rng.choice([random_value(rng), random_text(rng, 8),
                                          rng.choice(list(SCHEMAS)).upper()])
        elif op == 4:
            message["id"] = random_value(rng)
        else:
            message = {k: message[k] for k in reversed(keys)}
    return message


def mutate_frame(rng: random.Random, frame):
    """Flip, cut or extend the encoded frame (text stays valid UTF-8, as a browser's would)."""
    data = list(frame)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(3)
        if op == 0 and data:
            at = rng.randrange(len(data))
            data[at] = rng.randrange(256) if isinstance(frame, bytes) else \
                rng.choice('{}[]":,0\\ a\x00é')
        elif op == 1 and data:
            del data[rng.randrange(len(data)):]
        else:
            extra = rng.randbytes(rng.randrange(1, 8)) if isinstance(frame, bytes) else \
                random_text(rng, rng.randrange(1, 8))
            data.extend(extra)
    return bytes(data) if isinstance(frame, bytes) else "".join(data)


TYPES = sorted(SCHEMAS)


def next_frame(rng: random.Random, codec) -> tuple[str, object]:
    """(what it is, the frame): a valid or mutated message of a type, mutated bytes,
    garbage, or the wrong frame type for the codec."""
    kind = rng.choice(TYPES)
    roll = rng.random()
    if roll < 0.25:
        return kind, codec.encode(plausible(rng, kind))
    if roll < 0.55:
        return kind, codec.encode(mutate_message(rng, plausible(rng, kind)))
    if roll < 0.8:
        return kind, mutate_frame(rng, codec.encode(plausible(rng, kind)))
    if roll < 0.9:
        if codec is MSGPACK:
            return "garbage", msgpack.packb(random_value(rng), use_bin_type=rng.random() < 0.5)
        return "garbage", json.dumps(random_value(rng))
    if roll < 0.95:
        return "binary", rng.randbytes(rng.randrange(0, 64))   # wrong for JSON
    return "text", random_text(rng, rng.randrange(0, 64))      # wrong for msgpack


async def send_all(ws, frames: list) -> None:
    """The frames, each a WebSocket message, in one write: a send() each cost a system
    call each side and a wake-up of the server's loop per frame, more CPU than the
    fuzzing itself. send_context is websockets' way for user code to drive its protocol;
    it checks the connection is open, then waits for the write buffer to drain."""
    async with ws.send_context():
        for frame in frames:
            if isinstance(frame, str):
                ws.protocol.send_text(frame.encode())
            else:
                ws.protocol.send_binary(frame)
        ws.transport.write(b"".join(ws.protocol.data_to_send()))


class Fuzzer:
    def __init__(self, url: str, codec, rng: random.Random, name: str):
        self.url, self.codec, self.rng, self.name = url, codec, rng, name
        self.sent = 0
        self.sent_kinds = Counter()
        self.received = Counter()
        self.errors = Counter()
        self.closes: list[tuple[int | None, str]] = []
        self.connections = 0

    async def run(self, frames: int, batch: int) -> None:
        while self.sent < frames:
            async with connect(self.url, subprotocols=[self.codec.subprotocol],
                               max_size=None) as ws:
                self.connections += 1
                try:
                    await self._hello(ws)
                    while self.sent < frames:
                        count = min(batch, frames - self.sent)
                        await self._batch(ws, count)
                except ConnectionClosed as closed:
                    rcvd = closed.rcvd
                    self.closes.append((rcvd.code if rcvd else None, rcvd.reason if rcvd else ""))

    async def _hello(self, ws) -> None:
        await ws.send(self.codec.encode({"type": "hello", "name": self.name, "id": 1}))
        while True:
            message = self.codec.decode(await ws.recv())
            if message.get("id") == 1:
                assert message["type"] == "welcome", message
                return

    async def _batch(self, ws, count: int) -> None:
        rng, codec = self.rng, self.codec
        frames = []
        for _ in range(count):
            kind, frame = next_frame(rng, codec)
            self.sent_kinds[kind] += 1
            frames.append(frame)
        self.sent += count
        sync = SYNC_BASE + self.sent
        frames.append(codec.encode({"type": "ping", "id": sync}))
        await send_all(ws, frames)
        while True:
            message = codec.decode(await ws.recv())
            kind = message.get("type")
            self.received[kind] += 1
            if kind == "error":
                self.errors[message.get("code")] += 1
            elif kind == "pong" and message.get("id") == sync:
                return


async def fuzz(url: str, frames: int, conns: int, batch: int, seed: int) -> dict:
    started = time.perf_counter()
    fuzzers = [Fuzzer(url, (JSON, MSGPACK)[i % 2], random.Random(seed * 1000 + i), f"Fuzz{i}")
               for i in range(conns)]
    share = -(-frames // conns)
    await asyncio.gather(*(f.run(share, batch) for f in fuzzers))
    elapsed = time.perf_counter() - started
    sent = sum(f.sent for f in fuzzers)
    return {
        "frames": sent, "elapsed_s": round(elapsed, 2), "frames_per_s": round(sent / elapsed),
        "sent": dict(sum((f.sent_kinds for f in fuzzers), Counter())),
        "received": dict(sum((f.received for f in fuzzers), Counter())),
        "errors": dict(sum((f.errors for f in fuzzers), Counter())),
        "closes": [c for f in fuzzers for c in f.closes],
        "connections": sum(f.connections for f in fuzzers),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8765/ws")
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--conns", type=int, default=2, help="connections (codecs alternate)")
    parser.add_argument("--batch", type=int, default=200, help="frames between sync pings")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    report = asyncio.run(fuzz(args.url, args.frames, args.conns, args.batch, args.seed))
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
