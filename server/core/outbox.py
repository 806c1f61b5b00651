"""The lobby's outbox: what goes out, in the order it was made. Pure.

Three streams, each kept in emission order and handed over whole by `take`, so the
shell sees every item exactly once and never out of order:

- room messages as (room, audience, message): the I/O layer encodes each once per
  codec and hands the same frame to every member of that audience;
- one player's messages as (player_id, message);
- what must be saved before anyone sees it, as typed events: a racer that finished
  (`RacerFinished`: its final result and the `finish` message that reveals it) and a
  race that ended (`RaceEnded`: every result, frozen). The shell saves each, then hands
  it back (Lobby.publish_finish, publish_results), so no player ever sees a result
  that was not saved, and the shell never needs to look inside a Room or a Race.
"""

from __future__ import annotations

from server.core.results import RaceEnded, RacerFinished
from server.core.room import Room

ALL, PLAYERS, SPECTATORS = "all", "players", "spectators"


class Outbox:
    __slots__ = ("room_messages", "player_messages", "saves")

    def __init__(self):
        # Read them (tests do); add to them only through the methods below.
        self.room_messages: list[tuple[Room, str, dict]] = []
        self.player_messages: list[tuple[str, dict]] = []
        self.saves: list[RacerFinished | RaceEnded] = []

    def to_room(self, room: Room, audience: str, message: dict) -> None:
        self.room_messages.append((room, audience, message))

    def broadcast(self, room: Room, messages: list[dict]) -> None:
        for message in messages:
            self.room_messages.append((room, ALL, message))

    def announce(self, room: Room) -> None:
        """A `room` update to everyone in the room; codes only to the players."""
        room.announced_state = room.state
        if room.code:
            self.room_messages.append((room, PLAYERS, {"type": "room", "room": room.view(True)}))
            if room.spectators:
                self.room_messages.append(
                    (room, SPECTATORS, {"type": "room", "room": room.view(False)}))
        else:
            self.room_messages.append((room, ALL, {"type": "room", "room": room.view(False)}))

    def to_player(self, player_id: str, message: dict) -> None:
        self.player_messages.append((player_id, message))

    def to_save(self, event: RacerFinished | RaceEnded) -> None:
        self.saves.append(event)

    def drop_saves(self, room_id: str) -> None:
        """Forget what a failed room queued to be saved (its state is not to be trusted)."""
        self.saves = [e for e in self.saves if e.race.room_id != room_id]

    def take(self) -> tuple[list, list, list]:
        """Everything made since the last take, and forget it: (room messages, player
        messages, saves)."""
        taken = self.room_messages, self.player_messages, self.saves
        self.room_messages, self.player_messages, self.saves = [], [], []
        return taken
