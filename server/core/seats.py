"""Who sits or watches where: the lobby's index of players to rooms. Pure.

It owns one invariant: a player is in at most one room, seated or watching, never
both, and the index agrees with every Room's own members (its seats and spectators).
Every change of a Room's members goes through here, so the two cannot drift apart;
`problems` checks it (the tests call it after every move).
"""

from __future__ import annotations

from typing import Iterable

from server.core.room import Room, Seat


class Seats:
    __slots__ = ("seated", "watching")

    def __init__(self):
        # Read them (`seats.seated.get(player_id)`: every input asks, and a plain dict
        # look-up costs no Python call); change them only through the moves below.
        self.seated: dict[str, Room] = {}         # player_id -> the one room it sits in
        self.watching: dict[str, Room] = {}       # player_id -> the room it watches

    # ---- reads ------------------------------------------------------------------

    def room_of(self, player_id: str) -> Room | None:
        """The room the player sits in or watches, if any."""
        return self.seated.get(player_id) or self.watching.get(player_id)

    def seated_players(self) -> list[tuple[str, Room]]:
        return list(self.seated.items())

    def counts(self) -> tuple[int, int]:
        """(players seated, spectators)."""
        return len(self.seated), len(self.watching)

    # ---- moves ------------------------------------------------------------------

    def sit(self, room: Room, player_id: str, name: str, now_ms: int,
            rating: float | None = None) -> Seat:
        """Seat a player who is nowhere (the caller made it leave first)."""
        self._must_be_nowhere(player_id)
        seat = room.seat(player_id, name, now_ms, rating)
        self.seated[player_id] = room
        return seat

    def watch(self, room: Room, player_id: str) -> None:
        """A player who is nowhere watches `room`."""
        self._must_be_nowhere(player_id)
        room.spectators.add(player_id)
        self.watching[player_id] = room

    def unwatch(self, player_id: str) -> Room | None:
        """The room the player stopped watching, if it watched one."""
        room = self.watching.pop(player_id, None)
        if room is not None:
            room.spectators.discard(player_id)
        return room

    def unseat(self, player_id: str) -> tuple[Room, Seat] | None:
        """The room and the seat the player left, if it sat somewhere."""
        room = self.seated.pop(player_id, None)
        if room is None:
            return None
        return room, room.unseat(player_id)

    def empty(self, room: Room) -> list[str]:
        """Everyone out of `room` (it closes): who was there, spectators first."""
        members = room.empty()
        for player_id in members:
            if self.seated.get(player_id) is room:
                del self.seated[player_id]
            elif self.watching.get(player_id) is room:
                del self.watching[player_id]
        return members

    def forget(self, room: Room) -> None:
        """The last resort for a room that failed even to close: no entry names it
        any more, whatever state its own members are in."""
        for index in (self.seated, self.watching):
            for player_id in [p for p, r in index.items() if r is room]:
                del index[player_id]

    def _must_be_nowhere(self, player_id: str) -> None:
        if player_id in self.seated or player_id in self.watching:
            raise RuntimeError(f"{player_id} is in a room already: leave it first")

    # ---- the invariant ----------------------------------------------------------

    def problems(self, rooms: Iterable[Room]) -> list[str]:
        """Where the index and the open `rooms` disagree; [] when they agree."""
        found = []
        rooms = list(rooms)
        for player_id in self.seated.keys() & self.watching.keys():
            found.append(f"{player_id} both seated and watching")
        for player_id, room in self.seated.items():
            if room not in rooms:
                found.append(f"{player_id} seated in closed room {room.room_id}")
        for player_id, room in self.watching.items():
            if room not in rooms:
                found.append(f"{player_id} watches closed room {room.room_id}")
        for room in rooms:
            by_seats = {s.player_id: s for s in room.seats.values()}
            if by_seats != room.by_player or any(room.seats.get(s.slot) is not s
                                                 for s in room.by_player.values()):
                found.append(f"{room.room_id}: seats and by_player differ")
            for player_id in by_seats:
                if self.seated.get(player_id) is not room:
                    found.append(f"{player_id} sits in {room.room_id}, the index says otherwise")
            for player_id in room.spectators:
                if self.watching.get(player_id) is not room:
                    found.append(f"{player_id} watches {room.room_id}, the index says otherwise")
        seated = sum(len(room.seats) for room in rooms)
        watching = sum(len(room.spectators) for room in rooms)
        if (seated, watching) != self.counts():
            found.append(f"rooms hold {seated} players and {watching} spectators, "
                         f"the index {self.counts()}")
        return found
