"""Graceful shutdown in steps (SIGTERM; see server/__main__.py):

1. drain: no new races (quick_race, create_room, practice, start, rematch get
   `error` `shutting_down`, and no waiting quick room starts its countdown: the
   lobby's rule), every client gets a `shutdown` message, /healthz says
   503 so a load balancer sends newcomers elsewhere. Connections stay open, so a
   racer whose connection drops can still come back to its seat.
2. running races go on until they end or `drain_s` passes; then the ones still
   running are ended (racers still typing get dnf) and saved like any other race.
3. wait for every save (up to SAVE_WAIT_S), then close every connection with 1001 and
   the store. A save still failing then is given up and its race named in the log
   (`results_not_saved`, server/net/saving.py); the process then exits 3.

`force` (a second SIGTERM) skips the waiting: no race is cut and saved, but saves
already in flight finish, since the store is closed only after its queue ran.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from server.net.logs import event
from server.core.race import COUNTDOWN, RACING

log = logging.getLogger("typerace")

# What stops the server: SIGHUP too, which a closed terminal or SSH session sends.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SAVE_WAIT_S = 30.0      # an unresponsive store must not keep the process up forever
FORCED_CLOSE_S = 1.0    # after a second SIGTERM, peers get this long to answer the close


def running_races(server) -> int:
    return sum(1 for room in server.lobby.all_rooms()
               if room.race is not None and room.race.state in (COUNTDOWN, RACING))


async def _until(force: asyncio.Event, done, timeout: float) -> None:
    """Wait until done() or force or the timeout, checking every 50 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done() and not force.is_set() and loop.time() < deadline:
        try:
            await asyncio.wait_for(force.wait(), min(0.05, max(0.0, deadline - loop.time())))
        except TimeoutError:
            pass


async def drain_and_stop(server, drain_s: float, force: asyncio.Event) -> None:
    server.lobby.drain()               # no new race, not even a countdown of its own
    event(log, "shutdown_drain", drain_s=drain_s, races=running_races(server),
          connections=server.limits.total)
    notice = {"type": "shutdown", "drain_ms": int(drain_s * 1000),
              "message": "the server is shutting down: running races may finish, "
                         "no new ones start; reconnect later with your token"}
    for conn in list(server.conns.values()):
        server.send(conn, notice)

    await _until(force, lambda: running_races(server) == 0, drain_s)
    if not force.is_set():
        cut = 0
        now = server.clock.now_ms()
        for room in server.lobby.all_rooms():
            if room.race is not None and room.race.state == RACING:
                server.lobby.end_race(room, now)
                cut += 1
        server.flush()
        if cut:
            event(log, "shutdown_races_cut", races=cut)
        # Results reach clients only once saved: wait for the saves (and their results).
        await _until(force, lambda: not server.tasks, SAVE_WAIT_S)
    event(log, "shutdown_close", forced=force.is_set(), connections=server.limits.total)
    await server.stop(close_wait_s=FORCED_CLOSE_S if force.is_set() else None)
    lost = len(server.saver.lost)
    event(log, "shutdown_done", level=logging.ERROR if lost else logging.INFO,
          unsaved_races=lost)
