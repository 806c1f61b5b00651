"""The lobby: rooms, quick-race matchmaking, codes, hosts, seats, spectators and their
races, put together from one module per job. Pure.

    lobby_state    the rooms and who is where, the messages going out, and the moves
                   every part makes (open, leave, close a room; start a countdown)
    seating        quick-race matching, joining, watching, connections
    host_controls  what only a room's host may do
    racing         inputs, results out once saved, the rooms' timers and ticks

Time comes in as `now_ms`; see lobby_state for where the messages go.

The shell (server/net, server/cluster) changes the lobby only through its actions and
reads it only through the small API below, never its dicts (tests/test_layers.py).
"""

from __future__ import annotations

from server.core.host_controls import HostControls
from server.core.lobby_state import ALL, PLAYERS, SPECTATORS, LobbyConfig
from server.core.race import FINISHED
from server.core.racing import Racing
from server.core.room import Room, normalize_code
from server.core.seating import Seating

__all__ = ["ALL", "PLAYERS", "SPECTATORS", "Lobby", "LobbyConfig"]


class Lobby(Seating, HostControls, Racing):
    """Every room of one process; the I/O layer drains what it emits (`take_events`)."""

    # ---- what the shell may read ------------------------------------------------

    def room_of(self, player_id: str) -> Room | None:
        """The room the player sits in or watches (one at a time), if any."""
        return self.seated.get(player_id) or self.watching.get(player_id)

    def is_seated(self, player_id: str) -> bool:
        return player_id in self.seated

    def seated_players(self) -> list[tuple[str, Room]]:
        """(player_id, room) of every player holding a seat, as a list the caller may
        keep across an await."""
        return list(self.seated.items())

    def watched_room(self, player_id: str) -> Room | None:
        return self.watching.get(player_id)

    def room(self, room_id: str) -> Room | None:
        return self.rooms.get(room_id)

    def all_rooms(self) -> list[Room]:
        """Every room, as a list the caller may keep across an await."""
        return list(self.rooms.values())

    def room_ids(self) -> list[str]:
        return list(self.rooms)

    def open_public_rooms(self) -> list[Room]:
        """What `list_races` shows: public rooms whose race is not over."""
        return [r for r in self.rooms.values() if r.public and r.state != FINISHED]

    def has_code(self, code: str, watch: bool = False) -> bool:
        """Whether a room here answers `code`: its join code, or with `watch` also
        its watch code or room id."""
        clean = normalize_code(code)
        if clean in self.codes:
            return True
        return watch and (clean in self.watch_codes or code in self.rooms)

    def counts(self) -> tuple[int, int, int]:
        """(rooms, players seated, spectators)."""
        return len(self.rooms), len(self.seated), len(self.watching)

    def take_events(self) -> tuple[list, list, list]:
        """What was emitted since the last call, and forget it: (room, audience,
        message) for rooms, (player_id, message) for one player, and the typed events
        to save before anyone sees them (`to_save`: RacerFinished, RaceEnded)."""
        events = self.outbox, self.direct, self.to_save
        self.outbox, self.direct, self.to_save = [], [], []
        return events

    def has_events(self) -> bool:
        return bool(self.outbox or self.direct or self.to_save)

    def drop(self, room_id: str) -> None:
        """The last resort when closing a failed room failed too: forget it."""
        self.rooms.pop(room_id, None)
