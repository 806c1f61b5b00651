"""The Redis adapter against a private redis-server (see tests/redis_fixture.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_asyncio

from server.store.redis_adapter import Redis, RedisError, RedisUnavailable
from tests.redis_fixture import RedisServer, redis_server, require_redis_server  # noqa: F401

WAIT = 10.0  # generous bound for anything we poll for


async def eventually(check, timeout: float = WAIT):
    """Poll `check()` (async) until it returns something truthy; return that.

    RedisUnavailable counts as "not yet": used to wait for a reconnection.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await check()
            if result:
                return result
        except RedisUnavailable:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        await asyncio.sleep(0.02)


class Inbox:
    """A pub/sub callback that records (channel, payload) pairs."""

    def __init__(self):
        self.messages: list[tuple[bytes, bytes]] = []

    def __call__(self, channel: bytes, payload: bytes) -> None:
        self.messages.append((channel, payload))

    async def wait_for(self, message: tuple[bytes, bytes]) -> None:
        async def arrived():
            return message in self.messages
        await eventually(arrived)


@pytest_asyncio.fixture
async def redis(redis_server):
    client = await Redis.connect(redis_server.url, timeout=1.0)
    yield client
    await client.close()


# ------------------------------------------------------------------ commands

@pytest.mark.asyncio
async def test_commands_take_bytes_str_and_numbers_and_answer_raw_bytes(redis):
    assert await redis.execute("SET", b"blob", b"\x80\xff\x00bin") == b"OK"
    assert await redis.execute("GET", b"blob") == b"\x80\xff\x00bin"
    await redis.execute("SET", "name", "héllo")
    assert await redis.execute("GET", "name") == "héllo".encode()
    await redis.execute("SET", "num", 3)
    assert await redis.execute("GET", "num") == b"3"
    assert await redis.execute("GET", "missing") is None
    assert await redis.execute("HSET", "h", "a", 1, "b", 2.5) == 2
    assert await redis.execute("HGETALL", "h") == [b"a", b"1", b"b", b"2.5"]
    with pytest.raises(TypeError):
        await redis.execute("SET", "flag", True)      # never b"True"


@pytest.mark.asyncio
async def test_an_error_reply_raises_redis_error_and_the_client_lives_on(redis):
    await redis.execute("SET", "s", b"text")
    with pytest.raises(RedisError, match="WRONGTYPE") as info:
        await redis.execute("HINCRBY", "s", "f", 1)
    assert not isinstance(info.value, RedisUnavailable)
    with pytest.raises(RedisError, match="not an integer"):
        await redis.execute("INCR", "s")
    assert await redis.execute("GET", "s") == b"text"


@pytest.mark.asyncio
async def test_failed_commands_leave_no_bookkeeping_behind(redis):
    # Regression test for an asyncio-redis leak (see _Protocol in the adapter).
    await redis.execute("SET", "s", b"text")
    for _ in range(50):
        with pytest.raises(RedisError):
            await redis.execute("INCR", "s")
    assert sum(len(p._pipelined_calls) for p in redis._protocols) == 0


# ------------------------------------------------------------------ Lua

@pytest.mark.asyncio
async def test_eval_returns_plain_python_values(redis):
    script = "return {KEYS[1], ARGV[1], 7, false, {'a', ARGV[2]}}"
    result = await redis.eval(script, keys=["k"], args=[b"\x80\xff", "b"])
    assert result == [b"k", b"\x80\xff", 7, None, [b"a", b"b"]]
    assert await redis.eval("return ARGV[1]", args=[b"x"]) == b"x"
    assert await redis.eval("return nil") is None


@pytest.mark.asyncio
async def test_eval_reloads_the_script_after_the_cache_is_flushed(redis):
    script = "return redis.call('incr', KEYS[1])"
    assert await redis.eval(script, ["hits"]) == 1
    assert await redis.execute("SCRIPT", "FLUSH") == b"OK"
    assert await redis.eval(script, ["hits"]) == 2


@pytest.mark.asyncio
async def test_a_lua_error_carries_the_server_message(redis):
    await redis.execute("SET", "s", b"text")
    with pytest.raises(RedisError, match="not an integer"):
        await redis.eval("return redis.call('incr', KEYS[1])", ["s"])


CLAIM_SEAT = """
if redis.call('scard', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
return redis.call('sadd', KEYS[1], ARGV[1])
"""


