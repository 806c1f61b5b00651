"""The dispatch table: a decoded request to its handler, and errors by who is at fault.

- `ProtocolError` (protocol/messages.py) is the client's mistake: an `error` with its
  code, and the connection lives on;
- `StoreUnavailable` (server/store) is nobody's mistake and passes: `unavailable`;
- anything else is our bug: logged with its traceback and answered `internal`.
"""

from __future__ import annotations

import logging
from typing import Callable

from protocol.messages import ProtocolError, parse, request_id
from protocol.codes import ErrorCode
from server.core.ratelimit import Quota
from server.net.handlers import (HandlerContext, accounts, analysis, competitions, identity,
                                 rooms, texts, trust)
from server.net.metrics import INVALID, Metrics
from server.store import StoreUnavailable

log = logging.getLogger("typerace")

HANDLERS = {**identity.HANDLERS, **accounts.HANDLERS, **rooms.HANDLERS, **texts.HANDLERS,
            **trust.HANDLERS, **competitions.HANDLERS, **analysis.HANDLERS}
FIRST = ("hello", "login")             # what a connection may say first
NEW_ROOM_REQUESTS = ("quick_race", "create_room", "practice", "start", "rematch")
ROOM_OPENERS = ("create_room", "practice")           # held to --room-rate per address


class Dispatcher:
    """`handlers`: what the handlers are handed; `typed`: the input path
    (server/net/inputs.py), which a JSON `input` takes; `flush`: delivers what the lobby
    emitted, after each request."""

    def __init__(self, handlers: HandlerContext, typed: Callable, metrics: Metrics,
                 room_quota: Quota, flush: Callable[[], None]):
        self.handlers = handlers
        self.typed = typed
        self.metrics = metrics
        self.room_quota = room_quota       # rooms opened per address (--room-rate)
        self.flush = flush

    async def dispatch(self, conn, message: dict) -> None:
        """Run one decoded request (from a local connection, or forwarded by the
        process a remote player is connected to) and deliver what it caused."""
        ctx, metrics = self.handlers, self.metrics
        delivery = ctx.delivery
        rid = None
        request = None
        try:
            rid = request_id(message)
            if conn.player_id is None and message.get("type") not in FIRST:
                # Whatever came first (even an unknown type), the fix is the same.
                raise ProtocolError(ErrorCode.NOT_HELLO, "say hello first")
            request = parse(message)
            if request.type == "input":
                self.typed(conn, message, request.args["keys"])
                return
            metrics.messages_in[request.type].inc()
            self._check_allowed(conn, request.type)
            if not await ctx.cluster.intercept(conn, request, message):
                await HANDLERS[request.type](ctx, conn, request)
        except ProtocolError as exc:
            if request is None:
                metrics.messages_in[INVALID].inc()
            delivery.send_error(conn, exc.code, exc.message, rid)
            if exc.close is not None and not conn.closing:
                conn.closing = True           # nothing more it sends is read
                conn.link.close(exc.close, exc.message)
        except StoreUnavailable:            # Redis away, a full disk, a lock: transient
            delivery.send_error(conn, ErrorCode.UNAVAILABLE, "the server can't reach its store "
                                "for a moment; try again shortly", rid)
        except Exception:
            log.exception("internal error handling a message")
            delivery.send_error(conn, ErrorCode.INTERNAL, "the server failed; this is our bug", rid)
        self.flush()

    def _check_allowed(self, conn, kind: str) -> None:
        ctx = self.handlers
        if ctx.lobby.draining and kind in NEW_ROOM_REQUESTS:
            raise ProtocolError(ErrorCode.SHUTTING_DOWN, "the server is shutting down; no new "
                                "races start here (reconnect later)")
        if kind in ROOM_OPENERS and conn.edge is None and not self.room_quota.take(
                conn.ip, ctx.clock.monotonic()):      # (a remote player's edge checked it)
            raise ProtocolError(ErrorCode.TOO_MANY_ROOMS, "too many rooms opened from your "
                                "address; wait a minute")
