"""The one place that talks to Redis (through the asyncio-redis library).

The store (server/store/redis.py) and the cluster (server/cluster/) import
:class:`Redis`, :class:`RedisError` and :class:`RedisUnavailable` from here and never
import ``asyncio_redis`` itself, so the client library can be swapped by rewriting this
file alone. Only a server started with --redis-url imports this module.

What they use is small, and so is this client: ``execute`` (any command), ``eval``
(Lua, where every multi-key write lives), ``publish``/``subscribe``/``unsubscribe``
(the bus between processes), ``connect`` and ``close``.

Conventions
-----------
* Arguments (keys, values, channels, payloads) may be ``bytes`` or ``str`` (encoded as
  UTF-8); ``int``/``float`` values are sent as their decimal text, as Redis itself
  stores numbers. ``bool`` is refused (``b"True"`` is never wanted).
* Replies are plain Python: ``bytes`` (never decoded, so binary payloads such as msgpack
  frames go through untouched), ``int``, ``None``, or (nested) lists of those.
* Every operation is bounded by ``timeout`` seconds. If Redis cannot be reached (down,
  restarting, frozen) it raises :class:`RedisUnavailable` promptly instead of hanging:
  at once while no connection is up, after ``timeout`` when the server stops answering,
  and for the replies of NOT_NOW_REPLIES (e.g. LOADING, for seconds after a restart).
  Error replies from the server (WRONGTYPE, a Lua error...) raise :class:`RedisError`
  carrying the server's message; the connection stays usable.
* The connections reconnect by themselves after an outage (retrying every
  ``max_retry_interval`` seconds at most), and the subscriber re-subscribes all its
  channels. Messages published while the subscriber was disconnected are lost: that is
  Redis pub/sub. The caller never needs to recreate the client.

Library quirks worked around here (asyncio-redis 0.16.0, unmaintained since 2020): see
:class:`_Protocol`, :meth:`Redis._adopt`, :meth:`Redis.eval`, :meth:`Redis.subscribe`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import unquote, urlsplit

import asyncio_redis
from asyncio_redis.encoders import BytesEncoder
from asyncio_redis.protocol import MultiBulkReply, _NoTransaction

from server.store import StoreError, StoreUnavailable

__all__ = ["Redis", "RedisError", "RedisUnavailable", "decoded"]

log = logging.getLogger(__name__)

Key = bytes | str
Value = bytes | str | int | float
Callback = Callable[[bytes, bytes], None]


def decoded(value: bytes | str | None) -> str | None:
    """A reply (bytes) as text; text and None come back as they are."""
    return value.decode() if isinstance(value, bytes) else value


class RedisError(StoreError):
    """Redis answered with an error (wrong type, Lua error, bad auth...)."""


class RedisUnavailable(RedisError, StoreUnavailable):
    """Redis cannot be reached now (down, restarting, silent): the client reconnects by
    itself and the same call can be retried later."""


# Error replies that mean "not now" (callers retry them as an outage, no traceback).
NOT_NOW_REPLIES = ("LOADING", "BUSY", "MASTERDOWN")


def _b(x: Value) -> bytes:
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return repr(x).encode("ascii")
    raise TypeError(f"cannot send {type(x).__name__} to Redis: {x!r}")


class _Protocol(asyncio_redis.RedisProtocol):
    """asyncio-redis's protocol with three bugs fixed.

    1. AUTH/SELECT. The library sends them from a task started in connection_made; on a
       subscriber connection that task fails after a reconnect ("Cannot run command
       inside pubsub subscription"), so the subscriber never re-subscribes; and on any
       connection a command may overtake AUTH. We write them synchronously as the very
       first commands on every (re)connection instead.
    2. A timed-out (cancelled) command whose reply turns out to be an error made the
       library call set_exception() on a cancelled future, which killed the reader task:
       the connection then hung forever. We drop such replies.
    3. Every command that raised (error reply, timeout) left an entry in
       _pipelined_calls forever: a leak that also slows every pool lookup. We remove it.
    """

    def __init__(self, *, handshake: list[list[bytes]], **kwargs):
        kwargs.update(password=None, db=0)  # handled by the handshake, see 1.
        super().__init__(**kwargs)
        self._handshake = handshake

    def connection_made(self, transport):
        super().connection_made(transport)
        for command in self._handshake:
            reply = asyncio.get_running_loop().create_future()
            reply.add_done_callback(_log_handshake_error)
            self._queue.append(reply)  # replies are matched to this queue in order
            self._send_command(command)

    def _push_answer(self, answer):
        if isinstance(answer, Exception) and self._queue and self._queue[0].cancelled():
            self._queue.popleft()
            return
        super()._push_answer(answer)

    async def _get_answer(self, transaction, answer_f, _bypass=False, call=None):
        try:
            return await super()._get_answer(transaction, answer_f, _bypass, call)
        except BaseException:  # (on success the library removes it itself)
            if call is not None:
                self._pipelined_calls.discard(call)
            raise


def _log_handshake_error(reply: asyncio.Future) -> None:
    if not reply.cancelled() and reply.exception() is not None:
        log.error("redis AUTH/SELECT failed: %s", reply.exception())


async def _unpack(reply: Any) -> Any:
    """A raw reply as plain Python: bytes, int, None, or (nested) lists of those."""
    if isinstance(reply, MultiBulkReply):
        items = await reply._read(decode=False, count=reply.count)
        return [await _unpack(item) for item in items]
    return reply


class Redis:
    """A pooled Redis client plus one dedicated pub/sub connection.

    Create it with ``await Redis.connect("redis://[:password@]host[:port][/db]")``,
    finish with ``await r.close()``.
    """

    def __init__(self) -> None:  # use Redis.connect()
        self._pool: asyncio_redis.Pool | None = None
        self._sub_conn: asyncio_redis.Connection | None = None
        self._sub = None  # the asyncio_redis.Subscription on _sub_conn
        self._handlers: dict[bytes, Callback] = {}  # channel -> callback
        self._protocols: list[_Protocol] = []
        self._tasks: set[asyncio.Task] = set()  # running reconnect loops
        self._reader: asyncio.Task | None = None
        self._closed = False

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    async def connect(
        cls,
        url: str = "redis://localhost:6379/0",
        *,
        poolsize: int = 4,
        timeout: float = 2.0,
        max_retry_interval: float = 1.0,
    ) -> "Redis":
        """Connect to ``redis://[[user]:password@]host[:port][/db]``.

        Raises RedisUnavailable if the server cannot be reached within ``timeout``
        and RedisError if it refuses us (bad password).
        """
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError(f"only redis:// URLs are supported, not {url!r}")
        db = int(parts.path.lstrip("/") or 0)
        handshake = []
        if parts.password is not None:
            auth = [b"AUTH", _b(unquote(parts.password))]
            if parts.username:  # Redis 6 ACL user
                auth.insert(1, _b(unquote(parts.username)))
            handshake.append(auth)
        if db:
            handshake.append([b"SELECT", _b(db)])

        self = cls()
        self._timeout = timeout
        self._max_retry_interval = max_retry_interval
        self._where = f"{parts.hostname or 'localhost'}:{parts.port or 6379}"

        def make_protocol(**kwargs):  # called by asyncio-redis for each connection
            protocol = _Protocol(handshake=handshake, **kwargs)
            self._protocols.append(protocol)
            return protocol

        where = dict(
            host=parts.hostname or "localhost",
            port=parts.port or 6379,
            encoder=BytesEncoder(),  # raw bytes in and out
            protocol_class=make_protocol,
            # The library's own reconnect loop would retry forever inside create(),
            # so that connect() to a dead server hangs; fail fast instead and switch
            # reconnection on afterwards (_adopt).
            auto_reconnect=False,
        )
        try:
            async with asyncio.timeout(timeout):
                self._pool = await asyncio_redis.Pool.create(poolsize=poolsize, **where)
                self._sub_conn = await asyncio_redis.Connection.create(**where)
                self._sub = await self._sub_conn.start_subscribe()
        except (OSError, TimeoutError) as e:
            self._abort()
            raise RedisUnavailable(f"cannot connect to redis at {self._where}: {e!r}") from e
        for conn in [*self._pool._connections, self._sub_conn]:
            self._adopt(conn)
        self._reader = asyncio.create_task(self._deliver(), name="redis-subscriber")
        try:
            await self.execute("PING")  # surfaces a wrong password / db as RedisError now
        except BaseException:
            await self.close()
            raise
        return self

    def _adopt(self, conn: asyncio_redis.Connection) -> None:
        """Turn on auto-reconnect for `conn`, with our own retry loop.

        The library's loop backs off up to 60 s between attempts (so a 1-minute outage
        could leave us offline for a minute more) and ignores close(): a client closed
        during an outage would reconnect later and leak. Ours retries at most every
        max_retry_interval, stops when the connection is closed, and is tracked so
        close() can cancel it. The library calls conn._reconnect() on connection loss.
        """

        async def reconnect() -> None:
            task = asyncio.current_task()
            self._tasks.add(task)
            try:
                delay = 0.05
                while not conn._closing:
                    try:
                        await conn._connect()
                    except OSError:
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, self._max_retry_interval)
                        continue
                    if conn._closing:  # closed while we were connecting
                        conn.close()
                    return
            finally:
                self._tasks.discard(task)

        conn._reconnect = reconnect
        conn._auto_reconnect = True

    def _abort(self) -> None:
        """Close every socket opened so far (a failed connect leaves no leftovers)."""
        for protocol in self._protocols:
            if protocol.transport is not None:
                protocol.transport.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        tasks = [*self._tasks, *([self._reader] if self._reader else [])]
        for task in tasks:
            task.cancel()
        if self._pool is not None:
            self._pool.close()
        if self._sub_conn is not None:
            self._sub_conn.close()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -------------------------------------------------------------- commands

    async def execute(self, *args: Value) -> Any:
        """Send any command, e.g. ``execute("HGET", key, field)``.

        asyncio-redis has no public raw-command API; this uses its protocol's
        internal _query on a free pool connection. Status replies come back as bytes
        (b"OK"), arrays as lists, nil as None.
        """
        if self._closed:
            raise RedisUnavailable("redis client is closed")
        encoded = [_b(a) for a in args]
        try:
            async with asyncio.timeout(self._timeout):
                conn = self._pool._get_free_connection()
                if conn is None:  # none of the pool's connections is up
                    raise asyncio_redis.NoAvailableConnectionsInPoolError()
                return await _unpack(await conn.protocol._query(_NoTransaction, *encoded))
        except asyncio_redis.NotConnectedError as e:  # also ConnectionLost, pool empty
            raise RedisUnavailable(f"redis at {self._where} is unreachable") from e
        except TimeoutError as e:
            raise RedisUnavailable(
                f"redis at {self._where} did not answer within {self._timeout} s") from e
        except asyncio_redis.ErrorReply as e:
            message = e.args[0] if e.args else "error reply"
            if message.startswith(NOT_NOW_REPLIES):
                raise RedisUnavailable(f"redis at {self._where}: {message}") from None
            raise RedisError(message) from None

    # -------------------------------------------------------------- Lua

    async def eval(self, script: str, keys: Iterable[Key] = (),
                   args: Iterable[Value] = ()) -> Any:
        """Run a Lua script atomically; returns bytes / int / None / nested lists.

        Uses EVALSHA (the SHA1 is computed locally, no round trip) and falls back to
        EVAL, which also caches the script, when the server answers NOSCRIPT (first
        use, or after a restart / SCRIPT FLUSH). Not the library's evalsha/Script:
        it turns every error, NOSCRIPT and Lua errors alike, into a message-less
        ScriptKilledError, and mangles nested array results.
        """
        keys, args = [_b(k) for k in keys], [_b(a) for a in args]
        sha = hashlib.sha1(script.encode("utf-8")).hexdigest()
        try:
            return await self.execute("EVALSHA", sha, len(keys), *keys, *args)
        except RedisError as e:
            if isinstance(e, RedisUnavailable) or not str(e).startswith("NOSCRIPT"):
                raise
        return await self.execute("EVAL", script, len(keys), *keys, *args)

    # -------------------------------------------------------------- pub/sub

    async def publish(self, channel: Key, payload: Value) -> int:
        """Returns how many subscribers (in all processes) received it."""
        return await self.execute("PUBLISH", channel, payload)

    async def subscribe(self, channels: Iterable[Key], callback: Callback) -> None:
        """Deliver messages on `channels` to ``callback(channel, payload)``.

        The callback runs in the subscriber task, in publication order; it must not
        block (schedule a task for slow work). Its exceptions are logged and
        swallowed. A channel has one callback: subscribing again replaces it.

        Returns once the server has registered the subscription, so a message
        published after this returns is delivered. If Redis is unreachable it raises
        RedisUnavailable, but the subscription stays registered and becomes active
        when the connection comes back (like every other subscription);
        unsubscribe() to drop it.
        """
        if self._closed:
            raise RedisUnavailable("redis client is closed")
        names = [_b(c) for c in channels]
        if not names:
            return
        for name in names:
            self._handlers[name] = callback
        protocol = self._sub_conn.protocol
        if not protocol.is_connected:
            # Record it where the library keeps what to re-subscribe on reconnect.
            protocol._pubsub_channels.update(names)
            raise RedisUnavailable(f"redis at {self._where} is unreachable")
        # asyncio-redis sends SUBSCRIBE without waiting for the server's confirmation
        # (it drops them). To know the subscription is live, we add a private "ack"
        # channel to the same command, which the server executes as a whole, and
        # publish to it until the server reports a receiver.
        ack = b"redis_adapter:ack:" + uuid.uuid4().hex.encode()
        await self._sub.subscribe(names + [ack])  # no await before this: still connected
        try:
            async with asyncio.timeout(self._timeout):
                while await self.publish(ack, b"") == 0:
                    await asyncio.sleep(0.005)
        except TimeoutError as e:
            raise RedisUnavailable(f"redis at {self._where} did not confirm "
                                   f"the subscription within {self._timeout} s") from e
        finally:
            await self.unsubscribe([ack])

    async def unsubscribe(self, channels: Iterable[Key]) -> None:
        """Stop delivering `channels`. Takes effect at once, never raises."""
        names = [_b(c) for c in channels]
        if not names or self._closed:  # (no names would mean "all" to Redis)
            return
        for name in names:
            self._handlers.pop(name, None)
        protocol = self._sub_conn.protocol
        if protocol.is_connected:
            await self._sub.unsubscribe(names)  # written at once; nothing to wait for
        else:
            protocol._pubsub_channels.difference_update(names)

    async def _deliver(self) -> None:
        """The subscriber task: hand each message to its callback.

        The library's Subscription (and its queue) survives reconnections, so this
        loop simply keeps reading across outages.
        """
        while True:
            message = await self._sub.next_published()
            callback = self._handlers.get(message.channel)
            if callback is None:  # an ack, or unsubscribed meanwhile
                continue
            try:
                callback(message.channel, message.value)
            except Exception:
                log.exception("pub/sub callback failed on channel %r", message.channel)
