"""Stepped time for integration tests that only wait for the clock.

A stepped server (`make_stepped_server`, tests/conftest.py) runs on a ManualClock with
no tick loop: its countdowns, lobby waits, time limits, grace periods and idle rooms
move only when the test calls `step`. `step` does what the tick loop would have done in
that time: at each tick boundary it passes it runs the ticker's whole interval
(`ticker.round()`: timers, every room's ticks, flush), then lets the event loop write
what they sent. Sockets, saving and keepalive stay real.

Requests are handled in the order a connection sent them, so a test that must be sure
the server has seen a message before time moves on sends it with `request` (or follows
it with `synced`) before stepping.
"""

from __future__ import annotations

import asyncio

from tests.helpers import holds


def tick_ms(server) -> int:
    return round(server.config.tick_interval * 1000)


async def step(server, ms: int | None = None) -> None:
    """Move a stepped server's clock on by `ms` (default: to the next tick), running
    the ticker at every tick boundary on the way, as the tick loop would."""
    clock, interval = server.clock, tick_ms(server)
    now = clock.now_ms()
    boundary = now - now % interval + interval
    end = boundary if ms is None else now + ms
    while boundary <= end:
        clock.advance(boundary - clock.now_ms())
        server.ticker.round()
        boundary += interval
    clock.advance(end - clock.now_ms())
    await asyncio.sleep(0)          # the loop writes and reads; saves get going


async def step_past(server, instant_ms: int) -> None:
    """Step to the first tick at or after `instant_ms`: when the tick loop notices a
    deadline (a countdown's start, a grace period's end)."""
    interval, now = tick_ms(server), server.clock.now_ms()
    at = max(instant_ms, now + 1)
    await step(server, -(-at // interval) * interval - now)


async def until_start(server, client) -> dict:
    """Wait for the countdown, step to its start, wait for `racing`; returns the
    countdown (it has the text)."""
    countdown = await client.expect("countdown")
    await step_past(server, countdown["start_server_ms"])
    await client.expect("room", where=lambda m: m["room"]["state"] == "racing")
    return countdown


async def synced(client) -> None:
    """Return once the server has handled everything this client sent before (a
    connection's messages are handled in order; `ping` is answered)."""
    await client.request({"type": "ping"})


async def step_until(server, check, within_ms: int, what: str = "condition"):
    """Step tick by tick, letting the server's saves finish between ticks, until
    `check()` (plain or async) holds; fail if `within_ms` of server time pass first."""
    deadline = server.clock.now_ms() + within_ms
    while True:
        if value := await holds(check):
            return value
        if server.clock.now_ms() >= deadline:
            raise AssertionError(f"{what} not reached within {within_ms} ms of server time")
        await step(server)
        await server.tasks.wait(timeout=10)
