"""How a load-generator racer (bench/loadgen.py) encodes its messages: msgpack, binary
frames and plain inputs (the bench's standard workload), or JSON as the web page speaks
it: text frames, every message numbered, inputs included (client_demo/web/connection.js).
Web players send JSON; `python -m bench run --codec json` measures what they cost."""

from __future__ import annotations

import itertools
import json

import msgpack

from protocol.codec import JSON, MSGPACK


class Msgpack:
    subprotocol = MSGPACK.subprotocol
    opcode = 0x2                          # binary frames

    def encode(self, message: dict) -> bytes:
        return msgpack.packb(message)

    def decode(self, payload: bytes) -> dict:
        return msgpack.unpackb(payload)

    def input(self, keys: str) -> bytes:
        return msgpack.packb({"type": "input", "keys": keys})


class Json:
    subprotocol = JSON.subprotocol
    opcode = 0x1                          # text frames

    def __init__(self) -> None:
        self._ids = itertools.count(100)  # (the set-up's requests use 1-5)

    def encode(self, message: dict) -> bytes:
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()

    def decode(self, payload: bytes) -> dict:
        return json.loads(payload)

    def input(self, keys: str) -> bytes:
        return self.encode({"type": "input", "keys": keys, "id": next(self._ids)})


WIRES = {"msgpack": Msgpack, "json": Json}
