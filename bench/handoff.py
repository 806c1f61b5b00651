"""What the --workers hand-off costs a connection (server/net/router.py, handoff.py).

    python -m bench.handoff                      # 6 rounds of 300 connections each way
    python -m bench.handoff --rounds 10 --per-round 500 --loop uvloop

The router (the supervisor's: the real class, in a process of its own, like the
supervisor) accepts, peeks the request line and passes the socket to a "worker": this
process, whose event loop adopts it (handoff.Receiver, loop.connect_accepted_socket)
into a protocol that only notes when it was made and when the request arrived.
Against it, the same worker's own listener accepts directly (what a lone server, or a
SO_REUSEPORT worker, does). One client in this process connects, sends a WebSocket
request line and waits until the worker has read it, one connection at a time; the two
ways alternate in rounds, so load on the machine hits both alike. It prints:
- hand-off latency: from the router's peek that finds the request to the worker's
  connection_made (peek, parse, sendmsg, the worker's wake-up, recvmsg, adoption),
  median and p99 (CLOCK_MONOTONIC in both processes);
- request latency, client send -> worker reads the request: direct and handed;
- CPU per connection: the router process's, and this process's extra over direct
  (the worker's adoption less its accept; the client costs both ways the same).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import socket
import time

from bench.loadgen import percentile
from server.net.handoff import Receiver, channel_pair
from server.net.router import Router, listeners

REQUEST = b"GET /ws?room=2ABCDE HTTP/1.1\r\nHost: bench\r\n\r\n"


class TimedRouter(Router):
    """The real router, noting (by the client's port: a port is used again, hence the
    lists) when each connection's hand-off began: when its request was there to peek."""

    def __init__(self, *args):
        super().__init__(*args)
        self.began: dict[int, list[int]] = {}

    def _route(self, conn):
        port, began = conn.getpeername()[1], time.perf_counter_ns()
        if super()._route(conn):
            self.began.setdefault(port, []).append(began)
            return True
        return False


def router_process(sock, channel, pipe) -> None:
    router = TimedRouter([sock], 1, 0)
    router.attach(0, channel)
    router.start()
    pipe.recv()                             # "stop"
    cpu = time.process_time()
    router.stop()
    pipe.send((router.began, cpu))


class Noted(asyncio.Protocol):
    made: dict[int, list[int]] = {}       # of the handed connections, by client port
    handed_port = 0
    read: dict[int, asyncio.Future] = {}

    def connection_made(self, transport):
        self.port = transport.get_extra_info("peername")[1]
        if transport.get_extra_info("sockname")[1] == self.handed_port:
            self.made.setdefault(self.port, []).append(time.perf_counter_ns())
        self.transport = transport

    def data_received(self, data):
        future = self.read.get(self.port)
        if future is not None and not future.done():
            future.set_result(time.perf_counter_ns())
        self.transport.close()


async def one(port: int) -> tuple[int, int, int]:
    """(client port, send time, time the worker read the request)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    mine = writer.get_extra_info("sockname")[1]
    future = Noted.read[mine] = asyncio.get_running_loop().create_future()
    sent = time.perf_counter_ns()
    writer.write(REQUEST)
    got = await asyncio.wait_for(future, 10)
    await reader.read()
    writer.close()
    del Noted.read[mine]
    return mine, sent, got


async def measure(args) -> dict:
    loop = asyncio.get_running_loop()
    direct = await loop.create_server(Noted, "127.0.0.1", 0)
    direct_port = direct.sockets[0].getsockname()[1]
    listener = listeners("127.0.0.1", 0)[0]
    routed_port = listener.getsockname()[1]
    ours, theirs = channel_pair()
    pipe, child_pipe = mp.Pipe()
    child = mp.get_context("fork").Process(target=router_process,
                                            args=(listener, ours, child_pipe))
    child.start()
    listener.close()
    ours.close()
    adopting = set()

    def adopt(sock):
        task = loop.create_task(loop.connect_accepted_socket(Noted, sock))
        adopting.add(task)
        task.add_done_callback(adopting.discard)

    receiver = Receiver(theirs.detach(), adopt)
    request = {"direct": [], "handed": []}
    cpu = {"direct": 0.0, "handed": 0.0}
    Noted.made.clear()
    Noted.handed_port = routed_port
    for _ in range(args.rounds):
        for way, port in (("direct", direct_port), ("handed", routed_port)):
            start = time.process_time()
            for _ in range(args.per_round):
                _, sent, got = await one(port)
                request[way].append((got - sent) / 1000)
            cpu[way] += time.process_time() - start
    pipe.send("stop")
    began, router_cpu = pipe.recv()
    child.join()
    receiver.close()
    direct.close()
    n = args.rounds * args.per_round
    handoff = [(made - start) / 1000 for port, starts in began.items()
               for start, made in zip(starts, Noted.made.get(port, ()))]
    return {"connections": n,
            "handoff_us": stats(handoff),
            "request_us": {way: stats(values) for way, values in request.items()},
            "router_cpu_us": round(router_cpu / n * 1e6, 1),
            "worker_extra_cpu_us": round((cpu["handed"] - cpu["direct"]) / n * 1e6, 1)}


def stats(values: list[float]) -> dict:
    values = sorted(values)
    return {"p50": round(percentile(values, 0.5), 1), "p99": round(percentile(values, 0.99), 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.handoff",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=300)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args(argv)
    if args.loop == "uvloop":
        import uvloop
        result = uvloop.run(measure(args))
    else:
        result = asyncio.run(measure(args))
    print(f"{result['connections']} connections each way ({args.loop}):")
    print(f"  hand-off, router peek -> worker adopted: p50 {result['handoff_us']['p50']} µs,"
          f" p99 {result['handoff_us']['p99']} µs")
    for way in ("direct", "handed"):
        r = result["request_us"][way]
        print(f"  request sent -> read by the worker, {way}: p50 {r['p50']} µs, p99 {r['p99']} µs")
    print(f"  CPU per connection: router {result['router_cpu_us']} µs, worker "
          f"{result['worker_extra_cpu_us']:+} µs over accepting it itself")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
