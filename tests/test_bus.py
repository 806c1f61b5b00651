"""The bus port: messages reach the addressed node only, in the order they were sent."""

from __future__ import annotations

import asyncio

from server.cluster.bus import LocalBus
from server.cluster.redis_bus import RedisBus
from server.store.redis_adapter import Redis
from tests.redis_fixture import redis_server  # noqa: F401


async def _exchange(a, b) -> list[bytes]:
    got_a, got_b = [], []
    done = asyncio.Event()

    def on_b(payload: bytes) -> None:
        got_b.append(payload)
        if len(got_b) == 100:
            done.set()

    await a.start("a", got_a.append)
    await b.start("b", on_b)
    for i in range(100):
        a.send("b", b"%d" % i)
    a.send("nobody", b"lost")          # no such node: dropped, nothing breaks
    await asyncio.wait_for(done.wait(), 10)
    assert got_a == []
    return got_b


async def test_the_local_bus_delivers_in_order_to_the_addressed_node():
    hub = {}
    a, b = LocalBus(hub), LocalBus(hub)
    assert await _exchange(a, b) == [b"%d" % i for i in range(100)]
    await b.close()
    a.send("b", b"after close")        # b is gone: nothing is delivered, nothing raises
    await asyncio.sleep(0)


async def test_the_redis_bus_delivers_in_order_to_the_addressed_node(redis_server):  # noqa: F811
    ra, rb = await Redis.connect(redis_server.url), await Redis.connect(redis_server.url)
    a, b = RedisBus(ra), RedisBus(rb)
    try:
        assert await _exchange(a, b) == [b"%d" % i for i in range(100)]
    finally:
        await a.close()
        await b.close()
        await ra.close()
        await rb.close()
