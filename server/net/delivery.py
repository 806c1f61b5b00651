"""Delivery: ready frames to many connections without awaiting any of them, and the
slow-consumer rule.

A message for a room is encoded once per codec in use and the same WebSocket frame
(header + payload, built once: transport.ready_frame) is written to each member's link:
per member a state check and one write, not a library's per-connection framing. These
writes have no backpressure, so the bound is ours: a connection holding more than
max_send_buffer unsent bytes is cut off.
"""

from __future__ import annotations

import contextlib
import logging

from protocol.codes import ErrorCode
from server.core.lobby import PLAYERS, SPECTATORS
from server.core.room import Room
from server.net.conn import Conn
from server.net.logs import ClientErrorLog, event
from server.net.transport import ready_frame

log = logging.getLogger("typerace")


class Delivery:
    def __init__(self, conns: dict, cluster, metrics, max_send_buffer: int):
        self.conns = conns                 # player_id -> its live connection
        self.cluster = cluster             # remote members' frames go to their process
        self.metrics = metrics
        self.max_send_buffer = max_send_buffer
        self.client_errors = ClientErrorLog(log)   # a line each for the first few only
        self.held: dict[int, list] = {}    # id(conn) -> frames waiting for holding() to end

    def send(self, conn: Conn, message: dict) -> None:
        self.deliver([conn], conn.codec, conn.codec.encode(message))

    def reply(self, conn: Conn, request, message: dict) -> None:
        if request is not None and request.id is not None:
            message["id"] = request.id
        self.send(conn, message)

    def send_error(self, conn: Conn, code: ErrorCode, message: str, rid: int | None) -> None:
        self.metrics.error(code).inc()
        # rate_limited errors come in floods; the counter tells their story.
        if code == ErrorCode.INTERNAL:
            event(log, "error", level=logging.ERROR, code=code, player=conn.player_id,
                  ip=conn.ip)
        elif code != ErrorCode.RATE_LIMITED:
            self.client_errors.error(conn, code)
        error = {"type": "error", "code": code, "message": message}
        if rid is not None:
            error["id"] = rid
        self.send(conn, error)

    @contextlib.contextmanager
    def holding(self, conn: Conn):
        """Frames for `conn` wait, in order, until the block ends. A handler that seats a
        player and must await (the cluster opens the room everywhere) sends `joined`
        in the block, before its await: the room's updates and countdown that the ticker
        or other players' requests publish meanwhile then follow `joined`, as the
        protocol says, and nothing of the room reaches the player before it is open."""
        if id(conn) in self.held:
            yield
            return
        held = self.held[id(conn)] = []
        try:
            yield
        finally:
            del self.held[id(conn)]
            for codec, frame in held:
                self.deliver([conn], codec, frame)

    def deliver(self, conns: list[Conn], codec, frame) -> None:
        """Write one ready frame to many connections without awaiting any of them."""
        if self.held:
            conns = self._not_held(conns, codec, frame)
        conns = self.cluster.relay(conns, codec, frame)
        limit = self.max_send_buffer
        wire = ready_frame(frame, codec.binary)
        sent = 0
        for conn in conns:
            if conn.dropped:
                continue
            link = conn.link
            if not link.open:
                continue
            if link.buffered() > limit:
                self.drop_slow(conn)
                continue
            link.write(wire)
            sent += 1
        self.metrics.messages_out.inc(sent)

    def _not_held(self, conns: list[Conn], codec, frame) -> list[Conn]:
        held = self.held
        free = []
        for conn in conns:
            waiting = held.get(id(conn))
            if waiting is None:
                free.append(conn)
            else:
                waiting.append((codec, frame))
        return free

    def drop_slow(self, conn: Conn) -> None:
        """A client that stopped reading: nothing more is queued for it, and the TCP
        connection is aborted (a close frame would wait behind the backlog). Its session
        then ends like any lost connection's, so its seat follows the reconnection rules."""
        conn.dropped = True
        self.metrics.dropped_slow.inc()
        event(log, "slow_consumer_dropped", level=logging.WARNING, player=conn.player_id,
              ip=conn.ip, buffered=conn.link.buffered())
        conn.link.abort()

    def publish(self, room: Room, audience: str, message: dict) -> None:
        """Encode once per codec in use, hand the same bytes to every member."""
        members = [conn for conn in map(self.conns.get, _audience(room, audience))
                   if conn is not None]
        codecs = {conn.codec for conn in members}      # nearly always one
        for codec in codecs:
            self.deliver(members if len(codecs) == 1 else
                         [conn for conn in members if conn.codec is codec],
                         codec, codec.encode(message))


def _audience(room: Room, audience: str) -> list[str]:
    ids = ([s.player_id for s in room.seats.values() if s.connected]
           if audience != SPECTATORS else [])
    if audience != PLAYERS and room.spectators:
        ids.extend(room.spectators)
    return ids
