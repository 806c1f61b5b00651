"""Per-key statistics and points as a view of the saved results, folded exactly once.

A save writes the result and marks it unfolded (SQLite: a row of `unfolded`; Redis: the
race id on the player's kpend list). Folding applies unfolded results to the view's
tables (key_stats, points and their histogram) and unmarks them in ONE transaction (a
SQLite transaction, a Redis script), so a crash between a save and its fold loses
nothing and counts nothing twice: the next fold finds the result still marked. Folding
runs off the save path, a moment after saves (Folder, below), in batches that add a
player's results together; and a read of the view folds what is pending for it first,
so it is not behind the saves.
"""

from __future__ import annotations

import asyncio
import logging

from server.store import StoreUnavailable

log = logging.getLogger(__name__)

FOLD_DELAY_S = 1.0      # after a save, folding waits this long (saves come in bursts)
# Results folded in one transaction or script: a fold holds SQLite's one writer (saves
# wait behind it) or blocks Redis (every process waits) while it runs, ~0.3-0.9 ms a
# result, so a batch is kept to tens of milliseconds.
FOLD_BATCH = 64
READ_FOLDS = 8          # batches a read folds at most before it reads


async def fold_for_read(fold) -> None:
    """Fold what a read needs (`fold()` folds one batch, returns how many) before it
    reads, in at most READ_FOLDS batches: the read sees every result saved before it
    unless more than READ_FOLDS * FOLD_BATCH wait (a save rate folding cannot keep up
    with), and never waits for more than that."""
    for _ in range(READ_FOLDS):
        if await fold() < FOLD_BATCH:
            return


class Folder:
    """Calls `fold(most)` in the background `delay` seconds after `soon()`, and again at
    once while it folds whole batches (it returns how many it folded); one run at a
    time. A failure (the store down) is logged; the next save's `soon()` tries again."""

    def __init__(self, fold, delay: float = FOLD_DELAY_S, batch: int = FOLD_BATCH):
        self.fold = fold
        self.delay = delay
        self.batch = batch
        self._task: asyncio.Task | None = None

    def soon(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        await asyncio.sleep(self.delay)
        try:
            while await self.fold(self.batch) >= self.batch:
                await asyncio.sleep(0)          # let saves and reads in between batches
        except Exception as exc:                # noqa: BLE001 (kept for the next try)
            # An outage is no bug: one line, no traceback (as the saver logs it).
            log.warning("folding saved results failed (%s); the next save retries", exc,
                        exc_info=not isinstance(exc, StoreUnavailable))

    async def close(self) -> None:
        """Stop a waiting or running fold (what it had not committed stays marked)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._task = None
