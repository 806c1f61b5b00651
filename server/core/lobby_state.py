"""What every part of the lobby shares: the rooms and who is where, the messages
going out, and the moves each part makes (open, leave and close a room, start a
countdown, pass a race's events on). Pure.

Time comes in as `now_ms`; ids and codes come from injected functions. Messages
for rooms go to `outbox` as (room, audience, message): the I/O layer encodes each
once per codec and hands the same frame to every member of that audience.
Messages for one player go to `direct` as (player_id, message). What must be saved
before anyone sees it goes to `to_save`, in order, as typed events: a racer that
finished (`RacerFinished`: its final result and the `finish` message that reveals it)
and a race that ended (`RaceEnded`: every result, frozen). The I/O layer saves each,
then hands it back (`publish_finish`, `publish_results`), so no player ever sees a
result that was not saved, and never needs to look inside a Room or a Race.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.core.integrity import MAX_WPM
from server.core.race import COUNTDOWN, FINISHED, LAG_CAP_MS, MAX_RACE_S, RACING, Race
from server.core.results import RaceEnded, RaceInfo, RacerFinished
from server.core.room import QUICK, Room
from server.core.texts import Text

ALL, PLAYERS, SPECTATORS = "all", "players", "spectators"


@dataclass(frozen=True)
class LobbyConfig:
    max_players: int = 5
    countdown_s: int = 5
    lobby_wait_s: int = 10
    reconnect_grace_s: int = 30
    late_join_ms: int = 2000        # late joiners enter until this long before the start
    practice_countdown_s: int = 3
    idle_room_s: int = 300          # a private room with nobody connected closes after this
    finished_room_s: int = 120      # a finished quick/practice room closes after this
    max_race_s: int = MAX_RACE_S    # no race runs longer (server/core/race.py time_limit_ms)
    match_widen_ms: int = 5000      # the rating band of a quick race widens each time this
                                    # passes in a room (see server/core/matching.py)
    max_wpm: float = MAX_WPM        # a result faster than this is flagged (integrity.py)
    lag_cap_ms: int = LAG_CAP_MS    # most a racer's measured delay is credited (race.py)


class LobbyState:
    def __init__(self, config: LobbyConfig, new_id: Callable[[], str],
                 new_code: Callable[[], str]):
        self.config = config
        self._new_id = new_id
        self._new_code = new_code
        self.rooms: dict[str, Room] = {}
        self._rooms_made = 0                 # numbers rooms into tick phases
        self.codes: dict[str, Room] = {}
        self.watch_codes: dict[str, Room] = {}
        self.seated: dict[str, Room] = {}        # player_id -> the one room it sits in
        self.watching: dict[str, Room] = {}      # player_id -> the room it watches
        self.outbox: list[tuple[Room, str, dict]] = []
        self.direct: list[tuple[str, dict]] = []
        self.to_save: list[RacerFinished | RaceEnded] = []
        self.draining = False        # the server is shutting down: no race starts any more

    def _announce(self, room: Room) -> None:
        """A `room` update to everyone in the room; codes only to the players."""
        room.announced_state = room.state
        if room.code:
            self.outbox.append((room, PLAYERS, {"type": "room", "room": room.view(True)}))
            if room.spectators:
                self.outbox.append((room, SPECTATORS, {"type": "room", "room": room.view(False)}))
        else:
            self.outbox.append((room, ALL, {"type": "room", "room": room.view(False)}))

    def _broadcast(self, room: Room, messages: list[dict]) -> None:
        for message in messages:
            self.outbox.append((room, ALL, message))

    def _unique_code(self) -> str:
        while True:
            code = self._new_code()
            if code not in self.codes and code not in self.watch_codes:
                return code

    def _new_room(self, kind: str, settings: dict, text: Text, now_ms: int) -> Room:
        code = watch_code = None
        if kind != QUICK:
            code, watch_code = self._unique_code(), None
            watch_code = self._unique_code()
            while watch_code == code:
                watch_code = self._unique_code()
        room = Room(self._new_id(), kind, settings, text, now_ms, code, watch_code)
        self._rooms_made += 1
        room.phase = self._rooms_made        # spreads rooms over the tick interval
        self.rooms[room.room_id] = room
        if code:
            self.codes[code] = room
            self.watch_codes[watch_code] = room
        return room

    def _start_countdown(self, room: Room, countdown_s: int, now_ms: int) -> None:
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
        self._broadcast(room, [room.race.countdown_message()])
        self._announce(room)

    def _no_new_races(self) -> None:
        if self.draining:
            raise ProtocolError(ErrorCode.SHUTTING_DOWN, "the server is shutting down; no new "
                                "races start here (reconnect later)")

    def leave(self, player_id: str, now_ms: int) -> Room | None:
        """The player leaves its seat or stops watching; here because joining elsewhere,
        a kick and an expired grace period all end in it."""
        room = self.watching.pop(player_id, None)
        if room is not None:
            room.spectators.discard(player_id)
            self._announce(room)
            return room
        room = self.seated.pop(player_id, None)
        if room is None:
            return None
        seat = room.by_player.pop(player_id)
        del room.seats[seat.slot]
        if room.race and room.race.state in (COUNTDOWN, RACING):
            self._race_events(room, room.race.leave(seat.slot, now_ms))
        if room.host == seat.slot:
            # The longest-seated player takes over; one who is here now before one whose
            # seat is only held for a dropped connection.
            remaining = sorted(room.seats.values(), key=lambda s: (not s.connected, s.seq))
            room.host = remaining[0].slot if remaining else None
        if not room.seats and (room.race is None or room.results_out or room.public):
            self._close(room, "empty")
        else:
            self._announce(room)
        return room

    def _race_events(self, room: Room, events: list[dict]) -> None:
        race = room.race
        if not events and race.state == room.announced_state:
            return      # a race that only moved on (most inputs): nothing to pass on
        for message in events:          # finishes: shown once saved (publish_finish)
            self.to_save.append(RacerFinished(
                self._race_info(room), race.start_ms + message["race_ms"],
                race.finisher_result(message["slot"], self.config.max_wpm), message))
        if race.state == FINISHED:
            # `finished` is announced with the results, once they are saved; the race
            # goes out to be saved once, whatever comes after its end (late inputs).
            if not room.saving:
                room.saving = True
                self.to_save.append(RaceEnded(
                    self._race_info(room), race.ended_ms, race.final_race_ms,
                    tuple(race.results(self.config.max_wpm))))
        elif room.state != room.announced_state:
            self._announce(room)

    @staticmethod
    def _race_info(room: Room) -> RaceInfo:
        race = room.race
        return RaceInfo(race.race_id, room.room_id, room.kind, race.text.text_id,
                        race.start_ms, race.kept_racers(),
                        race.text.body if race.text.generated else None)

    def _saved_race(self, info: RaceInfo) -> Room | None:
        """The room still running the race of a saved event, if any (a room closed
        meanwhile has nobody left to tell)."""
        room = self.rooms.get(info.room_id)
        if room is None or room.race is None or room.race.race_id != info.race_id:
            return None
        return room

    def _close(self, room: Room, reason: str) -> None:
        for player_id in list(room.spectators):
            self.watching.pop(player_id, None)
            self.direct.append((player_id, {"type": "left", "reason": reason}))
        for seat in list(room.seats.values()):
            self.seated.pop(seat.player_id, None)
            self.direct.append((seat.player_id, {"type": "left", "reason": reason}))
        room.spectators.clear()
        room.seats.clear()
        room.by_player.clear()
        self.rooms.pop(room.room_id, None)
        if room.code:
            self.codes.pop(room.code, None)
            self.watch_codes.pop(room.watch_code, None)