@pytest.mark.asyncio
async def test_a_lua_seat_claim_is_atomic_under_concurrency(redis):
    claims = [redis.eval(CLAIM_SEAT, ["room:seats"], [f"p{i}", 5]) for i in range(30)]
    results = await asyncio.gather(*claims)
    assert sorted(results) == [0] * 25 + [1] * 5
    assert await redis.execute("SCARD", "room:seats") == 5


# ------------------------------------------------------------------ pub/sub

@pytest.mark.asyncio
async def test_subscribers_receive_binary_payloads_with_their_channel(redis):
    inbox = Inbox()
    await redis.subscribe([b"room:1", "room:2"], inbox)
    # subscribe() returned, so the subscription is live: the publish must count it.
    assert await redis.publish("room:1", b"\x80\xff") == 1
    assert await redis.publish(b"room:2", b"\x00\x01msgpack\xc1") == 1
    await inbox.wait_for((b"room:2", b"\x00\x01msgpack\xc1"))
    assert inbox.messages == [(b"room:1", b"\x80\xff"), (b"room:2", b"\x00\x01msgpack\xc1")]


@pytest.mark.asyncio
async def test_messages_arrive_in_publication_order(redis):
    inbox = Inbox()
    await redis.subscribe(["ticks"], inbox)
    for i in range(300):
        await redis.publish("ticks", i.to_bytes(2, "big"))
    await inbox.wait_for((b"ticks", (299).to_bytes(2, "big")))
    assert [p for _, p in inbox.messages] == [i.to_bytes(2, "big") for i in range(300)]


@pytest.mark.asyncio
async def test_a_second_client_sees_published_messages(redis, redis_server):
    other = await Redis.connect(redis_server.url)
    try:
        inbox = Inbox()
        await other.subscribe(["room:9"], inbox)
        assert await redis.publish("room:9", b"\xfe") == 1
        await inbox.wait_for((b"room:9", b"\xfe"))
    finally:
        await other.close()


@pytest.mark.asyncio
async def test_unsubscribe_stops_delivery(redis):
    inbox = Inbox()
    await redis.subscribe(["a", "b"], inbox)
    await redis.unsubscribe(["a"])
    await redis.publish("a", b"not for you")
    await redis.publish("b", b"marker")  # same connection, so it arrives after "a"
    await inbox.wait_for((b"b", b"marker"))
    assert (b"a", b"not for you") not in inbox.messages
    await redis.unsubscribe([])  # no-op (must not unsubscribe everything)
    assert await redis.publish("b", b"still here") == 1


@pytest.mark.asyncio
async def test_a_failing_callback_does_not_stop_delivery(redis):
    def broken(channel, payload):
        raise RuntimeError("bug in a handler")

    inbox = Inbox()
    await redis.subscribe(["bad"], broken)
    await redis.subscribe(["good"], inbox)
    await redis.publish("bad", b"boom")
    await redis.publish("good", b"ok")
    await inbox.wait_for((b"good", b"ok"))


# ------------------------------------------------------------------ failures

@pytest.mark.asyncio
async def test_outage_raises_unavailable_then_the_same_client_recovers(redis, redis_server):
    inbox = Inbox()
    await redis.subscribe(["room:1", "room:3"], inbox)
    await redis.unsubscribe(["room:3"])
    await redis.execute("SET", "k", b"v")

    redis_server.stop()
    operations = [
        lambda: redis.execute("GET", "k"),
        lambda: redis.execute("HGET", "h", "f"),
        lambda: redis.eval("return 1"),
        lambda: redis.execute("PING"),
        lambda: redis.publish("room:1", b"lost"),
    ]
    for operation in operations:
        started = time.monotonic()
        with pytest.raises(RedisUnavailable):
            async with asyncio.timeout(5):
                await operation()
        assert time.monotonic() - started < 3
    # Subscribing during the outage fails now but takes effect once Redis is back.
    with pytest.raises(RedisUnavailable):
        await redis.subscribe(["room:2"], inbox)

    redis_server.start()  # same port, empty (no persistence)
    await eventually(lambda: redis.execute("PING"))
    assert await redis.execute("GET", "k") is None
    assert await redis.execute("SET", "k", b"again") == b"OK"
    assert await redis.eval("return redis.call('get', KEYS[1])", ["k"]) == b"again"

    # The subscriber reconnected and re-subscribed its channels by itself (and not the
    # one it had left).
    for channel in ["room:1", "room:2"]:
        await eventually(lambda: redis.publish(channel, b"\x80back"))
        await inbox.wait_for((channel.encode(), b"\x80back"))
    assert await redis.publish("room:3", b"gone") == 0


