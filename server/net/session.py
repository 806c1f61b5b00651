"""Sessions: one per WebSocket connection, from the handshake to the close.

A session admits a connection (limits, keepalive), reads its frames, holds each client
to its message rate (one rule, `admit`), and hands decoded messages to the dispatcher.
Typing is the hot path: a plain `input` is applied by ONE function, `typed`, whichever
way it arrived (a binary frame as it is read, a decoded frame, a JSON `input` through
the dispatcher, or relayed from another process).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed

from protocol.codec import DecodeError
from protocol.messages import ProtocolError, plain_input, request_id
from server.core.ratelimit import TokenBucket
from server.net.conn import Conn
from server.net.limits import ConnectionLimits, client_ip
from server.net.logs import event
from server.net.metrics import INVALID

log = logging.getLogger("typerace")

NO_HEADERS = Headers()   # what a connection's handshake keeps once it is open (never written)


class Sessions:
    def __init__(self, app):
        self.app = app

    # ---- admitting ------------------------------------------------------------

    def refusal(self, connection) -> str | None:
        """Checked before the handshake (an HTTP error instead of a WebSocket)."""
        refusal = self.app.limits.refusal(client_ip(connection))
        if refusal is not None:
            self._count_refusal(refusal)
        return refusal

    def _count_refusal(self, refusal: str) -> None:
        metrics = self.app.metrics
        per_ip = refusal == ConnectionLimits.PER_IP
        (metrics.refused_per_ip if per_ip else metrics.refused_total).inc()

    async def handler(self, ws: ServerConnection) -> None:
        app = self.app
        now = app.clock.monotonic()
        conn = Conn(ws, TokenBucket(app.config.msg_rate, app.config.msg_burst, now),
                    app.failed_joins.conn_bucket(now))
        # Counted here, where connections really open; process_request only pre-checks,
        # so concurrent handshakes that all passed it are still held to the limit.
        refusal = app.limits.open(conn.ip)
        if refusal is not None:
            self._count_refusal(refusal)
            await ws.close(1008, refusal)
            return
        event(log, "conn_open", ip=conn.ip, codec=conn.codec.name)
        app.keepalive.add(ws)
        # The handshake's headers (~3.5 KiB per connection, a fifth of a racer's memory)
        # are not needed once the codec and address are known: websockets reads them only
        # during the handshake. The request and response objects stay (websockets tells
        # a handshake from a frame by `request is None`); they share one empty Headers.
        ws.request.headers = ws.response.headers = NO_HEADERS
        if conn.codec.binary:
            ws.on_frame = functools.partial(self._input_now, conn)
        try:
            await self._read(conn)
        except ConnectionClosed:
            pass
        finally:
            app.keepalive.discard(ws)
            app.limits.close(conn.ip)
            self.unregister(conn)
            event(log, "conn_close", ip=conn.ip, player=conn.player_id,
                  code=ws.close_code, reason=ws.close_reason or None,
                  dropped=conn.dropped or None)

    def unregister(self, conn) -> None:
        app = self.app
        pid = conn.player_id
        if pid is not None and app.conns.get(pid) is conn:
            del app.conns[pid]
            app.lobby.disconnect(pid, app.clock.now_ms())
            app.flush()
            app.cluster.disconnected(conn)

    # ---- reading --------------------------------------------------------------

    async def _read(self, conn: Conn) -> None:
        app, ws = self.app, conn.ws
        try:
            async with asyncio.timeout(app.config.hello_timeout_s):
                while conn.player_id is None:
                    await self._receive(conn, await ws.recv())
        except TimeoutError:
            app.metrics.dropped_no_hello.inc()
            await ws.close(1008, "no hello in time")
            return
        async for frame in ws:
            if conn.dropped:
                return          # cut off as a slow consumer: frames still queued don't count
            await self._receive(conn, frame)

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

    def _input_now(self, conn: Conn, frame) -> bool:
        """A plain `input` from a player that said hello, handled as its binary frame is
        read. False (the frame then takes the usual way) for anything else."""
        if conn.player_id is None or conn.closing or self.app.conns.get(conn.player_id) is not conn:
            return False
        try:
            message = conn.codec.decode(frame)
        except DecodeError:
            return False
        keys = plain_input(message)
        if keys is None or not self.admit(conn):
            return False            # refused: _receive counts it and answers as usual
        self.typed(conn, message, keys)
        return True

    async def _receive(self, conn: Conn, frame) -> None:
        app = self.app
        if conn.player_id is not None and app.conns.get(conn.player_id) is not conn:
            return                  # replaced by a newer connection, which is closing this one
        if conn.closing:
            return
        if not self.admit(conn):
            self._refused(conn, frame)
            return
        try:
            message = conn.codec.decode(frame)
        except DecodeError as exc:
            app.metrics.messages_in[INVALID].inc()
            app.delivery.send_error(conn, "bad_message", str(exc), None)
            app.flush()
            return
        # Only msgpack here, whose strings are always valid UTF-8; JSON can carry lone
        # surrogates, which the dispatcher's parse() refuses.
        keys = plain_input(message) if conn.codec.binary else None
        if keys is not None and conn.player_id is not None:
            self.typed(conn, message, keys)
            return
        await app.dispatcher.dispatch(conn, message)

    def _refused(self, conn: Conn, frame) -> None:
        app = self.app
        conn.rejected += 1
        app.metrics.rate_limited.inc()
        if conn.rejected <= app.config.msg_burst:
            app.delivery.send_error(conn, "rate_limited", "slow down: too many messages",
                                    _request_id_of(conn.codec, frame))
            return
        # Not awaited here: the close handshake needs the read loop to go on reading
        # (and ignoring) what the flooder already queued.
        conn.closing = True
        app.metrics.dropped_flood.inc()
        event(log, "flood_closed", level=logging.WARNING, ip=conn.ip, player=conn.player_id)
        app.tasks.spawn(conn.ws.close(1008, "message flood"))

    # ---- typing ---------------------------------------------------------------

    def typed(self, conn, message: dict, keys: str, rid: int | None = None) -> None:
        """THE way an input is applied, however it arrived: counted, passed on to the
        process owning the player's room (a local player whose room is elsewhere), or
        applied here and timed; no Request, dispatch or coroutine."""
        app = self.app
        metrics = app.metrics
        metrics.messages_in["input"].inc()
        if conn.edge is None and app.cluster.forwards(conn):
            app.cluster.forward(conn, message)
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
