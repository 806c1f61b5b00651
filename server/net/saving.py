"""Saving results: a race's results are committed to the store BEFORE anyone sees them.

When a race ends, its ranking is checked for integrity, saved (retrying until the store
takes it), and only then handed back to the lobby to announce.
"""

from __future__ import annotations

import asyncio
import logging

from server.core import integrity
from server.core.lobby import Lobby, Room
from server.net.logs import event
from server.store import RaceRecord, ResultRecord, Store

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
        ranking = race.ranking()
        if ranking:
            record = RaceRecord(race.race_id, room.room_id, room.kind, race.text.text_id,
                                race.start_ms, self.clock.now_ms())
            for entry in ranking:
                racer = race.racers[entry["slot"]]
                # Implausible results are saved with the reason, shown to the room and
                # kept off the boards by the store.
                try:
                    entry["flagged"] = integrity.check(race.text.body, racer.log,
                                                       entry["wpm"], self.max_wpm)
                except Exception:         # a bug here must not hold back the results
                    log.exception("checking a result of race %s failed", race.race_id)
                    entry["flagged"] = None
                record.results.append(ResultRecord(
                    entry["player_id"], entry["name"], entry["slot"], entry["place"],
                    entry["status"], entry["wpm"], entry["accuracy"], entry["race_ms"],
                    entry["pos"], racer.typing.keystrokes, racer.typing.correct_keystrokes,
                    list(racer.log), entry["flagged"]))
            await self._save(record)
        self.lobby.publish_results(room, ranking, self.clock.now_ms())
        self.announced()
        self.metrics.races_finished.inc()
        event(log, "race_finish", race=race.race_id, room=room.room_id, kind=room.kind,
              racers=len(ranking), finished=sum(e["status"] == "finished" for e in ranking),
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