@pytest.mark.asyncio
async def test_a_frozen_server_times_out_then_recovers(redis_server):
    # One connection, so the command that timed out and the next ones share it.
    redis = await Redis.connect(redis_server.url, timeout=0.5, poolsize=1)
    try:
        await redis.execute("SET", "s", b"text")
        redis_server.freeze()
        started = time.monotonic()
        with pytest.raises(RedisUnavailable, match="did not answer"):
            await redis.execute("HINCRBY", "s", "f", 1)  # its late reply will be an error
        with pytest.raises(RedisUnavailable):
            await redis.execute("GET", "s")
        assert time.monotonic() - started < 3
        redis_server.thaw()
        # The late replies (one of them an error) are discarded; the pipe still works.
        assert await eventually(lambda: redis.execute("GET", "s")) == b"text"
        assert await redis.execute("INCR", "n") == 1
    finally:
        redis_server.thaw()
        await redis.close()


@pytest.mark.asyncio
async def test_connect_fails_fast_when_redis_is_down(redis_server):
    redis_server.stop()
    started = time.monotonic()
    with pytest.raises(RedisUnavailable, match="cannot connect"):
        await Redis.connect(redis_server.url, timeout=2.0)
    assert time.monotonic() - started < 3


@pytest.mark.asyncio
async def test_only_redis_urls_are_accepted():
    with pytest.raises(ValueError):
        await Redis.connect("http://localhost:6379")


@pytest.mark.asyncio
async def test_close_during_an_outage_stops_reconnecting(redis, redis_server):
    redis_server.stop()
    with pytest.raises(RedisUnavailable):
        await redis.execute("GET", "k")
    await redis.close()
    with pytest.raises(RedisUnavailable):
        await redis.execute("GET", "k")

    async def only_this_task_left():
        return asyncio.all_tasks() == {asyncio.current_task()}
    await eventually(only_this_task_left)


@pytest.mark.asyncio
async def test_the_selected_db_is_kept_across_reconnects(redis_server):
    base = redis_server.url.rsplit("/", 1)[0]
    db3 = await Redis.connect(base + "/3")
    db0 = await Redis.connect(base + "/0")
    try:
        redis_server.restart()
        await eventually(lambda: db3.execute("SET", "only-in-3", b"x"))
        assert await eventually(lambda: db0.execute("PING"))
        assert await db0.execute("GET", "only-in-3") is None
        assert await db3.execute("GET", "only-in-3") == b"x"
    finally:
        await db3.close()
        await db0.close()


@pytest.fixture
def secured_server():
    require_redis_server()
    server = RedisServer(password="s3 cret")
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.mark.asyncio
async def test_a_password_protected_server_works_across_restarts(secured_server):
    url = secured_server.url
    assert "s3%20cret" in url  # URL-encoded
    with pytest.raises(RedisError, match="NOAUTH|WRONGPASS|invalid"):
        await Redis.connect(url.replace("s3%20cret", "wrong"))
    redis = await Redis.connect(url)
    try:
        inbox = Inbox()
        await redis.subscribe(["room:1"], inbox)
        secured_server.restart()
        # The library alone never re-subscribes here (its AUTH fails in pub/sub mode).
        await eventually(lambda: redis.publish("room:1", b"hi"))
        await inbox.wait_for((b"room:1", b"hi"))
        assert await redis.execute("SET", "k", b"v") == b"OK"
    finally:
        await redis.close()


@pytest.mark.asyncio
async def test_a_redis_still_loading_its_data_after_a_restart_is_unavailable_not_an_error(
        redis_server):
    """After a restart Redis answers LOADING until its data is read back (seconds with a
    large append-only file): a caller must see the outage it is (a save retried without
    a traceback), not an error reply about its request."""
    redis = await Redis.connect(redis_server.url, timeout=2)
    try:
        await redis.eval("for i = 1, 20000 do redis.call('set', 'k' .. i, 'v') end")
        await redis.execute("SAVE")                    # loaded back at the next start
        redis_server.restart(load_delay_us=200)        # 20,000 keys × 200 µs: ~4 s
        deadline = time.monotonic() + WAIT
        while True:
            assert time.monotonic() < deadline, "never saw Redis loading"
            try:
                await redis.execute("GET", "k1")
            except RedisUnavailable as e:
                if "LOADING" in str(e):
                    break
            await asyncio.sleep(0.01)                  # polling the reconnection
        assert await eventually(lambda: redis.execute("GET", "k20000")) == b"v"
    finally:
        await redis.close()
