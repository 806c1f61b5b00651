"""The rooms' races once seated: inputs, measured delays, a returning racer's state,
and results out once saved. Pure."""

from __future__ import annotations

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.core.moves import Moves
from server.core.race import COUNTDOWN, FINISHED, RACING
from server.core.results import RaceEnded, RacerFinished
from server.core.room import Room


class Racing:
    def __init__(self, moves: Moves):
        self.moves = moves
        self.seats = moves.seats
        self.outbox = moves.outbox

    def input(self, player_id: str, keys: str, now_ms: int) -> None:
        room = self.seats.seated.get(player_id)
        if room is None:
            if self.seats.watching.get(player_id) is not None:
                raise ProtocolError(ErrorCode.NOT_A_PLAYER, "spectators can't type")
            raise ProtocolError(ErrorCode.NOT_IN_ROOM, "you are not in a room")
        if room.race is None:
            raise ProtocolError(ErrorCode.NOT_RACING, "can't type: the room is waiting")
        seat = room.by_player[player_id]
        try:
            events = room.race.input(seat.slot, keys, now_ms)
        except ProtocolError:
            # The race may have just reached its time limit inside input(): its end
            # must still be saved and published, or the room would hang unfinished.
            self.moves.race_events(room, [])
            raise
        self.moves.race_events(room, events)

    def measured(self, player_id: str, rtt_ms: float) -> None:
        """A seated player's round trip as the shell measured it just now: shown in the
        room's `players`, and counted by its race (Race.measured) while it runs."""
        room = self.seats.seated.get(player_id)
        if room is None:
            return
        seat = room.by_player[player_id]
        seat.rtt_ms = round(rtt_ms)
        race = room.race
        if race is not None and race.state in (COUNTDOWN, RACING):
            race.measured(seat.slot, rtt_ms)

    def racer_state(self, room: Room, slot: int) -> dict | None:
        """A returning racer's own state, so its client can restore the screen."""
        racer = room.race.racers.get(slot) if room.race else None
        if racer is None or room.state == FINISHED:
            return None
        # Before the start the racer is not racing yet: a client that trusted "racing"
        # would type into `not_racing`.
        status = COUNTDOWN if room.race.state == COUNTDOWN else racer.status
        return {"type": "resume", "race_id": room.race.race_id, "slot": slot,
                "pos": racer.typing.pos, "wrong": racer.typing.wrong_text,
                "status": status}

    def publish_finish(self, finished: RacerFinished) -> None:
        """After a finisher's result was saved: its `finish`, and its place in ticks."""
        room = self.moves.saved_race(finished.race)
        if room is None:
            return
        room.race.finish_shown(finished.result.slot)
        self.outbox.broadcast(room, [finished.message])

    def publish_results(self, ended: RaceEnded, now_ms: int,
                        bests: dict[int, dict] | None = None) -> None:
        """After the results were saved: tell the room. `bests`: slot -> the fields
        Result.bests made for a saved racer (read from the store before its save)."""
        room = self.moves.saved_race(ended.race)
        if room is None or room.results_out:
            return
        room.results_out = True
        room.touched_ms = now_ms
        bests = bests or {}
        room.last_results = {"type": "results", "race_id": ended.race.race_id,
                             "ranking": [r.entry() | bests.get(r.slot, {})
                                         for r in ended.results]}
        self.outbox.broadcast(room, [room.last_results])
        if not room.seats:
            self.moves.close(room, "empty")
        else:
            self.outbox.announce(room)

    def end_race(self, room: Room, now_ms: int) -> None:
        """Cut a running race short (shutdown): it ends now and is saved like any other."""
        if room.race is not None and room.race.state == RACING:
            room.race.end(now_ms)
            self.moves.race_events(room, [])      # it ended: on to its results
