"""The input path, the hot path: THE way a typed input is applied, whichever way it
arrived (a binary frame as it is read, a JSON `input` through the dispatcher, or
relayed from another process), with no task and no await.

Sessions (server/net/session.py), the dispatcher and the cluster all call `typed`;
what it uses is handed in once, each a plain attribute (one lookup per use).
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from protocol.codes import ErrorCode
from protocol.messages import ProtocolError, request_id
from server.core.lobby import Lobby
from server.net.clock import Clock
from server.net.delivery import Delivery
from server.net.metrics import Metrics
from server.net.state import Live

log = logging.getLogger("typerace")


class Inputs:
    __slots__ = ("lobby", "clock", "flush", "live", "metrics", "delivery")

    def __init__(self, lobby: Lobby, clock: Clock, flush: Callable[[], None], live: Live,
                 metrics: Metrics, delivery: Delivery):
        self.lobby = lobby
        self.clock = clock
        self.flush = flush             # delivers what the lobby emitted (TyperaceServer.flush)
        self.live = live               # its cluster: where a player's room is elsewhere
        self.metrics = metrics
        self.delivery = delivery

    def typed(self, conn, message: dict | None, keys: str) -> None:
        """An input: counted, passed on to the process owning the player's room (a local
        player whose room is elsewhere), or applied here and timed; no Request, dispatch
        or coroutine. `message` is the input as decoded, or None when only its keys were
        read (a plain input); an error echoes its id (read only then: an applied input
        needs none)."""
        metrics = self.metrics
        metrics.messages_in["input"].inc()
        cluster = self.live.cluster
        if conn.edge is None and cluster.forwards(conn):
            cluster.forward(conn, message or {"type": "input", "keys": keys})
            return
        started = time.perf_counter()
        try:
            self.lobby.input(conn.player_id, keys, self.clock.now_ms())
        except ProtocolError as exc:
            self.delivery.send_error(conn, exc.code, exc.message, _id(message))
        except Exception:
            log.exception("internal error handling an input")
            self.delivery.send_error(conn, ErrorCode.INTERNAL,
                                     "the server failed; this is our bug", _id(message))
        metrics.input_seconds.observe(time.perf_counter() - started)
        self.flush()


def _id(message: dict | None) -> int | None:
    return None if message is None else request_id(message)
