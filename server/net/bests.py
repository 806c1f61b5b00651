"""Personal bests in `results`: each saved racer's best clean WPM on the text and on
any text is read from the store just BEFORE the race's results are saved, so the
results can say which are new bests (server/core/results.py: Result.bests) and every
client shows the same. Read once, before the save's first attempt: a retried save
whose first attempt landed would otherwise compare the race with itself.

If the store can't be read, the results go out without the two fields (the save
itself retries as always); clients show nothing about bests then."""

from __future__ import annotations

import logging

from server.core.results import Result
from server.net.logs import event
from server.store import Store, StoreUnavailable

log = logging.getLogger("typerace")


async def bests_before(store: Store, results: list[Result], text_id: int | None
                       ) -> dict[int, dict]:
    """slot -> {new_best, previous_best_wpm} for each saved result; {} if unreadable."""
    try:
        found = await store.bests_of([r.player_id for r in results], text_id)
    except Exception as exc:
        event(log, "bests_unread", level=logging.WARNING, text=text_id, error=repr(exc),
              exc_info=not isinstance(exc, StoreUnavailable))
        return {}
    return {r.slot: r.bests(found[r.player_id].text_wpm, found[r.player_id].overall_wpm)
            for r in results}
