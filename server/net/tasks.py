"""Background tasks the server must not lose track of (saves, closes, forwarded
requests): kept until done, so shutdown can wait for them."""

from __future__ import annotations

import asyncio


class Tasks:
    def __init__(self):
        self._running: set[asyncio.Task] = set()

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    def __len__(self) -> int:
        return len(self._running)

    async def wait(self, timeout: float) -> None:
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)

    async def cancel(self, timeout: float) -> None:
        """Cancel what is still running, and wait (up to `timeout`) until it has ended."""
        late = set(self._running)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=timeout)
