"""Saving results: a race's results are committed to the store BEFORE anyone sees them.

When a race ends, its results (frozen values the core made, integrity verdicts
included) are saved, retrying until the store takes them, and only then handed back to
the lobby to announce. A ghost's result is shown, never saved again.

A save that fails (Redis away, a full disk, the database locked by another process)
is retried, backing off from 0.1 s to 5 s; saves are idempotent by race id, so a
retry whose first attempt did land counts nothing twice. Each failure is one log line
(`save_failed`: race, attempt, error); a traceback is logged at most once per race,
and only for an error that is not the store being unavailable (that would be a bug).

At stop, a save still failing gets one last attempt; a race still unsaved then is
logged as `results_not_saved` with its players (its results are never shown), and
counted in `lost`, so that `python -m server` exits with LOST_RESULTS_EXIT, not 0.
"""

from __future__ import annotations

import asyncio
import logging

from server.core.lobby import Lobby
from server.core.room import Room
from server.net.logs import event
from server.store import RaceRecord, Store, StoreUnavailable

log = logging.getLogger("typerace")

FIRST_RETRY_S = 0.1
LAST_RETRY_S = 5.0
LOST_RESULTS_EXIT = 3     # the process stopped with results it could not save


class ResultSaver:
    def __init__(self, store: Store, lobby: Lobby, clock, metrics, max_wpm: float,
                 announced, saved=None, daily=None):
        self.store = store
        self.lobby = lobby
        self.clock = clock
        self.metrics = metrics
        self.max_wpm = max_wpm
        self.announced = announced       # called once results are out: deliver them
        self.saved = saved               # awaited with the results once they are saved
        self.daily = daily               # the text of the day (server/net/competitions.py)
        self.lost: list[RaceRecord] = []     # races given up at stop
        self._stopping = asyncio.Event()

    async def save_and_publish(self, room: Room) -> None:
        race = room.race
        results = race.results(self.max_wpm)
        kept = [r for r in results if not r.ghost]
        if kept:
            ended_ms = self.clock.now_ms()
            daily = (self.daily is not None
                     and await self.daily.text_id(ended_ms) == race.text.text_id)
            if not await self._save(RaceRecord(
                    race.race_id, room.room_id, room.kind, race.text.text_id, race.start_ms,
                    ended_ms, kept, daily,
                    passage=race.text.body if race.text.generated else None)):
                return                   # the server stopped first: never shown unsaved
            if self.saved is not None:
                await self.saved(kept)
        self.lobby.publish_results(room, results, self.clock.now_ms())
        self.announced()
        self.metrics.races_finished.inc()
        event(log, "race_finish", race=race.race_id, room=room.room_id, kind=room.kind,
              racers=len(results), finished=sum(r.status == "finished" for r in results),
              race_ms=race.final_race_ms)

    def stop(self) -> None:
        """Saves still failing make one more attempt, then give up."""
        self._stopping.set()

    async def _save(self, record: RaceRecord) -> bool:
        """True once the store has the race; False when the server stopped first."""
        attempt, delay = 0, FIRST_RETRY_S
        try:
            while True:
                attempt += 1
                try:
                    await self.store.save_race(record)
                    return True
                except Exception as exc:
                    if self._stopping.is_set():
                        self._lose(record, _error(exc))
                        return False
                    event(log, "save_failed", level=logging.WARNING, race=record.race_id,
                          attempt=attempt, retry_s=delay, error=_error(exc),
                          exc_info=attempt == 1 and not isinstance(exc, StoreUnavailable))
                try:        # the backoff, cut short by stop(): then one last attempt
                    await asyncio.wait_for(self._stopping.wait(), delay)
                except TimeoutError:
                    pass
                delay = min(delay * 2, LAST_RETRY_S)
        except asyncio.CancelledError:
            self._lose(record, "the process stopped during an attempt (it may yet have landed)")
            raise

    def _lose(self, record: RaceRecord, why: str) -> None:
        self.lost.append(record)
        event(log, "results_not_saved", level=logging.ERROR, race=record.race_id,
              room=record.room_id, kind=record.kind, text=record.text_id,
              players=[f"{r.player_id} {r.name!r} {r.status} {r.wpm} wpm"
                       for r in record.results], error=why)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
