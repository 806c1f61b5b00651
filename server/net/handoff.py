"""The hand-off of accepted connections from the `--workers` supervisor to a worker.

The supervisor accepts every connection on the port and reads (without taking) its
request line, to send it to the worker that owns the room it names (server/net/router.py).
It passes the socket itself over a Unix socket pair, one per worker, made before the
worker starts (SOCK_SEQPACKET: one message, one byte with one descriptor in SCM_RIGHTS,
so a message never splits and its descriptor never strays). The worker adopts it as if
its own listener had accepted it: no byte of the request has been read, so the
transport answers it as any other, WebSocket handshake included.
"""

from __future__ import annotations

import asyncio
import logging
import socket

log = logging.getLogger("typerace.handoff")

MARK = b"c"             # each message's one byte (the descriptor rides beside it)
BATCH = 64              # connections adopted per wake-up at most, so a burst yields the loop


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """(the supervisor's end, the worker's end) of a new hand-off channel."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def hand(channel: socket.socket, conn: socket.socket) -> None:
    """Pass `conn` to the worker at the other end of `channel` (OSError: it can't take
    it: gone, or its queue is full). The caller closes its own copy of `conn` after."""
    socket.send_fds(channel, [MARK], [conn.fileno()])


class Receiver:
    """A worker's end of the channel: every connection handed over goes to `adopt`
    (the transport's, a socket accepted but not read) from a reader callback."""

    def __init__(self, fd: int, adopt):
        self.channel = socket.socket(fileno=fd)
        self.channel.setblocking(False)
        self.adopt = adopt
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(self.channel.fileno(), self._read)

    def _read(self) -> None:
        for _ in range(BATCH):
            try:
                # CLOEXEC: a connection is never inherited by a process this one starts.
                message, fds, _, _ = socket.recv_fds(self.channel, len(MARK), 1,
                                                     socket.MSG_CMSG_CLOEXEC)
            except (BlockingIOError, InterruptedError):
                return
            if not message and not fds:         # the supervisor is gone: nothing more comes
                self.close()
                return
            for fd in fds:
                self.adopt(socket.socket(fileno=fd))

    def close(self) -> None:
        """Take no more connections (the supervisor then hands them to another worker)."""
        if self.channel.fileno() >= 0:
            self.loop.remove_reader(self.channel.fileno())
            self.channel.close()
