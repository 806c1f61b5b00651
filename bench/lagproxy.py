"""A TCP proxy on loopback that puts real delay on real sockets (issue 28's tests and
bench/lag.py).

Every chunk read on one side is written to the other `rtt_ms / 2` later, in order:
propagation delay, as a long path has (no bandwidth limit, no loss). It also models
the usual deployment behind a reverse proxy on the same host: the server's TCP peer is
this proxy, so the kernel's round-trip estimate (TCP_INFO) sees ~0 while the player is
`rtt_ms` away.

It stands in for `tc qdisc ... netem delay`, which this project's test machine lacks
(its kernel is built without sch_netem; docs/performance.md "Fair under lag").

`pong_delay_ms` plays a cheating client: WebSocket pong frames from the client are held
back that much longer than everything else (they are control frames, so they may be
sent between any two frames), so the ping's round trip looks larger than the path.
"""

from __future__ import annotations

import asyncio
import time

OP_PONG = 0xA


def _frame_end(buf: bytearray, at: int) -> int | None:
    """Where the WebSocket frame starting at `at` ends (None: not whole yet)."""
    if len(buf) - at < 2:
        return None
    size = buf[at + 1] & 0x7F
    head = 2
    if size == 126:
        if len(buf) - at < 4:
            return None
        size, head = int.from_bytes(buf[at + 2:at + 4], "big"), 4
    elif size == 127:
        if len(buf) - at < 10:
            return None
        size, head = int.from_bytes(buf[at + 2:at + 10], "big"), 10
    if buf[at + 1] & 0x80:
        head += 4
    end = at + head + size
    return end if end <= len(buf) else None


class DelayProxy:
    def __init__(self, target_port: int, rtt_ms: float, pong_delay_ms: float = 0,
                 target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.one_way = rtt_ms / 2000
        self.pong_delay = pong_delay_ms / 1000
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> "DelayProxy":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> "DelayProxy":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, client_r, client_w) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        self._spawn(self._pump(client_r, server_w, self.pong_delay > 0))
        self._spawn(self._pump(server_r, client_w, False))

    async def _pump(self, reader, writer, hold_pongs: bool) -> None:
        """Read, and forward each chunk one_way seconds after it came."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        self._spawn(self._deliver(queue, writer))
        buf, opened = bytearray(), not hold_pongs
        try:
            while data := await reader.read(65536):
                due = time.monotonic() + self.one_way
                if not hold_pongs:
                    queue.put_nowait((due, data))
                    continue
                buf += data
                if not opened:           # the HTTP upgrade request goes as it is
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        continue
                    queue.put_nowait((due, bytes(buf[:end + 4])))
                    del buf[:end + 4]
                    opened = True
                at, plain = 0, bytearray()
                while (end := _frame_end(buf, at)) is not None:
                    if buf[at] & 0x0F == OP_PONG:
                        # (a pong is never fragmented, so it may go between any frames)
                        loop.call_later(due + self.pong_delay - time.monotonic(),
                                        self._write_later, writer, bytes(buf[at:end]))
                    else:
                        plain += buf[at:end]
                    at = end
                del buf[:at]
                if plain:
                    queue.put_nowait((due, bytes(plain)))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            queue.put_nowait((time.monotonic() + self.one_way, None))

    @staticmethod
    def _write_later(writer, data: bytes) -> None:
        if not writer.is_closing():
            writer.write(data)

    async def _deliver(self, queue: asyncio.Queue, writer) -> None:
        # Times by time.monotonic(), not the loop's clock: uvloop's is a millisecond
        # stale within a loop turn, and its timers may fire early by as much, which
        # made a 300 ms path measure 299.7 ms. So a chunk never goes early.
        try:
            while True:
                due, data = await queue.get()
                while (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    break
                writer.write(data)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
