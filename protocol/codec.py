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

    def plain_input(self, frame) -> None:
        """(Only the binary codec reads inputs without decoding: see MsgpackCodec.)"""
        return None

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


# How every client encodes a plain input, {"type": "input", "keys": keys}, up to the
# keys' own header; with keys under 32 bytes (a MessagePack fixstr), as nearly all are.
_INPUT_HEAD = msgpack.packb({"type": "input", "keys": ""})[:-1]
_FIXSTR = 0xA0             # a fixstr's header: 0b101xxxxx, the low five bits its size
_KEYS_AT = len(_INPUT_HEAD) + 1


class MsgpackCodec:
    name = "msgpack"
    subprotocol = "typerace.v1.msgpack"
    binary = True

    def __init__(self) -> None:
        # One Packer reused for every frame: no per-message packer allocation.
        self._packer = msgpack.Packer(use_bin_type=True)

    def encode(self, message: dict) -> bytes:
        return self._packer.pack(message)

    def plain_input(self, frame) -> str | None:
        """The keys of a frame that is exactly {"type": "input", "keys": <fixstr>},
        read without building the map (a racer sends ~10 a second; this is most of what
        the server reads). None for any other frame, which `decode` then reads in full:
        a plain input in another encoding still gets the same treatment there."""
        if type(frame) is bytes and frame.startswith(_INPUT_HEAD) and len(frame) >= _KEYS_AT:
            size = frame[_KEYS_AT - 1] ^ _FIXSTR
            if size < 32 and len(frame) == _KEYS_AT + size:
                try:
                    return frame[_KEYS_AT:].decode()
                except UnicodeDecodeError:
                    return None           # decode() says what is wrong with it
        return None

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
