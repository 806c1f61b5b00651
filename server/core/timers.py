"""Every room's timers (countdowns, time limits, grace periods, idle rooms) and
progress ticks, as the shell's ticker steps them. Pure."""

from __future__ import annotations

from typing import Callable

from server.core.moves import Moves
from server.core.outbox import ALL
from server.core.race import COUNTDOWN, RACING
from server.core.room import PRIVATE, Room


class Timers:
    def __init__(self, moves: Moves):
        self.moves = moves
        self.config = moves.config
        self.rooms = moves.rooms
        self.outbox = moves.outbox

    def advance(self, now_ms: int, failed: Callable[[Room], None] | None = None) -> None:
        """All timers of all rooms: countdowns, time limits, grace periods, idle rooms.
        With `failed`, a room whose move raises (a bug) is handed to it, inside the
        `except`, and the other rooms go on (the ticker logs it and calls `abort`)."""
        for room in self.rooms.all():
            try:
                self._advance_room(room, now_ms)
            except Exception:
                if failed is None:
                    raise
                failed(room)

    def _advance_room(self, room: Room, now_ms: int) -> None:
        if room.room_id not in self.rooms.by_id:
            return                       # closed by an earlier room's move
        cfg = self.config
        grace_ms = cfg.reconnect_grace_s * 1000
        gone = [seat.player_id for seat in room.seats.values()
                if not seat.connected and now_ms - seat.disconnected_ms >= grace_ms]
        for player_id in gone:
            self.moves.leave(player_id, now_ms)
        if gone and room.room_id not in self.rooms.by_id:
            return
        if room.race is None and room.public and room.seats and not self.moves.draining:
            lone_since = min(s.seated_ms for s in room.seats.values())
            if len(room.seats) >= 2 or now_ms - lone_since >= cfg.lobby_wait_s * 1000:
                self.moves.start_countdown(room, cfg.countdown_s, now_ms)
        elif room.race is not None and room.race.state in (COUNTDOWN, RACING):
            self.moves.race_events(room, room.race.advance(now_ms))
        self._close_if_idle(room, now_ms)

    def abort(self, room: Room) -> None:
        """A room whose move failed (a bug): its members are told it closed and it is
        gone, so it fails once and every other room goes on. A race running in it is
        not saved (its state is not to be trusted)."""
        self.outbox.drop_saves(room.room_id)
        self.moves.close(room, "error")

    def _close_if_idle(self, room: Room, now_ms: int) -> None:
        if room.race is not None and not room.results_out:
            return                       # a race runs, or its results are being saved
        if room.kind == PRIVATE:
            if any(s.connected for s in room.seats.values()) or room.spectators:
                room.touched_ms = now_ms
            elif now_ms - room.touched_ms >= self.config.idle_room_s * 1000:
                self.moves.close(room, "idle")
        elif room.results_out and now_ms - room.touched_ms >= self.config.finished_room_s * 1000:
            self.moves.close(room, "finished")

    def ticks(self, now_ms: int, phase: int = 0, phases: int = 1,
              failed: Callable[[Room], None] | None = None) -> None:
        """One progress tick per racing room that changed; with `phases` > 1 only the
        rooms of one phase (room.phase % phases), so the caller can spread the rooms'
        ticks over the interval instead of writing every frame in one burst. A race's
        first tick goes out at once, whatever its phase: short races get seen.
        `failed`: as in `advance`."""
        for room in self.rooms.all():
            race = room.race
            if race is None or race.state is not RACING:     # `is`: see Moves.race_events
                continue
            if phases > 1 and room.phase % phases != phase and room.ticked is race:
                continue
            try:
                room.ticked = race
                if race.ghosts_due(now_ms):      # a ghost's moves are due at their times
                    self.moves.race_events(room, race.advance(now_ms))
                    if race.state is not RACING:
                        continue
                tick = race.tick(now_ms)
                if tick is not None:
                    self.outbox.to_room(room, ALL, tick)
            except Exception:
                if failed is None:
                    raise
                failed(room)
