"""The one registry of the tasks the server starts and must not lose track of, by what
shutdown does with each kind:

- WORK (saves, closes, a remote player's forwarded requests): waited for, up to a
  timeout, then cancelled (server/net/app.py stop; server/net/shutdown.py drains it);
- REQUEST (a local connection's request that awaits): moot once the connections are
  closed, so cancelled at once;
- SERVICE (loops that run until their owner stops: the cluster's heartbeat and sync):
  cancelled by that owner.
"""

from __future__ import annotations

import asyncio

WORK, REQUEST, SERVICE = "work", "request", "service"


class Tasks:
    def __init__(self):
        self._running: dict[str, set[asyncio.Task]] = {WORK: set(), REQUEST: set(),
                                                       SERVICE: set()}

    def spawn(self, coro, kind: str = WORK, name: str | None = None) -> asyncio.Task:
        task = asyncio.create_task(coro, name=name)
        running = self._running[kind]
        running.add(task)
        task.add_done_callback(running.discard)
        return task

    def __len__(self) -> int:
        """The WORK still running (what shutdown waits for)."""
        return len(self._running[WORK])

    async def wait(self, timeout: float, kind: str = WORK) -> None:
        if self._running[kind]:
            await asyncio.wait(set(self._running[kind]), timeout=timeout)

    def spawn_request(self, coro) -> asyncio.Task:
        return self.spawn(coro, REQUEST)

    def spawn_service(self, coro, name: str) -> asyncio.Task:
        return self.spawn(coro, SERVICE, name)

    async def cancel_requests(self, timeout: float) -> None:
        await self.cancel(timeout, REQUEST)

    async def cancel_services(self, timeout: float) -> None:
        await self.cancel(timeout, SERVICE)

    async def cancel(self, timeout: float, kind: str = WORK) -> None:
        """Cancel what is still running, and wait (up to `timeout`) until it has ended."""
        late = set(self._running[kind])
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=timeout)
