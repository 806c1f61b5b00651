"""A room: its seats, host, spectators, codes and settings, and the race it runs. Pure.

The lobby (server/core/lobby.py) decides who sits where and when races start; a Room
holds the state and shows it (`view`).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.codes import RoomState
from server.core import matching
from server.core.keylog import KeyLog
from server.core.race import Race
from server.core.texts import Text

WAITING = RoomState.WAITING
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
    rating: float | None = None      # for quick-race matching; None: unrated
    rtt_ms: int | None = None        # its connection's round trip as last measured


@dataclass(frozen=True, slots=True)
class GhostSpec:
    """A saved result to be raced again as a ghost (see server/core/race.py Ghost)."""
    player_id: str
    name: str
    text_id: int
    log: KeyLog


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
        self.ghosts: dict[int, GhostSpec] = {}   # slot -> the ghost racing in it
        self.by_player: dict[str, Seat] = {}     # the same seats by player (every input looks)
        self.spectators: set[str] = set()
        self.host: int | None = None
        self.phase = 0                       # which slice of the tick interval ticks it
        self.ticked = None                   # the race it last ticked (its first goes at once)
        self.race: Race | None = None
        self.saving = False                  # the current race's end went out to be saved
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
        while slot in self.seats or slot in self.ghosts:
            slot += 1
        return slot

    def ratings(self) -> list[float]:
        """The ratings of the rated players seated."""
        return [s.rating for s in self.seats.values() if s.rating is not None]

    def waited_ms(self, now_ms: int) -> int:
        """How long the longest-seated player has waited here."""
        return now_ms - min((s.seated_ms for s in self.seats.values()), default=now_ms)

    def seat(self, player_id: str, name: str, now_ms: int, rating: float | None = None) -> Seat:
        self._seq += 1
        seat = Seat(self.free_slot(), player_id, name, self._seq, now_ms, rating=rating)
        self.seats[seat.slot] = seat
        self.by_player[player_id] = seat
        if self.host is None and not self.public:
            self.host = seat.slot
        return seat

    def unseat(self, player_id: str) -> Seat:
        """The player's seat, emptied. A leaving host hands over to the longest-seated
        player; one who is here now before one whose seat is only held for a dropped
        connection."""
        seat = self.by_player.pop(player_id)
        del self.seats[seat.slot]
        if self.host == seat.slot:
            remaining = sorted(self.seats.values(), key=lambda s: (not s.connected, s.seq))
            self.host = remaining[0].slot if remaining else None
        return seat

    def empty(self) -> list[str]:
        """Everyone out, spectators first: who was here."""
        members = [*self.spectators, *(s.player_id for s in self.seats.values())]
        self.spectators.clear()
        self.seats.clear()
        self.by_player.clear()
        return members

    def next_race_id(self) -> str:
        self._races += 1
        return f"{self.room_id}.{self._races}"

    def view(self, with_codes: bool) -> dict:
        players = [{"slot": s.slot, "player_id": s.player_id, "name": s.name,
                    "connected": s.connected, "rtt_ms": s.rtt_ms} for s in self.seats.values()]
        players += [{"slot": slot, "player_id": g.player_id, "name": g.name,
                     "connected": True, "rtt_ms": None, "ghost": True}
                    for slot, g in self.ghosts.items()]
        view = {
            "room_id": self.room_id, "public": self.public, "kind": self.kind,
            "state": self.state, "host": self.host,
            "players": sorted(players, key=lambda p: p["slot"]),
            "spectators": len(self.spectators),
            "settings": dict(self.settings),
            "text": {"text_id": self.text.shown_id, "title": self.text.title,
                     "words": self.text.words},
        }
        if self.public:
            view["rating"] = matching.average(self.ratings())
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
