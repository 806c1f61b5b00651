"""Saving results: a race's results are committed to the store BEFORE anyone sees them.

When a race ends, its results (frozen values the core made, integrity verdicts
included) are saved, retrying until the store takes them, and only then handed back to
the lobby to announce.
"""

from __future__ import annotations

import asyncio
import logging

from server.core.lobby import Lobby
from server.core.room import Room
from server.net.logs import event
from server.store import RaceRecord, Store

log = logging.getLogger("typerace")


class ResultSaver:
    def __init__(self, store: Store, lobby: Lobby, clock, metrics, max_wpm: float,
                 announced):
        self.store = store
        self.lobby = lobby
        self.clock = clock
        self.metrics = metrics
        self.max_wpm = max_wpm
        self.announced = announced       # called once results are out: deliver them

    async def save_and_publish(self, room: Room) -> None:
        race = room.race
        results = race.results(self.max_wpm)
        if results:
            await self._save(RaceRecord(race.race_id, room.room_id, room.kind,
                                        race.text.text_id, race.start_ms, self.clock.now_ms(),
                                        results))
        self.lobby.publish_results(room, results, self.clock.now_ms())
        self.announced()
        self.metrics.races_finished.inc()
        event(log, "race_finish", race=race.race_id, room=room.room_id, kind=room.kind,
              racers=len(results), finished=sum(r.status == "finished" for r in results),
              race_ms=race.final_race_ms)

    async def _save(self, record: RaceRecord) -> None:
        delay = 0.1
        while True:
            try:
                await self.store.save_race(record)
                return
            except Exception:
                log.exception("saving race %s failed; retrying in %.1fs", record.race_id, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
