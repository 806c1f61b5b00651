"""The rooms' races once seated: inputs, results out once saved, every room's timers
(countdowns, time limits, grace periods, idle rooms) and progress ticks. Pure."""

from __future__ import annotations

from typing import Callable

from protocol.messages import ProtocolError
from server.core.lobby_state import ALL, LobbyState
from server.core.race import COUNTDOWN, FINISHED, RACING
from server.core.results import RaceEnded, RacerFinished
from server.core.room import PRIVATE, Room


class Racing(LobbyState):
    def input(self, player_id: str, keys: str, now_ms: int) -> None:
        room = self.seated.get(player_id)
        if room is None:
            if player_id in self.watching:
                raise ProtocolError("not_a_player", "spectators can't type")
            raise ProtocolError("not_in_room", "you are not in a room")
        if room.race is None:
            raise ProtocolError("not_racing", "can't type: the room is waiting")
        seat = room.by_player[player_id]
        try:
            events = room.race.input(seat.slot, keys, now_ms)
        except ProtocolError:
            # The race may have just reached its time limit inside input(): its end
            # must still be saved and published, or the room would hang unfinished.
            self._race_events(room, [])
            raise
        self._race_events(room, events)

    def measured(self, player_id: str, rtt_ms: float) -> None:
        """A seated player's round trip as the shell measured it just now: shown in the
        room's `players`, and counted by its race (Race.measured) while it runs."""
        room = self.seated.get(player_id)
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
        room = self._saved_race(finished.race)
        if room is None:
            return
        room.race.finish_shown(finished.result.slot)
        self._broadcast(room, [finished.message])

    def publish_results(self, ended: RaceEnded, now_ms: int,
                        bests: dict[int, dict] | None = None) -> None:
        """After the results were saved: tell the room. `bests`: slot -> the fields
        Result.bests made for a saved racer (read from the store before its save)."""
        room = self._saved_race(ended.race)
        if room is None or room.results_out:
            return
        room.results_out = True
        room.touched_ms = now_ms
        bests = bests or {}
        room.last_results = {"type": "results", "race_id": ended.race.race_id,
                             "ranking": [r.entry() | bests.get(r.slot, {})
                                         for r in ended.results]}
        self._broadcast(room, [room.last_results])
        if not room.seats:
            self._close(room, "empty")
        else:
            self._announce(room)

    def end_race(self, room: Room, now_ms: int) -> None:
        """Cut a running race short (shutdown): it ends now and is saved like any other."""
        if room.race is not None and room.race.state == RACING:
            self._race_events(room, room.race.end(now_ms))

    def advance(self, now_ms: int, failed: Callable[[Room], None] | None = None) -> None:
        """All timers of all rooms: countdowns, time limits, grace periods, idle rooms.
        With `failed`, a room whose move raises (a bug) is handed to it, inside the
        `except`, and the other rooms go on (the ticker logs it and calls `abort`)."""
        for room in list(self.rooms.values()):
            try:
                self._advance_room(room, now_ms)
            except Exception:
                if failed is None:
                    raise
                failed(room)

    def _advance_room(self, room: Room, now_ms: int) -> None:
        if room.room_id not in self.rooms:
            return                       # closed by an earlier room's move
        cfg = self.config
        grace_ms = cfg.reconnect_grace_s * 1000
        gone = [seat.player_id for seat in room.seats.values()
                if not seat.connected and now_ms - seat.disconnected_ms >= grace_ms]
        for player_id in gone:
            self.leave(player_id, now_ms)
        if gone and room.room_id not in self.rooms:
            return
        if room.race is None and room.public and room.seats and not self.draining:
            lone_since = min(s.seated_ms for s in room.seats.values())
            if len(room.seats) >= 2 or now_ms - lone_since >= cfg.lobby_wait_s * 1000:
                self._start_countdown(room, cfg.countdown_s, now_ms)
        elif room.race is not None and room.race.state in (COUNTDOWN, RACING):
            self._race_events(room, room.race.advance(now_ms))
        self._close_if_idle(room, now_ms)

    def abort(self, room: Room) -> None:
        """A room whose move failed (a bug): its members are told it closed and it is
        gone, so it fails once and every other room goes on. A race running in it is
        not saved (its state is not to be trusted)."""
        self.to_save = [e for e in self.to_save if e.race.room_id != room.room_id]
        self._close(room, "error")

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

    def ticks(self, now_ms: int, phase: int = 0, phases: int = 1,
              failed: Callable[[Room], None] | None = None) -> None:
        """One progress tick per racing room that changed; with `phases` > 1 only the
        rooms of one phase (room.phase % phases), so the caller can spread the rooms'
        ticks over the interval instead of writing every frame in one burst. A race's
        first tick goes out at once, whatever its phase: short races get seen.
        `failed`: as in `advance`."""
        for room in list(self.rooms.values()):
            race = room.race
            if race is None or race.state != RACING:
                continue
            if phases > 1 and room.phase % phases != phase and room.ticked is race:
                continue
            try:
                room.ticked = race
                if race.ghosts_due(now_ms):      # a ghost's moves are due at their times
                    self._race_events(room, race.advance(now_ms))
                    if race.state != RACING:
                        continue
                tick = race.tick(now_ms)
                if tick is not None:
                    self.outbox.append((room, ALL, tick))
            except Exception:
                if failed is None:
                    raise
                failed(room)
