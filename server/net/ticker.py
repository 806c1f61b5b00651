"""The tick loop: one per process, not one task per room.

Timers (countdowns, time limits, idle rooms) run once per interval; ticks are spread
over it: each wake-up ticks one phase's rooms (TICK_PHASES slices), so a tick is written
a moment after it is stamped instead of behind every other room's frames (2,000 racers:
400 rooms, one burst of 2,000 writes every 100 ms before).

Each room moves on its own: a room whose timers or tick raise (a bug) is logged with
its traceback once, closed (`Lobby.abort`: its members get `left` with reason
`error`), and every other room goes on ticking in the same pass.
"""

from __future__ import annotations

import asyncio
import logging
import time

from server.core.lobby import Lobby

log = logging.getLogger("typerace")

TICK_PHASES = 4              # wake-ups per tick interval, each ticking a quarter of the rooms


class Ticker:
    def __init__(self, lobby: Lobby, clock, flush, metrics, interval_s: float):
        self.lobby = lobby
        self.clock = clock
        self.flush = flush
        self.metrics = metrics
        self.interval_s = interval_s
        self.phase = 0

    def step(self) -> None:
        """One wake-up: timers at the first phase, then this phase's rooms' ticks."""
        started = time.perf_counter()
        try:
            now = self.clock.now_ms()
            if self.phase == 0:
                self.lobby.advance(now, self._failed)
            self.lobby.ticks(now, self.phase, TICK_PHASES, self._failed)
            self.flush()
        except Exception:
            log.exception("tick failed")
        self.phase = (self.phase + 1) % TICK_PHASES
        self.metrics.tick_seconds.observe(time.perf_counter() - started)

    def _failed(self, room) -> None:
        """One room's bug (called inside the core's `except`): logged once with its
        traceback; the room is closed, and the pass goes on with the other rooms."""
        log.exception("room %s failed in the tick loop; closing it", room.room_id)
        try:
            self.lobby.abort(room)
        except Exception:
            log.exception("room %s could not be closed; dropping it", room.room_id)
            self.lobby.rooms.pop(room.room_id, None)

    def round(self) -> None:
        """A whole interval at once (every phase): what a test steps after moving a
        manual clock."""
        for _ in range(TICK_PHASES):
            self.step()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        step = self.interval_s / TICK_PHASES
        deadline = loop.time()
        while True:
            deadline += step
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            if loop.time() - deadline > self.interval_s:
                deadline = loop.time()       # we fell behind: don't burst to catch up
            self.step()
