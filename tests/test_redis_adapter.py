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


# ------------------------------------------------------------------ plain commands

@pytest.mark.asyncio
async def test_strings_store_raw_bytes_and_accept_str(redis):
    assert await redis.set(b"blob", b"\x80\xff\x00bin") is True
    assert await redis.get(b"blob") == b"\x80\xff\x00bin"
    await redis.set("name", "héllo")
    assert await redis.get("name") == "héllo".encode()
    await redis.set("num", 3)
    assert await redis.get("num") == b"3"
    assert await redis.get("missing") is None


@pytest.mark.asyncio
async def test_set_nx_does_not_overwrite_and_px_sets_an_expiry(redis):
    assert await redis.set("owner", b"A", nx=True) is True
    assert await redis.set("owner", b"B", nx=True) is False
    assert await redis.get("owner") == b"A"
    assert await redis.set("lease", b"A", px=50_000) is True
    assert 0 < await redis.execute("PTTL", "lease") <= 50_000


@pytest.mark.asyncio
async def test_counters_expiry_and_delete(redis):
    assert await redis.incr("n") == 1
    assert await redis.incr("n", 5) == 6
    assert await redis.expire("n", 100) is True
    assert await redis.pexpire("n", 100_000) is True
    assert await redis.expire("missing", 100) is False
    assert await redis.delete("n", "missing") == 1
    assert await redis.delete() == 0
    assert await redis.get("n") is None


@pytest.mark.asyncio
async def test_hashes(redis):
    assert await redis.hset("player:1", {"name": "ada", b"races": 0}) == 2
    assert await redis.hset("player:1", {"name": "ada l."}) == 0  # updated, not new
    assert await redis.hincrby("player:1", "races") == 1
    assert await redis.hincrby("player:1", "races", 4) == 5
    assert await redis.hget("player:1", "name") == b"ada l."
    assert await redis.hgetall("player:1") == {b"name": b"ada l.", b"races": b"5"}
    assert await redis.hdel("player:1", "name", "nope") == 1
    assert await redis.hgetall("player:1") == {b"races": b"5"}
    assert await redis.hgetall("nobody") == {}


@pytest.mark.asyncio
async def test_sets(redis):
    assert await redis.sadd("rooms", "r1", b"r2", "r1") == 2
    assert await redis.srem("rooms", "r1", "zz") == 1
    assert await redis.smembers("rooms") == {b"r2"}
    assert await redis.smembers("none") == set()


@pytest.mark.asyncio
async def test_sorted_sets_rank_the_highest_score_first(redis):
    assert await redis.zadd("lb", {"ada": 80.5, "bob": 60, b"cy": 95}) == 3
    assert await redis.zadd("lb", {"ada": 10}, nx=True) == 0  # NX keeps 80.5
    assert await redis.zincrby("lb", "bob", 1) == 61.0
    assert await redis.zrevrange("lb") == [(b"cy", 95.0), (b"ada", 80.5), (b"bob", 61.0)]
    assert await redis.zrevrange("lb", 0, 0) == [(b"cy", 95.0)]
    assert await redis.zscore("lb", "ada") == 80.5
    assert await redis.zscore("lb", "nobody") is None
    assert await redis.zrem("lb", "cy", "nobody") == 1
    assert await redis.zrevrange("lb") == [(b"ada", 80.5), (b"bob", 61.0)]


@pytest.mark.asyncio
async def test_lists_keep_a_capped_recent_history(redis):
    for race in range(5):
        await redis.lpush("recent", f"race{race}")
        await redis.ltrim("recent", 0, 2)
    assert await redis.lrange("recent") == [b"race4", b"race3", b"race2"]
    assert await redis.rpush("recent", b"\x80", b"\xff") == 5
    assert await redis.lrange("recent", -2, -1) == [b"\x80", b"\xff"]


@pytest.mark.asyncio
async def test_an_error_reply_raises_redis_error_and_the_client_lives_on(redis):
    await redis.set("s", b"text")
    with pytest.raises(RedisError, match="WRONGTYPE") as info:
        await redis.hincrby("s", "f")
    assert not isinstance(info.value, RedisUnavailable)
    with pytest.raises(RedisError, match="not an integer"):
        await redis.incr("s")
    assert await redis.get("s") == b"text"


@pytest.mark.asyncio
async def test_failed_commands_leave_no_bookkeeping_behind(redis):
    # Regression test for an asyncio-redis leak (see _Protocol in the adapter).
    await redis.set("s", b"text")
    for _ in range(50):
        with pytest.raises(RedisError):
            await redis.incr("s")
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
    await redis.set("s", b"text")
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
    assert len(await redis.smembers("room:seats")) == 5


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
async def test_pattern_subscribers_get_the_actual_channel(redis):
    inbox = Inbox()
    await redis.psubscribe(["room:*"], inbox)
    assert await redis.publish("room:42", b"\x80") == 1
    await inbox.wait_for((b"room:42", b"\x80"))
    await redis.punsubscribe(["room:*"])
    await redis.subscribe(["marker"], inbox)
    await redis.publish("room:43", b"late")
    await redis.publish("marker", b"m")
    await inbox.wait_for((b"marker", b"m"))
    assert (b"room:43", b"late") not in inbox.messages


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
    await redis.subscribe(["room:1"], inbox)
    await redis.psubscribe(["lobby:*"], inbox)
    await redis.set("k", b"v")

    redis_server.stop()
    operations = [
        lambda: redis.get("k"),
        lambda: redis.set("k", b"w"),
        lambda: redis.hgetall("h"),
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
    assert not redis.connected
    # Subscribing during the outage fails now but takes effect once Redis is back.
    with pytest.raises(RedisUnavailable):
        await redis.subscribe(["room:2"], inbox)

    redis_server.start()  # same port, empty (no persistence)
    await eventually(redis.ping)
    assert await redis.get("k") is None
    assert await redis.set("k", b"again") is True
    assert await redis.eval("return redis.call('get', KEYS[1])", ["k"]) == b"again"

    # The subscriber reconnected and re-subscribed channels and patterns by itself.
    for channel in ["room:1", "room:2", "lobby:7"]:
        await eventually(lambda: redis.publish(channel, b"\x80back"))
        await inbox.wait_for((channel.encode(), b"\x80back"))

    async def connected():
        return redis.connected
    await eventually(connected)


@pytest.mark.asyncio
async def test_a_frozen_server_times_out_then_recovers(redis_server):
    # One connection, so the command that timed out and the next ones share it.
    redis = await Redis.connect(redis_server.url, timeout=0.5, poolsize=1)
    try:
        await redis.set("s", b"text")
        redis_server.freeze()
        started = time.monotonic()
        with pytest.raises(RedisUnavailable, match="did not answer"):
            await redis.hincrby("s", "f")  # its late reply will be an error
        with pytest.raises(RedisUnavailable):
            await redis.get("s")
        assert time.monotonic() - started < 3
        redis_server.thaw()
        # The late replies (one of them an error) are discarded; the pipe still works.
        assert await eventually(lambda: redis.get("s")) == b"text"
        assert await redis.incr("n") == 1
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
        await redis.get("k")
    await redis.close()
    with pytest.raises(RedisUnavailable):
        await redis.get("k")

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
        await eventually(lambda: db3.set("only-in-3", b"x"))
        assert await eventually(lambda: db0.ping())
        assert await db0.get("only-in-3") is None
        assert await db3.get("only-in-3") == b"x"
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
        assert await redis.set("k", b"v") is True
    finally:
        await redis.close()
