"""The background folder (server/store/folding.py): it folds whole batches until one
comes back short, and an outage is one log line, not a traceback (a soak counts
tracebacks; a store that is away is no bug)."""

from __future__ import annotations

import asyncio
import logging

from server.store import StoreUnavailable
from server.store.folding import Folder


async def run_once(fold) -> None:
    folder = Folder(fold, delay=0, batch=4)
    folder.soon()
    await asyncio.wait_for(folder._task, 5)


async def test_the_folder_goes_on_while_batches_come_back_full():
    sizes = iter([4, 4, 1])
    calls = []

    async def fold(most):
        calls.append(most)
        return next(sizes)

    await run_once(fold)
    assert calls == [4, 4, 4]


async def test_an_outage_is_logged_in_one_line_and_a_bug_with_its_traceback(caplog):
    async def away(most):
        raise StoreUnavailable("redis at 127.0.0.1:6379 is unreachable")

    async def bug(most):
        raise KeyError("kpend")

    with caplog.at_level(logging.WARNING, logger="server.store.folding"):
        await run_once(away)
        await run_once(bug)
    outage, failure = caplog.records
    assert "unreachable" in outage.getMessage() and not outage.exc_info
    assert failure.exc_info is not None and failure.exc_info[0] is KeyError
