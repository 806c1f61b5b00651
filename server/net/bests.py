"""Personal bests in `results`: each saved racer's best clean WPM on the text and on
any text is read from the store just BEFORE that racer's result is first saved, so the
results can say which are new bests (server/core/results.py: Result.bests) and every
client shows the same.

A finisher's result is saved when it finishes (server/net/saving.py), and the race's
end saves everyone again: each racer's bests are read once, before its first save, and
kept until the race's `results` go out. Read once: a retried save whose first attempt
landed, or the end's second save, would otherwise compare the race with itself.

If the store can't be read, those racers' entries go out without the two fields (the
save itself retries as always); clients show nothing about bests then."""

from __future__ import annotations

import logging

from server.net.logs import event
from server.store import RaceRecord, Store, StoreUnavailable

log = logging.getLogger("typerace")


class BestsBefore:
    def __init__(self, store: Store):
        self.store = store
        self._read: dict[str, dict[int, dict]] = {}   # race_id -> slot -> fields

    async def read(self, record: RaceRecord) -> None:
        """Before `record` is saved: the bests of its racers not read yet in this race."""
        known = self._read.setdefault(record.race_id, {})
        new = [r for r in record.results if r.slot not in known]
        if new:
            known.update(await bests_before(self.store, new, record.text_id))

    def take(self, race_id: str) -> dict[int, dict]:
        """The race's `results` go out: slot -> {new_best, previous_best_wpm}."""
        return self._read.pop(race_id, {})

    def drop(self, race_id: str) -> None:
        """The race's results will never go out (lost at stop)."""
        self._read.pop(race_id, None)


async def bests_before(store: Store, results: list, text_id: int | None) -> dict[int, dict]:
    """slot -> {new_best, previous_best_wpm} for each result; {} if unreadable."""
    try:       # (whatever goes wrong here, the save goes on: bests are not results)
        found = await store.bests_of([r.player_id for r in results], text_id)
        return {r.slot: r.bests(found[r.player_id].text_wpm, found[r.player_id].overall_wpm)
                for r in results}
    except Exception as exc:
        event(log, "bests_unread", level=logging.WARNING, text=text_id, error=repr(exc),
              exc_info=not isinstance(exc, StoreUnavailable))
        return {}
