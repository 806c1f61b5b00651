"""What only a room's host may do: kick a player, start, configure, rematch. Pure."""

from __future__ import annotations

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.core.moves import Moves
from server.core.race import FINISHED
from server.core.room import WAITING, Room, Seat
from server.core.texts import Text


class HostControls:
    def __init__(self, moves: Moves):
        self.moves = moves
        self.seats = moves.seats
        self.outbox = moves.outbox

    def hosted_room(self, player_id: str) -> tuple[Room, Seat]:
        """The room the player hosts, with its seat; else the error saying why not
        (public: handlers check it before any store look-up)."""
        room = self.seats.seated.get(player_id)
        if room is None:
            if self.seats.watching.get(player_id) is not None:
                raise ProtocolError(ErrorCode.NOT_A_PLAYER, "spectators can't change the race")
            raise ProtocolError(ErrorCode.NOT_IN_ROOM, "you are not in a room")
        seat = room.seat_of(player_id)
        if room.host != seat.slot:
            raise ProtocolError(ErrorCode.NOT_HOST, "only the host can do that")
        return room, seat

    def kick(self, player_id: str, slot: int, now_ms: int) -> None:
        room, seat = self.hosted_room(player_id)
        target = room.seats.get(slot)
        if target is None:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"no player in slot {slot}")
        if target is seat:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "the host can't kick itself; use leave")
        room.banned.add(target.player_id)
        self.outbox.to_player(target.player_id, {"type": "kicked", "room_id": room.room_id})
        self.moves.leave(target.player_id, now_ms)

    def start(self, player_id: str, now_ms: int) -> None:
        room, _ = self.hosted_room(player_id)
        if room.state != WAITING:
            raise ProtocolError(ErrorCode.RACE_IN_PROGRESS, f"can't start: the room is {room.state}")
        self.moves.no_new_races()
        self.moves.start_countdown(room, room.settings["countdown_s"], now_ms)

    def configure(self, player_id: str, settings: dict, text: Text | None, now_ms: int) -> None:
        room, _ = self.hosted_room(player_id)
        if room.state != WAITING:
            raise ProtocolError(ErrorCode.RACE_IN_PROGRESS, f"can't configure: the room is {room.state}")
        if settings.get("max_players", room.settings["max_players"]) < len(room.seats):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "max_players is below the players seated")
        room.settings.update(settings)
        if text is not None:
            room.text = text
        self.outbox.announce(room)

    def rematch(self, player_id: str, text: Text, now_ms: int) -> None:
        """The same players race again at once on a new text."""
        room, _ = self.hosted_room(player_id)
        if room.state != FINISHED or not room.results_out:
            raise ProtocolError(ErrorCode.RACE_IN_PROGRESS, f"can't rematch: the room is {room.state}")
        self.moves.no_new_races()
        room.text = text
        # A ghost types its own text only.
        room.ghosts = {s: g for s, g in room.ghosts.items() if g.text_id == text.text_id}
        self.moves.start_countdown(room, room.settings["countdown_s"], now_ms)
