"""The lobby: rooms, quick-race matchmaking, codes, hosts, seats, spectators and their
races. Pure: time comes in as `now_ms`, ids and codes from functions handed in.

It is composed, not mixed in. Three parts hold the state, each owning its invariant
(and a `problems()` the tests check after every move):

    rooms    Rooms: the open rooms by id and by code; every code names one open
             room, a closed room leaves every map
    seats    Seats: who sits or watches where; a player is in one room at most,
             seated or watching, and the index agrees with each Room's members
    outbox   Outbox: room messages, player messages and the events to save before
             anyone sees them, each in the order made, drained by `take_events`

The actions are four plain classes that receive the parts, through `Moves` (moves.py:
leave, close, start a countdown, pass a race's events on, and the draining flag):

    Seating       (seating.py)        quick_race, create_room, practice, join_room,
                                      watch, catch_up, disconnect, reconnect,
                                      takes_players
    HostControls  (host_controls.py)  hosted_room, kick, start, configure, rematch
    Racing        (racing.py)         input, measured, racer_state, publish_finish,
                                      publish_results, end_race
    Timers        (timers.py)         advance, ticks, abort

`Lobby` holds the parts, passes each action to its group, and has the read API. The
shell (server/net, server/cluster) changes the lobby only through its actions and
reads it only through that API, never its parts (tests/test_layers.py).
"""

from __future__ import annotations

from typing import Callable

from server.core.host_controls import HostControls
from server.core.lobby_config import LobbyConfig
from server.core.moves import Moves
from server.core.outbox import ALL, PLAYERS, SPECTATORS, Outbox
from server.core.race import FINISHED
from server.core.racing import Racing
from server.core.results import RaceEnded, RacerFinished
from server.core.room import GhostSpec, Room, Seat
from server.core.rooms import Rooms
from server.core.seating import Seating
from server.core.seats import Seats
from server.core.texts import Text
from server.core.timers import Timers

__all__ = ["ALL", "PLAYERS", "SPECTATORS", "Lobby", "LobbyConfig"]


