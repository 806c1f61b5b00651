"""Sessions: one per WebSocket connection, from the handshake to the close.

The transport (server/net/transport) calls `opened` when a handshake completed, then
the connection's Conn with each message as it is read, then `closed`. A session admits
a connection (limits, the time allowed for `hello`), holds each client to its message
rate (one rule, `admit`, applied as messages arrive, so a flood never queues), and
hands decoded messages to the dispatcher, in order: a request that awaits (the store,
another process) runs in a task, and what the connection sends meanwhile waits behind
it in `conn.queue`.
Typing is the hot path: a plain `input` is applied by ONE function, `typed`, whichever
way it arrived (a binary frame as it is read, a JSON `input` through the dispatcher,
or relayed from another process), with no task and no await.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time

from protocol.codec import DecodeError
from protocol.messages import ProtocolError, plain_input, request_id
from server.core.ratelimit import BACKLOG_S, TokenBucket
from server.net.conn import Conn
from server.net.limits import ConnectionLimits
from server.net.logs import event
from server.net.metrics import INVALID
from server.net.transport import CLOSE_POLICY, Link

log = logging.getLogger("typerace")

class Sessions:
    def __init__(self, app):
        self.app = app
        self._requests: set[asyncio.Task] = set()    # connections' requests that await

    # ---- admitting ------------------------------------------------------------

    def refusal(self, ip: str) -> str | None:
        """Checked before the handshake (an HTTP error instead of a WebSocket)."""
        refusal = self.app.limits.refusal(ip)
        if refusal is not None:
            self._count_refusal(refusal)
        return refusal

    def _count_refusal(self, refusal: str) -> None:
        metrics = self.app.metrics
        per_ip = refusal == ConnectionLimits.PER_IP
        (metrics.refused_per_ip if per_ip else metrics.refused_total).inc()

    def opened(self, link: Link) -> Conn:
        app = self.app
        now = app.clock.monotonic()
        conn = Conn(self, link, TokenBucket(app.config.msg_rate, app.config.msg_burst, now,
                                            BACKLOG_S),
                    app.failed_joins.conn_bucket(now))
        # Counted here, where connections really open; the HTTP route only pre-checks,
        # so concurrent handshakes that all passed it are still held to the limit.
        refusal = app.limits.open(conn.ip)
        if refusal is not None:
            self._count_refusal(refusal)
            conn.closing = True
            link.close(CLOSE_POLICY, refusal)
            return conn
        conn.counted = True
        event(log, "conn_open", ip=conn.ip, codec=conn.codec.name)
        conn.hello_timer = asyncio.get_running_loop().call_later(
            app.config.hello_timeout_s, self._no_hello, conn)
        return conn

    def _no_hello(self, conn: Conn) -> None:
        conn.hello_timer = None
        if conn.player_id is None and not conn.closing:
            self.app.metrics.dropped_no_hello.inc()
            conn.closing = True
            conn.link.close(CLOSE_POLICY, "no hello in time")

    def closed(self, conn: Conn) -> None:
        if conn.hello_timer is not None:
            conn.hello_timer.cancel()
            conn.hello_timer = None
        if not conn.counted:
            return                       # refused by the limits: never opened for the app
        self.app.limits.close(conn.ip)
        self.unregister(conn)
        link = conn.link
        event(log, "conn_close", ip=conn.ip, player=conn.player_id, code=link.close_code,
              reason=link.close_reason or None, dropped=conn.dropped or None)

    def unregister(self, conn) -> None:
        app = self.app
        pid = conn.player_id
        if pid is not None and app.conns.get(pid) is conn:
            del app.conns[pid]
            app.lobby.disconnect(pid, app.clock.now_ms())
            app.flush()
            app.cluster.disconnected(conn)

    def cancel_requests(self) -> None:
        """At shutdown, once every connection is closed: what they asked is moot."""
        for task in list(self._requests):
            task.cancel()

    # ---- reading --------------------------------------------------------------

    def admit(self, conn: Conn) -> bool:
        """Take one message from the connection's rate budget. Only a client back within
        its rate long enough to refill the whole bucket is forgiven its refusals:
        resetting on any accepted message let a steady flood (a few refusals per
        refilled token) go on for ever without being closed."""
        bucket = conn.bucket
        if not bucket.take(self.app.clock.monotonic()):
            return False
        if bucket.tokens >= bucket.burst - 1:
            conn.rejected = 0
        return True

    def received(self, conn: Conn, payload) -> None:
        """One message from a local connection, as the transport reads it."""
        if conn.closing or conn.dropped:
            return          # closing, or cut off as a slow consumer: what it sends is ignored
        if conn.player_id is not None and self.app.conns.get(conn.player_id) is not conn:
            return          # replaced by a newer connection, which is closing this one
        if not self.admit(conn):
            self._refused(conn, payload)
            return
        if conn.queue is not None:
            conn.queue.append(payload)           # behind a request that awaits
            return
        message = self._handle_now(conn, payload)
        if message is not None:
            conn.queue = collections.deque((message,))
            task = asyncio.create_task(self._run_queue(conn))
            self._requests.add(task)
            task.add_done_callback(self._requests.discard)

    def _handle_now(self, conn: Conn, payload) -> dict | None:
        """Decode a message and handle it if that needs no await (a bad frame, a plain
        input); otherwise return it, to be dispatched."""
        app = self.app
        if conn.player_id is not None:
            keys = conn.codec.plain_input(payload)
            if keys is not None:
                self.typed(conn, None, keys)
                return None
        try:
            message = conn.codec.decode(payload)
        except DecodeError as exc:
            app.metrics.messages_in[INVALID].inc()
            app.delivery.send_error(conn, "bad_message", str(exc), None)
            app.flush()
            return None
        # Only msgpack here, whose strings are always valid UTF-8; JSON can carry lone
        # surrogates, which the dispatcher's parse() refuses.
        if conn.codec.binary and conn.player_id is not None:
            keys = plain_input(message)
            if keys is not None:
                self.typed(conn, message, keys)
                return None
        return message

    async def _run_queue(self, conn: Conn) -> None:
        """Dispatch conn.queue's messages in order until it is empty."""
        app, queue = self.app, conn.queue
        try:
            while queue:
                if conn.closing or conn.dropped or (
                        conn.player_id is not None and app.conns.get(conn.player_id) is not conn):
                    break
                item = queue[0]
                message = item if isinstance(item, dict) else self._handle_now(conn, item)
                if message is not None:
                    await app.dispatcher.dispatch(conn, message)
                queue.popleft()
        finally:
            conn.queue = None

    def _refused(self, conn: Conn, payload) -> None:
        app = self.app
        conn.rejected += 1
        app.metrics.rate_limited.inc()
        if conn.rejected <= app.config.msg_burst:
            app.delivery.send_error(conn, "rate_limited", "slow down: too many messages",
                                    _request_id_of(conn.codec, payload))
            return
        conn.closing = True
        app.metrics.dropped_flood.inc()
        event(log, "flood_closed", level=logging.WARNING, ip=conn.ip, player=conn.player_id)
        conn.link.close(CLOSE_POLICY, "message flood")

    # ---- typing ---------------------------------------------------------------

    def typed(self, conn, message: dict | None, keys: str, rid: int | None = None) -> None:
        """THE way an input is applied, however it arrived: counted, passed on to the
        process owning the player's room (a local player whose room is elsewhere), or
        applied here and timed; no Request, dispatch or coroutine. `message` is the
        input as decoded, or None when only its keys were read (a plain input)."""
        app = self.app
        metrics = app.metrics
        metrics.messages_in["input"].inc()
        if conn.edge is None and app.cluster.forwards(conn):
            app.cluster.forward(conn, message or {"type": "input", "keys": keys})
            return
        started = time.perf_counter()
        try:
            app.lobby.input(conn.player_id, keys, app.clock.now_ms())
        except ProtocolError as exc:
            app.delivery.send_error(conn, exc.code, exc.message, rid)
        except Exception:
            log.exception("internal error handling an input")
            app.delivery.send_error(conn, "internal", "the server failed; this is our bug", rid)
        metrics.input_seconds.observe(time.perf_counter() - started)
        app.flush()


def _request_id_of(codec, frame) -> int | None:
    """The `id` of a refused frame, so a client waiting for that reply hears of it.
    Bounded work: at most a burst of refused frames is read before the close."""
    try:
        return request_id(codec.decode(frame))
    except DecodeError:
        return None
