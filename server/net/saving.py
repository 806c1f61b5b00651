"""Saving results: every result is committed to the store BEFORE anyone sees it.

The core emits what must be saved as typed events (server/core/results.py), in order:
`RacerFinished` when a racer reaches the end (its result is final then: time, place,
integrity verdict; its `finish` message reveals it) and `RaceEnded` when the race ends
(everyone's frozen results; `results` reveals them). The saver saves each event's
results, retrying until the store takes them, and only then hands the event back to
the lobby to publish (`publish_finish`, `publish_results`). So a finisher's result is
in the store before its `finish` is sent, and a process killed after it loses nothing
anyone saw. The saver never looks inside a Room or a Race.

Events are saved and published in the order the core made them, one room at a time:
each room's events wait in its queue while an earlier save of that room runs, and what
waited is saved together (one transaction: every finisher of a burst, or the race's end
with the finishers just before it). The stores key results by (race_id, player_id), so
the race's end, which carries every result again, counts nothing twice. A ghost's
result is shown, never saved.

A save that fails (Redis away, a full disk, the database locked by another process)
is retried, backing off from 0.1 s to 1 s; each failure is one log line (`save_failed`:
race, attempt, error); a traceback is logged at most once per save, and only for an
error that is not the store being unavailable (that would be a bug).

At stop, a save still failing gets one last attempt; results still unsaved then are
logged as `results_not_saved` with their players (they are never shown), and counted in
`lost`, so that `python -m server` exits with LOST_RESULTS_EXIT, not 0.
"""

from __future__ import annotations

import asyncio
import logging

from protocol.codes import RacerStatus
from server.core.lobby import Lobby
from server.core.results import RaceEnded, RacerFinished
from server.net.bests import BestsBefore
from server.net.logs import event
from server.store import RaceRecord, Store, StoreUnavailable

log = logging.getLogger("typerace")

FIRST_RETRY_S = 0.1
# At most this long between tries: once Redis is back, the results of races that ended
# during the outage are shown within a second (5 s kept racers from their next race).
LAST_RETRY_S = 1.0
LOST_RESULTS_EXIT = 3     # the process stopped with results it could not save

Saved = RacerFinished | RaceEnded


class ResultSaver:
    def __init__(self, store: Store, lobby: Lobby, clock, metrics, spawn, announced,
                 saved=None, daily=None):
        self.store = store
        self.lobby = lobby
        self.clock = clock
        self.metrics = metrics
        self.spawn = spawn               # runs a coroutine as a task the server waits for
        self.announced = announced       # called once results are out: deliver them
        self.saved = saved               # awaited with the results once they are saved
        self.daily = daily               # the text of the day (server/net/competitions.py)
        self.lost: list[RaceRecord] = []     # results given up at stop
        self._waiting: dict[str, list[Saved]] = {}   # room_id -> events not taken yet
        self._saving: set[str] = set()               # rooms whose queue is being saved
        self._stopping = asyncio.Event()
        self.bests = BestsBefore(store)      # personal bests, read before each first save

    def take(self, events: list[Saved]) -> None:
        """The core's events, in order: each room's are saved and published in turn."""
        for saved in events:
            room_id = saved.race.room_id
            self._waiting.setdefault(room_id, []).append(saved)
            if room_id not in self._saving:
                self._saving.add(room_id)
                self.spawn(self._room_queue(room_id))

    async def _room_queue(self, room_id: str) -> None:
        races: list[list[Saved]] = []
        try:
            while batch := self._waiting.pop(room_id, None):
                races = _by_race(batch)
                while races:
                    if not await self._save_and_publish(races.pop(0)):
                        # The server stopped first: never shown unsaved, and what waits
                        # behind it in this room is given up with it.
                        self._lose_waiting(room_id, races)
                        return
        except asyncio.CancelledError:
            self._lose_waiting(room_id, races)
            raise
        finally:
            self._saving.discard(room_id)

    def _lose_waiting(self, room_id: str, races: list[list[Saved]]) -> None:
        for race in races + _by_race(self._waiting.pop(room_id, [])):
            self._lose(_record(race), "the process stopped before it was saved")

    async def _save_and_publish(self, events: list[Saved]) -> bool:
        """Save the results of one race's events, then publish each in order; False
        when the server stopped before they were saved."""
        record = _record(events)
        if record.results:
            record.daily = (self.daily is not None and
                            await self.daily.text_id(record.ended_ms) == record.text_id)
            await self.bests.read(record)
            if not await self._save(record):
                return False
            if self.saved is not None:
                await self.saved(record.results)
        for saved in events:
            if isinstance(saved, RacerFinished):
                self.lobby.publish_finish(saved)
            else:
                self._published(saved)
        self.announced()
        return True

    def _published(self, ended: RaceEnded) -> None:
        self.lobby.publish_results(ended, self.clock.now_ms(),
                                   self.bests.take(ended.race.race_id))
        self.metrics.races_finished.inc()
        race = ended.race
        event(log, "race_finish", race=race.race_id, room=race.room_id, kind=race.kind,
              racers=len(ended.results),
              finished=sum(r.status == RacerStatus.FINISHED for r in ended.results),
              race_ms=ended.race_ms)

    def stop(self) -> None:
        """Saves still failing make one more attempt, then give up."""
        self._stopping.set()

    async def _save(self, record: RaceRecord) -> bool:
        """True once the store has the results; False when the server stopped first."""
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
        self.bests.drop(record.race_id)
        if not record.results:
            return
        # One race lost in two saves (a finisher's, then its end) is one race lost.
        earlier = next((r for r in self.lost if r.race_id == record.race_id), None)
        if earlier is None:
            self.lost.append(record)
        else:
            known = {r.player_id for r in earlier.results}
            earlier.results += [r for r in record.results if r.player_id not in known]
        event(log, "results_not_saved", level=logging.ERROR, race=record.race_id,
              room=record.room_id, kind=record.kind, text=record.text_id,
              players=[f"{r.player_id} {r.name!r} {r.status} {r.wpm} wpm"
                       for r in record.results], error=why)


def _by_race(events: list[Saved]) -> list[list[Saved]]:
    """Consecutive events of the same race together (a room runs one race at a time)."""
    races: list[list[Saved]] = []
    for saved in events:
        if races and races[-1][0].race.race_id == saved.race.race_id:
            races[-1].append(saved)
        else:
            races.append([saved])
    return races


def _record(events: list[Saved]) -> RaceRecord:
    """What one race's events save: the race's end carries every result; finishers
    alone, theirs (a ghost's is never saved)."""
    ended = next((e for e in events if isinstance(e, RaceEnded)), None)
    if ended is not None:
        return RaceRecord.of(ended.race, ended.at_ms, ended.kept)
    return RaceRecord.of(events[-1].race, events[-1].at_ms,
                         [e.result for e in events if not e.result.ghost])


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
