"""Sessions: one per WebSocket connection, from the handshake to the close.

The transport (server/net/transport) calls `opened` when a handshake completed, then
the connection's Conn with each message as it is read, then `closed`. A session admits
a connection (limits, the time allowed for `hello`), holds each client to its message
rate (one rule, `admit`, applied as messages arrive, so a flood never queues), and
hands decoded messages to the dispatcher, in order: a request that awaits (the store,
another process) runs in a task, and what the connection sends meanwhile waits behind
it in `conn.queue`.
Typing is the hot path: a plain `input` is applied by ONE function, `typed`
(server/net/inputs.py), whichever way it arrived, with no task and no await.
A session is handed `SessionDeps`, what it uses, never the app: it can be built and
driven alone (tests/test_session_alone.py).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass
from typing import Callable

from protocol.codec import DecodeError
from protocol.messages import plain_input, request_id
from protocol.codes import CloseCode, ErrorCode
from server.core.joinguard import FailedJoins
from server.core.lobby import Lobby
from server.core.ratelimit import BACKLOG_S, TokenBucket
from server.net.clock import Clock
from server.net.conn import Conn
from server.net.delivery import Delivery
from server.net.limits import ConnectionLimits
from server.net.logs import event
from server.net.metrics import INVALID, Metrics
from server.net.state import Live
from server.net.tasks import Tasks
from server.net.transport import Link

log = logging.getLogger("typerace")

@dataclass(frozen=True, slots=True)
class SessionDeps:
    """What the sessions use, and nothing else (built once by server/net/app.py)."""
    msg_rate: float                # messages a second a connection may send (--msg-rate)
    msg_burst: int                 # and at once (--msg-burst)
    hello_timeout_s: float         # the time allowed for `hello` (--hello-timeout-s)
    clock: Clock
    lobby: Lobby
    flush: Callable[[], None]      # delivers what the lobby emitted (TyperaceServer.flush)
    conns: dict                    # player_id -> its live connection
    live: Live                     # its cluster hears of connections that close
    limits: ConnectionLimits
    failed_joins: FailedJoins      # each connection's bucket of unknown codes
    metrics: Metrics
    delivery: Delivery
    tasks: Tasks                   # a request that awaits runs in one of these
    typed: Callable                # the input path (server/net/inputs.py)
    dispatch: Callable             # a decoded request to its handler (dispatch.py)


class Sessions:
    def __init__(self, deps: SessionDeps):
        self.deps = deps
        # The hot path's, bound once: read per message.
        self.conns = deps.conns
        self.clock = deps.clock
        self.typed = deps.typed

    # ---- admitting ------------------------------------------------------------

    def refusal(self, ip: str) -> str | None:
        """Checked before the handshake (an HTTP error instead of a WebSocket)."""
        refusal = self.deps.limits.refusal(ip)
        if refusal is not None:
            self._count_refusal(refusal)
        return refusal

    def _count_refusal(self, refusal: str) -> None:
        metrics = self.deps.metrics
        per_ip = refusal == ConnectionLimits.PER_IP
        (metrics.refused_per_ip if per_ip else metrics.refused_total).inc()

    def opened(self, link: Link) -> Conn:
        deps = self.deps
        now = deps.clock.monotonic()
        conn = Conn(self, link, TokenBucket(deps.msg_rate, deps.msg_burst, now, BACKLOG_S),
                    deps.failed_joins.conn_bucket(now))
        # Counted here, where connections really open; the HTTP route only pre-checks,
        # so concurrent handshakes that all passed it are still held to the limit.
        refusal = deps.limits.open(conn.ip)
        if refusal is not None:
            self._count_refusal(refusal)
            conn.closing = True
            link.close(CloseCode.POLICY, refusal)
            return conn
        conn.counted = True
        event(log, "conn_open", ip=conn.ip, codec=conn.codec.name)
        conn.hello_timer = asyncio.get_running_loop().call_later(
            deps.hello_timeout_s, self._no_hello, conn)
        return conn

    def _no_hello(self, conn: Conn) -> None:
        conn.hello_timer = None
        if conn.player_id is None and not conn.closing:
            self.deps.metrics.dropped_no_hello.inc()
            conn.closing = True
            conn.link.close(CloseCode.POLICY, "no hello in time")

    def closed(self, conn: Conn) -> None:
        if conn.hello_timer is not None:
            conn.hello_timer.cancel()
            conn.hello_timer = None
        if not conn.counted:
            return                       # refused by the limits: never opened for the app
        self.deps.limits.close(conn.ip)
        self.unregister(conn)
        link = conn.link
        event(log, "conn_close", ip=conn.ip, player=conn.player_id, code=link.close_code,
              reason=link.close_reason or None, dropped=conn.dropped or None)

    def unregister(self, conn) -> None:
        deps = self.deps
        pid = conn.player_id
        if pid is not None and deps.conns.get(pid) is conn:
            del deps.conns[pid]
            deps.lobby.disconnect(pid, deps.clock.now_ms())
            deps.flush()
            deps.live.cluster.disconnected(conn)

    # ---- reading --------------------------------------------------------------

    def admit(self, conn: Conn) -> bool:
        """Take one message from the connection's rate budget. Only a client back within
        its rate long enough to refill the whole bucket is forgiven its refusals:
        resetting on any accepted message let a steady flood (a few refusals per
        refilled token) go on for ever without being closed."""
        bucket = conn.bucket
        if not bucket.take(self.clock.monotonic()):
            return False
        if bucket.tokens >= bucket.burst - 1:
            conn.rejected = 0
        return True

    def received(self, conn: Conn, payload) -> None:
        """One message from a local connection, as the transport reads it."""
        if conn.closing or conn.dropped:
            return          # closing, or cut off as a slow consumer: what it sends is ignored
        if conn.player_id is not None and self.conns.get(conn.player_id) is not conn:
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
            self.deps.tasks.spawn_request(self._run_queue(conn))

    def _handle_now(self, conn: Conn, payload) -> dict | None:
        """Decode a message and handle it if that needs no await (a bad frame, a plain
        input); otherwise return it, to be dispatched."""
        if conn.player_id is not None:
            keys = conn.codec.plain_input(payload)
            if keys is not None:
                self.typed(conn, None, keys)
                return None
        try:
            message = conn.codec.decode(payload)
        except DecodeError as exc:
            deps = self.deps
            deps.metrics.messages_in[INVALID].inc()
            deps.delivery.send_error(conn, ErrorCode.BAD_MESSAGE, str(exc), None)
            deps.flush()
            return None
        if conn.player_id is not None:
            keys = plain_input(message)
            if keys is not None:
                self.typed(conn, message, keys)
                return None
        return message

    async def _run_queue(self, conn: Conn) -> None:
        """Dispatch conn.queue's messages in order until it is empty."""
        conns, dispatch, queue = self.conns, self.deps.dispatch, conn.queue
        try:
            while queue:
                if conn.closing or conn.dropped or (
                        conn.player_id is not None and conns.get(conn.player_id) is not conn):
                    break
                item = queue[0]
                message = item if isinstance(item, dict) else self._handle_now(conn, item)
                if message is not None:
                    await dispatch(conn, message)
                queue.popleft()
        finally:
            conn.queue = None

    def _refused(self, conn: Conn, payload) -> None:
        deps = self.deps
        conn.rejected += 1
        deps.metrics.rate_limited.inc()
        if conn.rejected <= deps.msg_burst:
            deps.delivery.send_error(conn, ErrorCode.RATE_LIMITED,
                                     "slow down: too many messages",
                                     _request_id_of(conn.codec, payload))
            return
        conn.closing = True
        deps.metrics.dropped_flood.inc()
        event(log, "flood_closed", level=logging.WARNING, ip=conn.ip, player=conn.player_id)
        conn.link.close(CloseCode.POLICY, "message flood")


def _request_id_of(codec, frame) -> int | None:
    """The `id` of a refused frame, so a client waiting for that reply hears of it.
    Bounded work: at most a burst of refused frames is read before the close."""
    try:
        return request_id(codec.decode(frame))
    except DecodeError:
        return None
