"""Rooms, quick-race matchmaking, codes, hosts, seats and spectators. Pure.

Time comes in as `now_ms`; ids and codes come from injected functions. Messages
for rooms go to `outbox` as (room, audience, message): the I/O layer encodes each
once per codec and hands the same frame to every member of that audience.
Messages for one player go to `direct` as (player_id, message). Races that ended
go to `ended`: the I/O layer saves their results, then calls `publish_results`,
so no player ever sees a result that was not saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from protocol.messages import ProtocolError
from server.core import matching
from server.core.race import COUNTDOWN, FINISHED, MAX_RACE_S, RACING, Race
from server.core.results import Result
from server.core.room import (PRACTICE, PRIVATE, QUICK, WAITING, GhostSpec, Room, Seat,
                              normalize_code)
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


class Lobby:
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
        self.ended: list[Room] = []
        self.draining = False        # the server is shutting down: no race starts any more

    # ---- helpers -------------------------------------------------------------

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

    def _leave_current(self, player_id: str, now_ms: int) -> None:
        """Joining anything leaves where the player was: one room at a time."""
        if player_id in self.seated or player_id in self.watching:
            self.leave(player_id, now_ms)

    def _seat(self, room: Room, player_id: str, name: str, now_ms: int,
              rating: float | None = None) -> Seat:
        seat = room.seat(player_id, name, now_ms, rating)
        self.seated[player_id] = room
        room.touched_ms = now_ms
        if room.race and room.race.state == COUNTDOWN:
            room.race.add_racer(seat.slot, player_id, name)
        self._announce(room)
        return seat

    def _start_countdown(self, room: Room, countdown_s: int, now_ms: int) -> None:
        racers = [(s.slot, s.player_id, s.name) for s in room.seats.values()]
        room.race = Race(room.next_race_id(), room.text, racers,
                         now_ms + countdown_s * 1000, countdown_s, self.config.max_race_s * 1000)
        for slot, ghost in room.ghosts.items():
            room.race.add_ghost(slot, ghost.player_id, ghost.name, ghost.log)
        for seat in room.seats.values():
            if not seat.connected:           # a held seat races, but nobody waits for it
                room.race.racers[seat.slot].connected = False
        room.results_out = False
        room.last_results = None
        self._broadcast(room, [room.race.countdown_message()])
        self._announce(room)

    def _no_new_races(self) -> None:
        if self.draining:
            raise ProtocolError("shutting_down", "the server is shutting down; no new "
                                "races start here (reconnect later)")

    def _host_only(self, player_id: str) -> tuple[Room, Seat]:
        room = self.seated.get(player_id)
        if room is None:
            if player_id in self.watching:
                raise ProtocolError("not_a_player", "spectators can't change the race")
            raise ProtocolError("not_in_room", "you are not in a room")
        seat = room.seat_of(player_id)
        if room.host != seat.slot:
            raise ProtocolError("not_host", "only the host can do that")
        return room, seat

    # ---- joining -------------------------------------------------------------

    def takes_players(self, room: Room, now_ms: int) -> bool:
        """A public room with a free seat whose race is not about to start."""
        if not room.public or len(room.seats) >= room.settings["max_players"]:
            return False
        return room.race is None or (room.race.state == COUNTDOWN and
                                     room.race.start_ms - now_ms > self.config.late_join_ms)

    def fits(self, room: Room, rating: float | None, now_ms: int) -> bool:
        """A player of this rating may be seated with the room's players."""
        return matching.fits(rating, room.ratings(), room.waited_ms(now_ms),
                             self.config.match_widen_ms)

    def _joinable_quick(self, rating: float | None, now_ms: int) -> Room | None:
        """The public room that will start soonest (the fullest) and still has a free
        seat within the player's rating band; among equals, the closest in rating."""
        best, best_key = None, None
        for room in self.rooms.values():
            if self.takes_players(room, now_ms) and self.fits(room, rating, now_ms):
                key = (len(room.seats), -matching.distance(rating, room.ratings()))
                if best is None or key > best_key:
                    best, best_key = room, key
        return best

    def quick_race(self, player_id: str, name: str, text: Text, now_ms: int,
                   prefer: str | None = None, rating: float | None = None
                   ) -> tuple[Room, Seat]:
        """Seat the player in a public room; `text` is used if a new room is needed.

        `prefer` names the room whose seat matchmaking claimed (across processes); it
        is used if it still takes players (of this rating), else any other room is
        chosen as usual.
        """
        self._leave_current(player_id, now_ms)
        room = self.rooms.get(prefer) if prefer else None
        if room is None or not (self.takes_players(room, now_ms) and
                                self.fits(room, rating, now_ms)):
            room = self._joinable_quick(rating, now_ms)
        if room is None:
            settings = {"max_players": self.config.max_players,
                        "countdown_s": self.config.countdown_s, "text_id": None}
            room = self._new_room(QUICK, settings, text, now_ms)
        return room, self._seat(room, player_id, name, now_ms, rating)

    def create_room(self, player_id: str, name: str, settings: dict, text: Text,
                    now_ms: int) -> tuple[Room, Seat]:
        self._leave_current(player_id, now_ms)
        full = {"max_players": self.config.max_players, "countdown_s": self.config.countdown_s,
                "text_id": None}
        full.update(settings)
        room = self._new_room(PRIVATE, full, text, now_ms)
        return room, self._seat(room, player_id, name, now_ms)

    def practice(self, player_id: str, name: str, text: Text, now_ms: int,
                 ghost: GhostSpec | None = None) -> tuple[Room, Seat]:
        """A solo race that starts at once, scored and saved like any other; with a
        ghost (a saved result on `text`) racing in the next slot."""
        self._no_new_races()
        self._leave_current(player_id, now_ms)
        settings = {"max_players": 1 if ghost is None else 2,
                    "countdown_s": self.config.practice_countdown_s, "text_id": text.text_id}
        room = self._new_room(PRACTICE, settings, text, now_ms)
        if ghost is not None:
            room.ghosts[1] = ghost       # the player sits in slot 0
        seat = self._seat(room, player_id, name, now_ms)
        self._start_countdown(room, self.config.practice_countdown_s, now_ms)
        return room, seat

    def find(self, code: str) -> Room | None:
        return self.codes.get(normalize_code(code))

    def join_room(self, player_id: str, name: str, code: str, now_ms: int) -> tuple[Room, Seat]:
        room = self.codes.get(normalize_code(code))
        if room is None:
            raise ProtocolError("room_not_found", "no room has that code")
        current = self.seated.get(player_id)
        if current is room:
            return room, room.seat_of(player_id)
        if player_id in room.banned:
            raise ProtocolError("kicked", "the host removed you from this room")
        if room.race and room.state != FINISHED and not (
                room.state == COUNTDOWN and room.race.start_ms - now_ms > self.config.late_join_ms):
            raise ProtocolError("race_in_progress",
                                "a race is running in this room; you may watch it instead")
        if len(room.seats) >= room.settings["max_players"]:
            raise ProtocolError("room_full", "the room is full; you may watch it instead")
        self._leave_current(player_id, now_ms)
        return room, self._seat(room, player_id, name, now_ms)

    def watch(self, player_id: str, code: str, now_ms: int) -> Room:
        """Watch by join code, watch code or a public room's room_id."""
        room = (self.codes.get(normalize_code(code)) or self.watch_codes.get(normalize_code(code))
                or self.rooms.get(code))
        if room is None or (room.code is None and not room.public) or (
                room.room_id == code and not room.public):
            raise ProtocolError("room_not_found", "no room to watch has that code")
        if self.watching.get(player_id) is room:
            return room
        if player_id in room.banned:
            raise ProtocolError("kicked", "the host removed you from this room")
        if self.seated.get(player_id) is room:
            # Watching means leaving one's seat, and a lone player's leaving closes the
            # room: the spectator would watch nothing and the codes would be gone.
            raise ProtocolError("already_in_room", "you are a player in this room; "
                                "leave it first to watch it")
        self._leave_current(player_id, now_ms)
        room.spectators.add(player_id)
        self.watching[player_id] = room
        self._announce(room)
        return room

    def catch_up(self, room: Room, now_ms: int) -> list[dict]:
        """What a newcomer needs to see the room's race: the text, then positions; or
        the results, when it is over."""
        race = room.race
        if race is None:
            return []
        if race.state == FINISHED and room.results_out:
            return [room.last_results] if room.last_results else []
        messages = [race.countdown_message()]
        if race.state in (RACING, FINISHED):
            messages.append(race.snapshot(now_ms))
        return messages

    # ---- leaving and connections ----------------------------------------------

    def leave(self, player_id: str, now_ms: int) -> Room | None:
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

    def kick(self, player_id: str, slot: int, now_ms: int) -> None:
        room, seat = self._host_only(player_id)
        target = room.seats.get(slot)
        if target is None:
            raise ProtocolError("bad_message", f"no player in slot {slot}")
        if target is seat:
            raise ProtocolError("bad_message", "the host can't kick itself; use leave")
        room.banned.add(target.player_id)
        self.direct.append((target.player_id, {"type": "kicked", "room_id": room.room_id}))
        self.leave(target.player_id, now_ms)

    def disconnect(self, player_id: str, now_ms: int) -> None:
        """The connection dropped: spectators go, seats are held for the grace period."""
        if player_id in self.watching:
            self.leave(player_id, now_ms)
            return
        room = self.seated.get(player_id)
        if room is None:
            return
        seat = room.seat_of(player_id)
        if room.race is None and room.public:
            self.leave(player_id, now_ms)   # nobody waits for an absent stranger
            return
        seat.connected, seat.disconnected_ms = False, now_ms
        if room.race and room.race.state in (COUNTDOWN, RACING):
            self._race_events(room, room.race.set_connected(seat.slot, False, now_ms))
        self._announce(room)

    def reconnect(self, player_id: str, now_ms: int) -> tuple[Room, Seat] | None:
        """A returning player within the grace period takes its seat back."""
        room = self.seated.get(player_id)
        if room is None:
            return None
        seat = room.seat_of(player_id)
        seat.connected, seat.disconnected_ms = True, None
        room.touched_ms = now_ms
        if room.race and room.race.state in (COUNTDOWN, RACING):
            self._race_events(room, room.race.set_connected(seat.slot, True, now_ms))
        self._announce(room)
        return room, seat

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

    # ---- host controls --------------------------------------------------------

    def start(self, player_id: str, now_ms: int) -> None:
        room, _ = self._host_only(player_id)
        if room.state != WAITING:
            raise ProtocolError("race_in_progress", f"can't start: the room is {room.state}")
        self._no_new_races()
        self._start_countdown(room, room.settings["countdown_s"], now_ms)

    def configure(self, player_id: str, settings: dict, text: Text | None, now_ms: int) -> None:
        room, _ = self._host_only(player_id)
        if room.state != WAITING:
            raise ProtocolError("race_in_progress", f"can't configure: the room is {room.state}")
        if settings.get("max_players", room.settings["max_players"]) < len(room.seats):
            raise ProtocolError("bad_message", "max_players is below the players seated")
        room.settings.update(settings)
        if text is not None:
            room.text = text
        self._announce(room)

    def rematch(self, player_id: str, text: Text, now_ms: int) -> None:
        """The same players race again at once on a new text."""
        room, _ = self._host_only(player_id)
        if room.state != FINISHED or not room.results_out:
            raise ProtocolError("race_in_progress", f"can't rematch: the room is {room.state}")
        self._no_new_races()
        room.text = text
        # A ghost types its own text only.
        room.ghosts = {s: g for s, g in room.ghosts.items() if g.text_id == text.text_id}
        self._start_countdown(room, room.settings["countdown_s"], now_ms)

    # ---- racing ---------------------------------------------------------------

    def input(self, player_id: str, keys: str, now_ms: int) -> None:
        room = self.seated.get(player_id)
        if room is None:
            if player_id in self.watching:
                raise ProtocolError("not_a_player", "spectators can't type")
            raise ProtocolError("not_in_room", "you are not in a room")
        if room.race is None:
            raise ProtocolError("not_racing", "can't type: the room is waiting")
        seat = room.seat_of(player_id)
        try:
            events = room.race.input(seat.slot, keys, now_ms)
        except ProtocolError:
            # The race may have just reached its time limit inside input(): its end
            # must still be saved and published, or the room would hang unfinished.
            self._race_events(room, [])
            raise
        self._race_events(room, events)

    def racer_state(self, room: Room, slot: int) -> dict | None:
        """A returning racer's own state, so its client can restore the screen."""
        racer = room.race.racers.get(slot) if room.race else None
        if racer is None or room.state == FINISHED:
            return None
        return {"type": "resume", "race_id": room.race.race_id, "slot": slot,
                "pos": racer.typing.pos, "wrong": racer.typing.wrong_text,
                "status": racer.status}

    def _race_events(self, room: Room, events: list[dict]) -> None:
        self._broadcast(room, events)
        if room.race.state == FINISHED:
            # `finished` is announced with the results, once they are saved.
            if room not in self.ended and not room.results_out:
                self.ended.append(room)
        elif room.state != room.announced_state:
            self._announce(room)

    def publish_results(self, room: Room, results: list[Result], now_ms: int) -> None:
        """After the results were saved: tell the room."""
        if room.results_out:
            return
        room.results_out = True
        room.touched_ms = now_ms
        room.last_results = {"type": "results", "race_id": room.race.race_id,
                             "ranking": [r.entry() for r in results]}
        self._broadcast(room, [room.last_results])
        if room.room_id in self.rooms:
            if not room.seats:
                self._close(room, "empty")
            else:
                self._announce(room)

    def end_race(self, room: Room, now_ms: int) -> None:
        """Cut a running race short (shutdown): it ends now and is saved like any other."""
        if room.race is not None and room.race.state == RACING:
            self._race_events(room, room.race.end(now_ms))

    def advance(self, now_ms: int) -> None:
        """All timers of all rooms: countdowns, time limits, grace periods, idle rooms."""
        cfg = self.config
        for room in list(self.rooms.values()):
            for seat in list(room.seats.values()):
                if (not seat.connected and
                        now_ms - seat.disconnected_ms >= cfg.reconnect_grace_s * 1000):
                    self.leave(seat.player_id, now_ms)
            if room.room_id not in self.rooms:
                continue
            if room.race is None and room.public and room.seats and not self.draining:
                lone_since = min(s.seated_ms for s in room.seats.values())
                if len(room.seats) >= 2 or now_ms - lone_since >= cfg.lobby_wait_s * 1000:
                    self._start_countdown(room, cfg.countdown_s, now_ms)
            elif room.race is not None and room.race.state in (COUNTDOWN, RACING):
                self._race_events(room, room.race.advance(now_ms))
            self._close_if_idle(room, now_ms)

    def _close_if_idle(self, room: Room, now_ms: int) -> None:
        if room.race is not None and not room.results_out:
            return                       # a race runs, or its results are being saved
        if room.kind == PRIVATE:
            if any(s.connected for s in room.seats.values()) or room.spectators:
                room.touched_ms = now_ms
            elif now_ms - room.touched_ms >= self.config.idle_room_s * 1000:
                self._close(room, "idle")
        elif room.results_out and now_ms - room.touched_ms >= self.config.finished_room_s * 1000:
            self._close(room, "finished")

    def ticks(self, now_ms: int, phase: int = 0, phases: int = 1) -> None:
        """One progress tick per racing room that changed; with `phases` > 1 only the
        rooms of one phase (room.phase % phases), so the caller can spread the rooms'
        ticks over the interval instead of writing every frame in one burst. A race's
        first tick goes out at once, whatever its phase: short races get seen."""
        for room in self.rooms.values():
            race = room.race
            if race is None or race.state != RACING:
                continue
            if phases > 1 and room.phase % phases != phase and room.ticked is race:
                continue
            room.ticked = race
            if race.ghosts_due(now_ms):  # a ghost's moves are due at its saved times
                self._race_events(room, race.advance(now_ms))
                if race.state != RACING:
                    continue
            tick = race.tick(now_ms)
            if tick is not None:
                self.outbox.append((room, ALL, tick))
