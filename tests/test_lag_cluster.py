"""Fair under lag across a cluster (issue 28): a racer connected to one process racing
in a room another process owns is measured by the process it is connected to (its
edge), and credited by the room's owner like a local racer (server/cluster/delays.py).

Two real processes on one test Redis: the room's owner in this process, the edge in
its own (`python -m server`), with delaying proxies (bench/lagproxy.py) in front of the
edge, so the edge's kernel sees ~0 and its pings measure the path."""

from __future__ import annotations

import random

from bench.lagproxy import DelayProxy
from client_demo.bot import Bot
from tests.helpers import write_texts
from tests.redis_fixture import redis_server  # noqa: F401
from tests.test_cluster import _start_process
from tests.test_lag import CAP_MS, PASSAGE, entry, race_bots


async def test_a_relayed_racer_300_ms_away_is_measured_by_its_edge_and_credited_by_the_owner(
        make_server, redis_server, connect, tmp_path, transport):  # noqa: F811
    texts = write_texts(tmp_path, PASSAGE)
    owner = await make_server(redis_url=redis_server.url, texts=texts, lag_cap_ms=CAP_MS)
    proc, edge_port = await _start_process("--redis-url", redis_server.url, "--texts", texts,
                                           "--lag-cap-ms", str(CAP_MS),
                                           "--transport", transport)
    try:
        async with DelayProxy(edge_port, rtt_ms=300) as far, \
                DelayProxy(edge_port, rtt_ms=0, pong_delay_ms=500) as cheat:
            url = f"ws://127.0.0.1:{owner.port}/ws"
            bots = [Bot(url, "Near", 90, 1.0, rng=random.Random(7), out=lambda _: None),
                    Bot(far.url, "Far", 90, 1.0, rng=random.Random(7), out=lambda _: None),
                    Bot(cheat.url, "Cheat", 90, 1.0, rng=random.Random(7), out=lambda _: None)]
            spectator = await connect("Watcher", target=owner)
            # (race_bots starts the race once the owner has every racer's rtt_ms: Far's
            # and Cheat's can only have come from the edge)
            results = await race_bots(owner, bots, spectator)
            near, far_, cheater = (entry(results, n) for n in ("Near", "Far", "Cheat"))
            assert {near["status"], far_["status"], cheater["status"]} == {"finished"}

            # The owner saw Far's keys ~150 ms (one way) later; the credit gives that back.
            assert far_["server_race_ms"] - near["server_race_ms"] > 100
            assert 130 <= far_["lag_credit_ms"] <= CAP_MS, far_
            assert near["lag_credit_ms"] <= 10, near
            assert abs(far_["wpm"] - near["wpm"]) / near["wpm"] < 0.005, (near, far_)

            # Pongs held back at the edge earn at most the cap, as they would locally.
            assert cheater["lag_credit_ms"] <= CAP_MS
            assert near["race_ms"] - cheater["race_ms"] <= CAP_MS + 50, (near, cheater)

            # Spectators see the relayed racers' round trips in the room's players.
            room = await spectator.expect("room", timeout=30,
                                          where=lambda m: m["room"]["state"] == "finished")
            rtt = {p["name"]: p["rtt_ms"] for p in room["room"]["players"]}
            assert 290 <= rtt["Far"] <= 600, rtt
            assert rtt["Cheat"] >= 490, rtt
    finally:
        proc.kill()
        await proc.wait()