class Lobby:
    """Every room of one process; the I/O layer drains what it emits (`take_events`)."""

    def __init__(self, config: LobbyConfig, new_id: Callable[[], str],
                 new_code: Callable[[], str]):
        self.config = config
        self.rooms = Rooms(new_id, new_code)
        self.seats = Seats()
        self.outbox = Outbox()
        self._moves = moves = Moves(config, self.rooms, self.seats, self.outbox)
        self._seating, self._host = Seating(moves), HostControls(moves)
        self._racing, self._timers = Racing(moves), Timers(moves)
        # The one action run at every keystroke is Racing.input itself, bound here:
        # a method passing it on would cost a Python call more (~330 instructions).
        self.input = self._racing.input

    # ---- the actions: each passed to the group that does it ---------------------
    # Plain methods, so the facade's whole API reads here (all but `input`, see
    # __init__). Passing on costs one Python call (~400 instructions under CPython
    # 3.11): nothing against the rest of a request, on a rare path.

    # seating.py
    def quick_race(self, player_id: str, name: str, text: Text, now_ms: int,
                   prefer: str | None = None, rating: float | None = None
                   ) -> tuple[Room, Seat]:
        return self._seating.quick_race(player_id, name, text, now_ms, prefer, rating)

    def create_room(self, player_id: str, name: str, settings: dict, text: Text,
                    now_ms: int) -> tuple[Room, Seat]:
        return self._seating.create_room(player_id, name, settings, text, now_ms)

    def practice(self, player_id: str, name: str, text: Text, now_ms: int,
                 ghost: GhostSpec | None = None) -> tuple[Room, Seat]:
        return self._seating.practice(player_id, name, text, now_ms, ghost)

    def join_room(self, player_id: str, name: str, code: str, now_ms: int) -> tuple[Room, Seat]:
        return self._seating.join_room(player_id, name, code, now_ms)

    def watch(self, player_id: str, code: str, now_ms: int) -> Room:
        return self._seating.watch(player_id, code, now_ms)

    def catch_up(self, room: Room, now_ms: int) -> list[dict]:
        return self._seating.catch_up(room, now_ms)

    def disconnect(self, player_id: str, now_ms: int) -> None:
        self._seating.disconnect(player_id, now_ms)

    def reconnect(self, player_id: str, now_ms: int) -> tuple[Room, Seat] | None:
        return self._seating.reconnect(player_id, now_ms)

    def takes_players(self, room: Room, now_ms: int) -> bool:
        return self._seating.takes_players(room, now_ms)

    # moves.py
    def leave(self, player_id: str, now_ms: int) -> Room | None:
        return self._moves.leave(player_id, now_ms)

    # host_controls.py
    def hosted_room(self, player_id: str) -> tuple[Room, Seat]:
        return self._host.hosted_room(player_id)

    def kick(self, player_id: str, slot: int, now_ms: int) -> None:
        self._host.kick(player_id, slot, now_ms)

    def start(self, player_id: str, now_ms: int) -> None:
        self._host.start(player_id, now_ms)

    def configure(self, player_id: str, settings: dict, text: Text | None, now_ms: int) -> None:
        self._host.configure(player_id, settings, text, now_ms)

    def rematch(self, player_id: str, text: Text, now_ms: int) -> None:
        self._host.rematch(player_id, text, now_ms)

    # racing.py (and `input`, bound in __init__)
    def measured(self, player_id: str, rtt_ms: float) -> None:
        self._racing.measured(player_id, rtt_ms)

    def racer_state(self, room: Room, slot: int) -> dict | None:
        return self._racing.racer_state(room, slot)

    def publish_finish(self, finished: RacerFinished) -> None:
        self._racing.publish_finish(finished)

    def publish_results(self, ended: RaceEnded, now_ms: int,
                        bests: dict[int, dict] | None = None) -> None:
        self._racing.publish_results(ended, now_ms, bests)

    def end_race(self, room: Room, now_ms: int) -> None:
        self._racing.end_race(room, now_ms)

    # timers.py
    def advance(self, now_ms: int, failed: Callable[[Room], None] | None = None) -> None:
        self._timers.advance(now_ms, failed)

    def ticks(self, now_ms: int, phase: int = 0, phases: int = 1,
              failed: Callable[[Room], None] | None = None) -> None:
        self._timers.ticks(now_ms, phase, phases, failed)

    def abort(self, room: Room) -> None:
        self._timers.abort(room)

    # ---- shutting down ----------------------------------------------------------

    def drain(self) -> None:
        """SIGTERM: no race starts any more, not even a quick room's own countdown."""
        self._moves.draining = True

    @property
    def draining(self) -> bool:
        return self._moves.draining

    # ---- what the shell may read ------------------------------------------------

    def room_of(self, player_id: str) -> Room | None:
        """The room the player sits in or watches (one at a time), if any."""
        return self.seats.room_of(player_id)

    def is_seated(self, player_id: str) -> bool:
        return self.seats.seated.get(player_id) is not None

    def seated_players(self) -> list[tuple[str, Room]]:
        """(player_id, room) of every player holding a seat, as a list the caller may
        keep across an await."""
        return self.seats.seated_players()

    def watched_room(self, player_id: str) -> Room | None:
        return self.seats.watching.get(player_id)

    def room(self, room_id: str) -> Room | None:
        return self.rooms.get(room_id)

    def all_rooms(self) -> list[Room]:
        """Every room, as a list the caller may keep across an await."""
        return self.rooms.all()

    def room_ids(self) -> list[str]:
        return self.rooms.ids()

    def open_public_rooms(self) -> list[Room]:
        """What `list_races` shows: public rooms whose race is not over."""
        return [r for r in self.rooms.all() if r.public and r.state != FINISHED]

    def has_code(self, code: str, watch: bool = False) -> bool:
        """See Rooms.has_code."""
        return self.rooms.has_code(code, watch)

    def counts(self) -> tuple[int, int, int]:
        """(rooms, players seated, spectators)."""
        return (len(self.rooms), *self.seats.counts())

    def take_events(self) -> tuple[list, list, list]:
        """What was emitted since the last call, and forget it: (room, audience,
        message) for rooms, (player_id, message) for one player, and the typed events
        to save before anyone sees them (RacerFinished, RaceEnded). See outbox.py."""
        return self.outbox.take()

    def has_events(self) -> bool:
        outbox = self.outbox        # (asked after every input: no further call)
        return bool(outbox.room_messages or outbox.player_messages or outbox.saves)

    def drop(self, room_id: str) -> None:
        """The last resort when closing a failed room failed too: forget it, so no
        code or player names it any more."""
        room = self.rooms.get(room_id)
        if room is not None:
            self.rooms.close(room)
            self.seats.forget(room)

    def problems(self) -> list[str]:
        """Every part's invariant, checked (tests); [] when all hold."""
        return self.rooms.problems() + self.seats.problems(self.rooms.all())
