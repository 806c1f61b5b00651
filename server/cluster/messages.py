"""What processes say to each other over the bus: small typed records, one codec.

A record travels as a msgpack array: its tag, then its fields in order. `Batch` carries
the records one process has for another in one loop turn (frames, memberships, closes,
forwarded requests), so 10 inputs a second per racer cost one bus message per turn.
"""

from __future__ import annotations

from typing import NamedTuple

import msgpack


class Frames(NamedTuple):
    """To an edge: one ready frame for some of its local players."""
    binary: bool
    frame: bytes | str
    pids: list[str]


class Member(NamedTuple):
    """To an edge: where the player is a member now (None: nowhere)."""
    pid: str
    owner: str | None


class Close(NamedTuple):
    """To an edge: close that player's connection."""
    pid: str
    code: int
    reason: str


class Request(NamedTuple):
    """To a room's owner: a player's request (plain inputs are applied as they arrive)."""
    pid: str
    name: str
    codec: str | None
    message: dict
    prefer: str | None          # the room a quick_race claim chose
    ip: str
    rating: float | None = None  # the player's rating, as its edge knows it


class Rating(NamedTuple):
    """To an edge: the player's rating after a result saved by the room's owner."""
    pid: str
    rating: float | None


class Measure(NamedTuple):
    """To an edge: measure the player's delay now (its room's owner keeps the schedule)."""
    pid: str


class Rtt(NamedTuple):
    """To the room's owner: the player's round trip as its edge measured it, ms."""
    pid: str
    rtt_ms: float


class Batch(NamedTuple):
    sender: str
    items: list


class Dropped(NamedTuple):
    """To the owner: the player's connection dropped (its seat is held)."""
    edge: str
    pid: str


class Left(NamedTuple):
    """To the owner: the player joined elsewhere; it leaves quietly."""
    edge: str
    pid: str


class Back(NamedTuple):
    """To the owner: the player said hello again; it takes its seat back."""
    edge: str
    pid: str
    name: str
    codec: str | None


TAGS = {Frames: 0, Member: 1, Close: 2, Request: 3, Batch: 4, Dropped: 5, Left: 6, Back: 7,
        Rating: 8, Measure: 9, Rtt: 10}
TYPES = {tag: kind for kind, tag in TAGS.items()}


def encode(record) -> bytes:
    return msgpack.packb(_pack(record), use_bin_type=True)


def decode(payload: bytes):
    return _unpack(msgpack.unpackb(payload, raw=False))


def _pack(record) -> list:
    if type(record) is Batch:
        return [TAGS[Batch], record.sender, [_pack(item) for item in record.items]]
    return [TAGS[type(record)], *record]


def _unpack(data: list):
    kind = TYPES[data[0]]
    if kind is Batch:
        return Batch(data[1], [_unpack(item) for item in data[2]])
    return kind(*data[1:])
