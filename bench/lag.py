"""Fair under lag, measured (issue 28): before/after at several round trips, the measured
delay's error, and what measuring costs.

    python -m bench.lag                         # 50, 150, 300 and 1,500 ms
    python -m bench.lag --rtt 300 --wpm 90 --cost-racers 2000

For each round trip, two bots with identical keystrokes (same plan, same seed) race each
other on one server: one beside it, one behind a delaying TCP proxy (bench/lagproxy.py:
real delay on real sockets, and the reverse-proxy deployment, so the server's kernel
sees ~0 and the pongs measure the path). Twice:
- before: the clients start when they hear of the start (half a round trip late) and
  the server credits nothing (--lag-cap-ms 0): what every racer paid until now;
- after: the clients start at start_server_ms on the synced clock, the server credits
  half the smallest measured round trip, up to the cap.
Each line: the far bot's WPM against the near one's (%), its credit, and the round trip
the server measured against the one injected.

Cost: counted per operation with N racers: a TCP_INFO read, and a ping with its pong
(this process's CPU, clients included: an upper bound); spread over a race of --race-s
seconds, in µs per racer-second (the server spends ~200-300 µs per racer-second in all,
docs/performance.md; the budget is 2 %). bench/lagcost.py isolates it: the whole server
with the probe on and off, and the probe path's instructions.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.lagproxy import DelayProxy
from client_demo.bot import Bot
from client_demo.client import Client
from server.config import load_config
from server.net.lag import PROBES_PER_RACE, PROBE_S
from server.net.app import TyperaceServer

INPUTS_PER_S = 10       # a racer's inputs per second (clients batch keys every ~100 ms)
# ~150 characters: about 20 s at 90 WPM.
PASSAGE = ("# Lag\nThe keeper climbed the stairs of the old lighthouse every evening, "
           "counting the steps, and lit the lamp before the ships came round the cape.\n")


async def start_server(tmp: Path, name: str, cap_ms: int, **overrides) -> TyperaceServer:
    texts = tmp / "texts.txt"
    texts.write_text(PASSAGE, encoding="utf-8")
    config = load_config([], environ={}, port=0, db=str(tmp / f"{name}.db"), texts=str(texts),
                         lag_cap_ms=cap_ms, countdown_s=3, log_level="warning", **overrides)
    server = TyperaceServer(config)
    await server.start()
    return server


async def race_pair(server: TyperaceServer, rtt_ms: int, wpm: float, synced: bool,
                    seed: int) -> dict:
    """Near and Far race once in a private room (a host starts it and leaves)."""
    url = f"ws://127.0.0.1:{server.port}/ws"
    async with DelayProxy(server.port, rtt_ms=rtt_ms) as far:
        host = await Client.connect(url)
        await host.hello("Host")
        room = (await host.request({"type": "create_room"}))["room"]
        bots = [Bot(url, "Near", wpm, 1.0, room=room["code"], rng=random.Random(seed),
                    out=lambda _: None, sync_clock=synced),
                Bot(far.url, "Far", wpm, 1.0, room=room["code"], rng=random.Random(seed),
                    out=lambda _: None, sync_clock=synced)]
        runs = [asyncio.create_task(bot.run()) for bot in bots]
        await host.expect("room", timeout=60, where=lambda m: len(m["room"]["players"]) == 3)
        await host.send({"type": "start"})
        await host.expect("countdown", timeout=30)
        room_id = room["room_id"]
        await host.request({"type": "leave"})
        await host.close()
        [[results], _] = await asyncio.wait_for(asyncio.gather(*runs), 300)
        room = server.lobby.room(room_id)
        seats = room.seats.values() if room is not None else ()
        measured = next((s.rtt_ms for s in seats if s.name == "Far"), None)
    by_name = {r["name"]: r for r in results["ranking"]}
    near, far_ = by_name["Near"], by_name["Far"]
    return {"near_wpm": near["wpm"], "far_wpm": far_["wpm"],
            "gap_pct": 100 * (far_["wpm"] - near["wpm"]) / near["wpm"],
            "credit_ms": far_.get("lag_credit_ms", 0), "measured_rtt_ms": measured}


async def cost(tmp: Path, racers: int, race_s: float) -> dict:
    """What measuring costs, counted per operation with `racers` racing (each alone in a
    practice race, typing nothing): one probe pass that only reads TCP_INFO, and one
    ping with its pong (this process's CPU over a second after pinging everyone, less a
    quiet second; it includes the clients answering, so it is an upper bound)."""
    server = await start_server(tmp, "cost", 250, max_conns_per_ip=0, max_conns=0,
                                room_rate=1_000_000, msg_rate=1000, msg_burst=1000)
    url = f"ws://127.0.0.1:{server.port}/ws"
    clients, readers = [], []
    loop = asyncio.get_running_loop()
    try:
        for i in range(racers):
            client = await Client.connect(url)
            await client.hello(f"P{i}")
            await client.request({"type": "practice"})
            clients.append(client)
            readers.append(asyncio.create_task(_drain(client)))
        await server.lag.stop()                 # the bench steps the probe itself
        delays = [server.conns[c.player_id].link.delay for c in clients]

        def read_only_pass() -> float:
            for delay in delays:
                delay.probes = 0
                delay.ping_ms = None          # so that the kernel's is read, and not pinged
            for client in clients:
                server.conns[client.player_id].link.pong_due = True
            t0 = time.process_time()
            server.lag.probe(loop.time())
            return time.process_time() - t0

        def idle_pass() -> float:
            for delay in delays:
                delay.probes, delay.fresh = PROBES_PER_RACE, False
            t0 = time.process_time()
            server.lag.probe(loop.time())
            return time.process_time() - t0

        async def cpu_over(seconds: float) -> float:
            c0 = time.process_time()
            await asyncio.sleep(seconds)
            return time.process_time() - c0

        server.lag.probe(loop.time())           # every racer's delay has its race now
        await asyncio.sleep(1)
        async def input_round() -> float:
            """One input from every racer: sent, handled, ticked back and read."""
            quiet = await cpu_over(0.5)
            c0 = time.process_time()
            await asyncio.gather(*(c.send({"type": "input", "keys": "x\b"}) for c in clients))
            return max(0.0, time.process_time() - c0 + await cpu_over(0.5) - quiet)

        reads, pings, idles, inputs = [], [], [], []
        for _ in range(5):
            inputs.append(await input_round())
            reads.append(read_only_pass())
            idles.append(idle_pass())
            quiet = await cpu_over(1.0)
            for client, delay in zip(clients, delays):
                delay.probes = 0
                server.conns[client.player_id].link.pong_due = False
            c0 = time.process_time()
            server.lag.probe(loop.time())       # a ping to everyone, and their pongs
            pinged = time.process_time() - c0 + await cpu_over(1.0)
            pings.append(max(0.0, pinged - quiet))
        read_us = 1e6 * statistics.median(reads) / racers
        ping_us = 1e6 * statistics.median(pings) / racers
        idle_us = 1e6 * statistics.median(idles) / racers
        per_racer_s = (PROBES_PER_RACE * (read_us + ping_us) + race_s / PROBE_S * idle_us) / race_s
        input_us = 1e6 * statistics.median(inputs) / racers
        racing_per_racer_s = INPUTS_PER_S * input_us
        return {"racers": racers, "input_us": input_us, "share": per_racer_s / racing_per_racer_s,
                "read_us": read_us, "ping_us": ping_us, "idle_us": idle_us,
                "race_s": race_s, "per_racer_s_us": per_racer_s}
    finally:
        for task in readers:
            task.cancel()
        for client in clients:
            await client.ws.close()
        await server.stop(close_wait_s=5)


async def _drain(client: Client) -> None:
    try:
        async for _ in client.ws:
            pass
    except Exception:
        pass


async def main_async(args) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        before = await start_server(tmp, "before", 0)
        after = await start_server(tmp, "after", args.cap)
        try:
            print(f"| round trip | before: far vs near WPM | after: far vs near WPM | "
                  f"credit | measured rtt (error) |")
            print("|---|---|---|---|---|")
            for rtt in args.rtt:
                old = await race_pair(before, rtt, args.wpm, False, args.seed)
                new = await race_pair(after, rtt, args.wpm, True, args.seed)
                measured = new["measured_rtt_ms"]
                error = "n/a" if measured is None else f"{measured} ms ({measured - rtt:+d} ms)"
                print(f"| {rtt} ms | {old['far_wpm']:.2f} vs {old['near_wpm']:.2f} "
                      f"({old['gap_pct']:+.2f} %) | {new['far_wpm']:.2f} vs "
                      f"{new['near_wpm']:.2f} ({new['gap_pct']:+.2f} %) | "
                      f"{new['credit_ms']} ms | {error} |", flush=True)
        finally:
            await before.stop(close_wait_s=5)
            await after.stop(close_wait_s=5)
        if args.cost_racers:
            r = await cost(tmp, args.cost_racers, args.race_s)
            print(f"\nmeasuring cost, {r['racers']} racers: a TCP_INFO read {r['read_us']:.1f} "
                  f"µs per racer, a ping and its pong {r['ping_us']:.1f} µs "
                  f"(upper bound, clients included), each {PROBES_PER_RACE} times per race, and "
                  f"{r['idle_us']:.2f} µs per racer every {PROBE_S:g} s to look: "
                  f"{r['per_racer_s_us']:.2f} µs per racer-second in a {r['race_s']:g} s race;\n"
                  f"an input (sent, handled, ticked, read) costs {r['input_us']:.1f} µs here, "
                  f"{INPUTS_PER_S} a second per racer: measuring is "
                  f"{100 * r['share']:.1f} % of that")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lag", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--rtt", type=int, nargs="+", default=[50, 150, 300, 1500],
                        help="round trips to inject, ms (default: %(default)s)")
    parser.add_argument("--wpm", type=float, default=90)
    parser.add_argument("--cap", type=int, default=250, help="--lag-cap-ms of the 'after' server")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cost-racers", type=int, default=1000,
                        help="seated players for the cost measurement (0: skip)")
    parser.add_argument("--race-s", type=float, default=20.0,
                        help="race length the cost is spread over (default: %(default)s)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
