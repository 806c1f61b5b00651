"""The lobby's open rooms, by id and by code. Pure.

It owns one invariant: every code names one open room (join and watch codes are
all different, quick rooms have none), and a room that closes leaves every map at
once. Ids and codes come from functions handed in (the shell's generators);
`problems` checks the invariant (the tests call it after every move).
"""

from __future__ import annotations

from typing import Callable

from server.core.room import QUICK, Room, normalize_code
from server.core.texts import Text


class Rooms:
    __slots__ = ("by_id", "_codes", "_watch_codes", "_new_id", "_new_code", "_made")

    def __init__(self, new_id: Callable[[], str], new_code: Callable[[], str]):
        self._new_id = new_id
        self._new_code = new_code
        # Read it (the timers ask it for every room: a dict costs no Python call);
        # rooms open and close only through the moves below.
        self.by_id: dict[str, Room] = {}
        self._codes: dict[str, Room] = {}
        self._watch_codes: dict[str, Room] = {}
        self._made = 0                       # numbers rooms into tick phases

    # ---- reads ------------------------------------------------------------------

    def get(self, room_id: str) -> Room | None:
        return self.by_id.get(room_id)

    def __contains__(self, room_id: str) -> bool:
        return room_id in self.by_id

    def __len__(self) -> int:
        return len(self.by_id)

    def all(self) -> list[Room]:
        """Every open room, as a list the caller may keep while rooms open and close."""
        return list(self.by_id.values())

    def ids(self) -> list[str]:
        return list(self.by_id)

    def joinable(self, code: str) -> Room | None:
        """The room whose join code this is (typed by hand: see normalize_code)."""
        return self._codes.get(normalize_code(code))

    def watchable(self, code: str) -> Room | None:
        """The room a spectator's `code` names: a join or watch code, or a public
        room's id (a private room is watched by code only)."""
        clean = normalize_code(code)
        room = self._codes.get(clean) or self._watch_codes.get(clean)
        if room is not None:
            return room
        room = self.by_id.get(code)
        return room if room is not None and room.public else None

    def has_code(self, code: str, watch: bool = False) -> bool:
        """Whether a room here answers `code`: its join code, or with `watch` also
        its watch code or room id."""
        clean = normalize_code(code)
        if clean in self._codes:
            return True
        return watch and (clean in self._watch_codes or code in self.by_id)

    # ---- moves ------------------------------------------------------------------

    def open(self, kind: str, settings: dict, text: Text, now_ms: int) -> Room:
        """A new room; a private or practice room gets a join and a watch code."""
        code = watch_code = None
        if kind != QUICK:
            code = self._unique_code()
            watch_code = self._unique_code()
            while watch_code == code:
                watch_code = self._unique_code()
        room = Room(self._new_id(), kind, settings, text, now_ms, code, watch_code)
        self._made += 1
        room.phase = self._made              # spreads rooms over the tick interval
        self.by_id[room.room_id] = room
        if code:
            self._codes[code] = room
            self._watch_codes[watch_code] = room
        return room

    def close(self, room: Room) -> None:
        """The room is gone from every map (closing it twice is harmless)."""
        if self.by_id.get(room.room_id) is room:
            del self.by_id[room.room_id]
        if room.code and self._codes.get(room.code) is room:
            del self._codes[room.code]
        if room.watch_code and self._watch_codes.get(room.watch_code) is room:
            del self._watch_codes[room.watch_code]

    def _unique_code(self) -> str:
        while True:
            code = self._new_code()
            if code not in self._codes and code not in self._watch_codes:
                return code

    # ---- the invariant ----------------------------------------------------------

    def problems(self) -> list[str]:
        """Where the maps disagree; [] when they agree."""
        found = []
        for room_id, room in self.by_id.items():
            if room.room_id != room_id:
                found.append(f"{room_id} holds room {room.room_id}")
            if room.kind == QUICK and (room.code or room.watch_code):
                found.append(f"quick room {room_id} has a code")
            if room.kind != QUICK and not (self._codes.get(room.code) is room and
                                           self._watch_codes.get(room.watch_code) is room):
                found.append(f"{room_id}'s codes don't lead to it")
        for name, codes, field in (("code", self._codes, "code"),
                                   ("watch code", self._watch_codes, "watch_code")):
            for code, room in codes.items():
                if self.by_id.get(room.room_id) is not room:
                    found.append(f"{name} {code} names closed room {room.room_id}")
                if getattr(room, field) != code:
                    found.append(f"{name} {code} names {room.room_id}, whose {name} differs")
        for code in self._codes.keys() & self._watch_codes.keys():
            found.append(f"{code} is both a join and a watch code")
        return found
