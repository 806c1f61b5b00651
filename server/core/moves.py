"""The moves every group of the lobby's actions makes: leave a room, close one, start
a countdown, pass a race's events on. Pure.

They work on the lobby's parts (server/core/lobby.py): the rooms, the seats index and
the outbox, each of which keeps its own invariant. `draining` is here because the
one rule it serves is here: while the server shuts down, no race starts any more
(`no_new_races` for what players ask; the timers read it before a quick room's own
countdown).
"""

from __future__ import annotations

from protocol.codes import ErrorCode
from protocol.messages import ProtocolError
from server.core.lobby_config import LobbyConfig
from server.core.outbox import Outbox
from server.core.race import COUNTDOWN, FINISHED, RACING, Race
from server.core.results import RaceEnded, RaceInfo, RacerFinished
from server.core.room import Room
from server.core.rooms import Rooms
from server.core.seats import Seats


class Moves:
    __slots__ = ("config", "rooms", "seats", "outbox", "draining")

    def __init__(self, config: LobbyConfig, rooms: Rooms, seats: Seats, outbox: Outbox):
        self.config = config
        self.rooms = rooms
        self.seats = seats
        self.outbox = outbox
        self.draining = False        # the server is shutting down: no race starts any more

    def no_new_races(self) -> None:
        if self.draining:
            raise ProtocolError(ErrorCode.SHUTTING_DOWN, "the server is shutting down; no new "
                                "races start here (reconnect later)")

    def start_countdown(self, room: Room, countdown_s: int, now_ms: int) -> None:
        racers = [(s.slot, s.player_id, s.name) for s in room.seats.values()]
        room.race = Race(room.next_race_id(), room.text, racers,
                         now_ms + countdown_s * 1000, countdown_s, self.config.max_race_s * 1000,
                         self.config.lag_cap_ms)
        for slot, ghost in room.ghosts.items():
            room.race.add_ghost(slot, ghost.player_id, ghost.name, ghost.log)
        for seat in room.seats.values():
            if not seat.connected:           # a held seat races, but nobody waits for it
                room.race.racers[seat.slot].connected = False
            if seat.rtt_ms is not None:      # its delay as last measured counts from now
                room.race.measured(seat.slot, seat.rtt_ms)
        room.saving = room.results_out = False
        room.last_results = None
        self.outbox.broadcast(room, [room.race.countdown_message()])
        self.outbox.announce(room)

    def leave(self, player_id: str, now_ms: int) -> Room | None:
        """The player leaves its seat or stops watching; here because joining elsewhere,
        a kick and an expired grace period all end in it."""
        room = self.seats.unwatch(player_id)
        if room is not None:
            self.outbox.announce(room)
            return room
        left = self.seats.unseat(player_id)
        if left is None:
            return None
        room, seat = left
        if room.race and room.race.state in (COUNTDOWN, RACING):
            self.race_events(room, room.race.leave(seat.slot, now_ms))
        if not room.seats and (room.race is None or room.results_out or room.public):
            self.close(room, "empty")
        else:
            self.outbox.announce(room)
        return room

    def leave_current(self, player_id: str, now_ms: int) -> None:
        """Joining anything leaves where the player was: one room at a time."""
        if self.seats.room_of(player_id) is not None:
            self.leave(player_id, now_ms)

    def race_events(self, room: Room, events: list[dict]) -> None:
        """What a race's move made, passed on: finishes and the race's end to be
        saved, a new state announced."""
        race = room.race
        # States are RoomState members, compared with `is` (as race.py does): this
        # runs at every input, and `==` on two members costs a Python-level compare.
        if not events and race.state is room.announced_state:
            return      # a race that only moved on (most inputs): nothing to pass on
        for message in events:          # finishes: shown once saved (publish_finish)
            self.outbox.to_save(RacerFinished(
                race_info(room), race.start_ms + message["race_ms"],
                race.finisher_result(message["slot"], self.config.max_wpm), message))
        if race.state == FINISHED:
            # `finished` is announced with the results, once they are saved; the race
            # goes out to be saved once, whatever comes after its end (late inputs).
            if not room.saving:
                room.saving = True
                self.outbox.to_save(RaceEnded(
                    race_info(room), race.ended_ms, race.final_race_ms,
                    tuple(race.results(self.config.max_wpm))))
        elif room.state is not room.announced_state:
            self.outbox.announce(room)

    def saved_race(self, info: RaceInfo) -> Room | None:
        """The room still running the race of a saved event, if any (a room closed
        meanwhile has nobody left to tell)."""
        room = self.rooms.get(info.room_id)
        if room is None or room.race is None or room.race.race_id != info.race_id:
            return None
        return room

    def close(self, room: Room, reason: str) -> None:
        """Everyone in the room is told it closed, and it is gone."""
        for player_id in self.seats.empty(room):
            self.outbox.to_player(player_id, {"type": "left", "reason": reason})
        self.rooms.close(room)


def race_info(room: Room) -> RaceInfo:
    race = room.race
    return RaceInfo(race.race_id, room.room_id, room.kind, race.text.text_id,
                    race.start_ms, race.kept_racers(),
                    race.text.body if race.text.generated else None)
