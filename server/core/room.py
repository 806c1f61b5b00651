"""A room: its seats, host, spectators, codes and settings, and the race it runs. Pure.

The lobby (server/core/lobby.py) decides who sits where and when races start; a Room
holds the state and shows it (`view`).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.core.race import Race
from server.core.texts import Text

WAITING = "waiting"
QUICK, PRIVATE, PRACTICE = "quick", "private", "practice"


@dataclass(slots=True)
class Seat:
    slot: int
    player_id: str
    name: str
    seq: int                         # seating order: the longest seated becomes host
    seated_ms: int
    connected: bool = True
    disconnected_ms: int | None = None


class Room:
    def __init__(self, room_id: str, kind: str, settings: dict, text: Text, now_ms: int,
                 code: str | None = None, watch_code: str | None = None):
        self.room_id = room_id
        self.kind = kind
        self.public = kind == QUICK
        self.code = code
        self.watch_code = watch_code
        self.settings = settings             # max_players, countdown_s, text_id (chosen or None)
        self.text = text
        self.seats: dict[int, Seat] = {}
        self.by_player: dict[str, Seat] = {}     # the same seats by player (every input looks)
        self.spectators: set[str] = set()
        self.host: int | None = None
        self.phase = 0                       # which slice of the tick interval ticks it
        self.ticked = None                   # the race it last ticked (its first goes at once)
        self.race: Race | None = None
        self.results_out = False             # results of the current race were published
        self.last_results: dict | None = None    # ... and what they said, for latecomers
        self.announced_state = WAITING       # the state the members were last told
        self.banned: set[str] = set()        # kicked players may not come back
        self.created_ms = now_ms
        self.touched_ms = now_ms             # last time somebody connected was here
        self._seq = 0
        self._races = 0

    @property
    def state(self) -> str:
        return self.race.state if self.race else WAITING

    def seat_of(self, player_id: str) -> Seat | None:
        return self.by_player.get(player_id)

    def free_slot(self) -> int:
        slot = 0
        while slot in self.seats:
            slot += 1
        return slot

    def seat(self, player_id: str, name: str, now_ms: int) -> Seat:
        self._seq += 1
        seat = Seat(self.free_slot(), player_id, name, self._seq, now_ms)
        self.seats[seat.slot] = seat
        self.by_player[player_id] = seat
        if self.host is None and not self.public:
            self.host = seat.slot
        return seat

    def next_race_id(self) -> str:
        self._races += 1
        return f"{self.room_id}.{self._races}"

    def view(self, with_codes: bool) -> dict:
        view = {
            "room_id": self.room_id, "public": self.public, "kind": self.kind,
            "state": self.state, "host": self.host,
            "players": [{"slot": s.slot, "player_id": s.player_id, "name": s.name,
                         "connected": s.connected} for s in sorted(self.seats.values(),
                                                                   key=lambda s: s.slot)],
            "spectators": len(self.spectators),
            "settings": dict(self.settings),
            "text": {"text_id": self.text.text_id, "title": self.text.title,
                     "words": self.text.words},
        }
        if self.race:
            view["race_id"] = self.race.race_id
            view["start_server_ms"] = self.race.start_ms
        if with_codes and self.code:
            view["code"] = self.code
            view["watch_code"] = self.watch_code
        return view


def normalize_code(code: str) -> str:
    """Codes are read aloud and typed by hand: case, spaces and dashes don't matter."""
    return "".join(ch for ch in code.upper() if ch.isalnum())
