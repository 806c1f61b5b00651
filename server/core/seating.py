"""Seating: quick-race matching, private and practice rooms, joining by code,
watching, and connections that drop and come back. Pure."""

from __future__ import annotations

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.core import matching
from server.core.lobby_config import LobbyConfig
from server.core.moves import Moves
from server.core.race import COUNTDOWN, FINISHED, RACING
from server.core.room import PRACTICE, PRIVATE, QUICK, GhostSpec, Room, Seat
from server.core.texts import Text


class Seating:
    def __init__(self, moves: Moves):
        self.moves = moves
        self.config: LobbyConfig = moves.config
        self.rooms = moves.rooms
        self.seats = moves.seats
        self.outbox = moves.outbox

    def _seat(self, room: Room, player_id: str, name: str, now_ms: int,
              rating: float | None = None) -> Seat:
        seat = self.seats.sit(room, player_id, name, now_ms, rating)
        room.touched_ms = now_ms
        if room.race and room.race.state == COUNTDOWN:
            room.race.add_racer(seat.slot, player_id, name)
        self.outbox.announce(room)
        return seat

    def takes_players(self, room: Room, now_ms: int) -> bool:
        """A public room with a free seat whose race is not about to start."""
        if not room.public or len(room.seats) >= room.settings["max_players"]:
            return False
        return room.race is None or self._boarding(room, now_ms)

    def _boarding(self, room: Room, now_ms: int) -> bool:
        """The room's race counts down and late joiners still get in."""
        return (room.race.state == COUNTDOWN and
                room.race.start_ms - now_ms > self.config.late_join_ms)

    def fits(self, room: Room, rating: float | None, now_ms: int) -> bool:
        """A player of this rating may be seated with the room's players."""
        return matching.fits(rating, room.ratings(), room.waited_ms(now_ms),
                             self.config.match_widen_ms)

    def _joinable_quick(self, rating: float | None, now_ms: int) -> Room | None:
        """The public room that will start soonest (the fullest) and still has a free
        seat within the player's rating band; among equals, the closest in rating."""
        best, best_key = None, None
        for room in self.rooms.all():
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
        self.moves.leave_current(player_id, now_ms)
        room = self.rooms.get(prefer) if prefer else None
        if room is None or not (self.takes_players(room, now_ms) and
                                self.fits(room, rating, now_ms)):
            room = self._joinable_quick(rating, now_ms)
        if room is None:
            settings = {"max_players": self.config.max_players,
                        "countdown_s": self.config.countdown_s, "text_id": None}
            room = self.rooms.open(QUICK, settings, text, now_ms)
        return room, self._seat(room, player_id, name, now_ms, rating)

    def create_room(self, player_id: str, name: str, settings: dict, text: Text,
                    now_ms: int) -> tuple[Room, Seat]:
        self.moves.leave_current(player_id, now_ms)
        full = {"max_players": self.config.max_players, "countdown_s": self.config.countdown_s,
                "text_id": None}
        full.update(settings)
        room = self.rooms.open(PRIVATE, full, text, now_ms)
        return room, self._seat(room, player_id, name, now_ms)

    def practice(self, player_id: str, name: str, text: Text, now_ms: int,
                 ghost: GhostSpec | None = None) -> tuple[Room, Seat]:
        """A solo race that starts at once, scored and saved like any other; with a
        ghost (a saved result on `text`) racing in the next slot."""
        self.moves.no_new_races()
        self.moves.leave_current(player_id, now_ms)
        settings = {"max_players": 1 if ghost is None else 2,
                    "countdown_s": self.config.practice_countdown_s, "text_id": text.shown_id}
        room = self.rooms.open(PRACTICE, settings, text, now_ms)
        if ghost is not None:
            room.ghosts[1] = ghost       # the player sits in slot 0
        seat = self._seat(room, player_id, name, now_ms)
        self.moves.start_countdown(room, self.config.practice_countdown_s, now_ms)
        return room, seat

    def join_room(self, player_id: str, name: str, code: str, now_ms: int) -> tuple[Room, Seat]:
        room = self.rooms.joinable(code)
        if room is None:
            raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "no room has that code")
        current = self.seats.seated.get(player_id)
        if current is room:
            return room, room.seat_of(player_id)
        if player_id in room.banned:
            raise ProtocolError(ErrorCode.KICKED, "the host removed you from this room")
        if room.race and room.state != FINISHED and not self._boarding(room, now_ms):
            raise ProtocolError(ErrorCode.RACE_IN_PROGRESS,
                                "a race is running in this room; you may watch it instead")
        if len(room.seats) >= room.settings["max_players"]:
            raise ProtocolError(ErrorCode.ROOM_FULL, "the room is full; you may watch it instead")
        self.moves.leave_current(player_id, now_ms)
        return room, self._seat(room, player_id, name, now_ms)

    def watch(self, player_id: str, code: str, now_ms: int) -> Room:
        """Watch by join code, watch code or a public room's room_id."""
        room = self.rooms.watchable(code)
        if room is None:
            raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "no room to watch has that code")
        if self.seats.watching.get(player_id) is room:
            return room
        if player_id in room.banned:
            raise ProtocolError(ErrorCode.KICKED, "the host removed you from this room")
        if self.seats.seated.get(player_id) is room:
            # Watching means leaving one's seat, and a lone player's leaving closes the
            # room: the spectator would watch nothing and the codes would be gone.
            raise ProtocolError(ErrorCode.ALREADY_IN_ROOM, "you are a player in this room; "
                                "leave it first to watch it")
        self.moves.leave_current(player_id, now_ms)
        self.seats.watch(room, player_id)
        self.outbox.announce(room)
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

    def disconnect(self, player_id: str, now_ms: int) -> None:
        """The connection dropped: spectators go, seats are held for the grace period."""
        if self.seats.watching.get(player_id) is not None:
            self.moves.leave(player_id, now_ms)
            return
        room = self.seats.seated.get(player_id)
        if room is None:
            return
        seat = room.seat_of(player_id)
        if room.race is None and room.public:
            self.moves.leave(player_id, now_ms)   # nobody waits for an absent stranger
            return
        seat.connected, seat.disconnected_ms = False, now_ms
        if room.race and room.race.state in (COUNTDOWN, RACING):
            self.moves.race_events(room, room.race.set_connected(seat.slot, False, now_ms))
        self.outbox.announce(room)

    def reconnect(self, player_id: str, now_ms: int) -> tuple[Room, Seat] | None:
        """A returning player within the grace period takes its seat back."""
        room = self.seats.seated.get(player_id)
        if room is None:
            return None
        seat = room.seat_of(player_id)
        seat.connected, seat.disconnected_ms = True, None
        room.touched_ms = now_ms
        if room.race and room.race.state in (COUNTDOWN, RACING):
            self.moves.race_events(room, room.race.set_connected(seat.slot, True, now_ms))
        self.outbox.announce(room)
        return room, seat
