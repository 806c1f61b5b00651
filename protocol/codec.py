"""The two codecs, chosen by WebSocket subprotocol. Both carry the same maps."""

from __future__ import annotations

import json

import msgpack


class DecodeError(ValueError):
    """A frame that is not a message map in this codec."""


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed")


class JsonCodec:
    name = "json"
    subprotocol = "typerace.v1.json"
    binary = False

    def __init__(self) -> None:
        self._encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    def encode(self, message: dict) -> str:
        return self._encoder.encode(message)

    def decode(self, frame: str | bytes) -> dict:
        if isinstance(frame, bytes):
            raise DecodeError("the json codec takes text frames")
        try:
            value = json.loads(frame, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise DecodeError(f"not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise DecodeError("a message must be a JSON object")
        return value


class MsgpackCodec:
    name = "msgpack"
    subprotocol = "typerace.v1.msgpack"
    binary = True

    def __init__(self) -> None:
        # One Packer reused for every frame: no per-message packer allocation.
        self._packer = msgpack.Packer(use_bin_type=True)

    def encode(self, message: dict) -> bytes:
        return self._packer.pack(message)

    def decode(self, frame: str | bytes) -> dict:
        if isinstance(frame, str):
            raise DecodeError("the msgpack codec takes binary frames")
        try:
            # Limits keep a hostile frame from allocating huge containers.
            value = msgpack.unpackb(
                frame, raw=False, strict_map_key=True, max_bin_len=65536,
                max_str_len=65536, max_array_len=4096, max_map_len=256, max_ext_len=0,
            )
        except Exception as exc:  # msgpack raises many unrelated types for bad input
            raise DecodeError(f"not valid MessagePack: {type(exc).__name__}") from None
        if not isinstance(value, dict):
            raise DecodeError("a message must be a MessagePack map")
        return value


JSON = JsonCodec()
MSGPACK = MsgpackCodec()
CODECS = {c.subprotocol: c for c in (MSGPACK, JSON)}
SUBPROTOCOLS = [MSGPACK.subprotocol, JSON.subprotocol]


def codec_for(subprotocol: str | None):
    """The codec for a negotiated subprotocol; JSON when none was offered."""
    return CODECS.get(subprotocol or "", JSON)
