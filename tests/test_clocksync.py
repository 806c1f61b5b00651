"""The clients' estimate of the server's clock (protocol/clocksync.py and the web page's
client_demo/web/clock.js, one rule): NTP-style from ping/pong, so a client 300 ms away
starts the race within 10 ms of the server, not half a round trip late."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import time

import pytest

from bench.lagproxy import DelayProxy
from protocol import jsmodule
from protocol.clocksync import SYNC_PINGS, ClockSync

from .webjs import NODE, WEB, needs_node, run_module


def test_the_sample_with_the_smallest_round_trip_decides():
    clock = ClockSync()
    assert not clock.synced and clock.offset_ms == 0 and clock.rtt_ms is None
    # True offset +1000; 300 ms round trips, queueing on one way or the other.
    clock.sample(0, 1000 + 150 + 80, 380)       # 80 ms queued on the way out
    clock.sample(1000, 1000 + 1150, 1300)       # no queueing: exact
    clock.sample(2000, 1000 + 2150, 2360)       # 60 ms queued on the way back
    assert clock.offset_ms == 1000 and clock.rtt_ms == 300
    assert clock.server_now(5000) == 6000
    clock.sample(3000, 0, 2990)                 # the local clock stepped back: ignored
    assert clock.rtt_ms == 300


def test_only_the_last_samples_count():
    clock = ClockSync(keep=3)
    clock.sample(0, 500, 10)                    # a fast sample, long ago
    for t in (1000, 2000, 3000):
        clock.sample(t, t + 800 + 50, t + 100)
    assert clock.offset_ms == 800


def samples_300_ms_away(seed: int, offset: float) -> list:
    """Pings over a 300 ms round trip with random queueing on each way."""
    rng, out, t = random.Random(seed), [], 0.0
    for _ in range(SYNC_PINGS):
        there, back = 150 + rng.expovariate(1 / 15), 150 + rng.expovariate(1 / 15)
        out.append([t, t + there + offset, t + there + back])
        t += there + back
    return out


JS_RUNNER = """
import { readFileSync } from "node:fs";
const { ClockSync } = await import(process.argv[1]);
const cases = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map((samples) => {
  const clock = new ClockSync();
  for (const [sent, stamp, received] of samples) clock.sample(sent, stamp, received);
  return [clock.offsetMs, clock.rttMs];
})));
"""


@needs_node
def test_the_page_and_the_python_clients_estimate_alike(tmp_path):
    cases = [samples_300_ms_away(seed, 12_345.5) for seed in range(40)]
    js = run_module(tmp_path, "clock.js", JS_RUNNER, cases)
    for samples, (js_offset, js_rtt) in zip(cases, js):
        clock = ClockSync()
        for sample in samples:
            clock.sample(*sample)
        assert js_offset == pytest.approx(clock.offset_ms) and js_rtt == pytest.approx(clock.rtt_ms)


# The page's clock.js in node (its WebSocket is a browser's), through a real 300 ms path.
PAGE_RUNNER = """
const { ClockSync, SYNC_PINGS } = await import(process.argv[1]);
const clock = new ClockSync();
const ws = new WebSocket(process.argv[2], ["typerace.v1.json"]);
let sent = 0, id = 0;
const ping = () => { sent = Date.now(); ws.send(JSON.stringify({ type: "ping", id: ++id })); };
ws.onopen = () => ws.send(JSON.stringify({ type: "hello", name: "Page", id: 0 }));
ws.onmessage = (ev) => {
  const msg = JSON.parse(ev.data);
  if (msg.type === "welcome") ping();
  if (msg.type !== "pong") return;
  clock.sample(sent, msg.server_ms, Date.now());
  if (id < SYNC_PINGS) return ping();
  process.stdout.write(JSON.stringify({ offset: clock.offsetMs, rtt: clock.rttMs }));
  ws.close();
};
"""


@needs_node
async def test_the_page_300_ms_away_knows_the_servers_clock_within_10_ms(server, tmp_path):
    site = tmp_path / "web"
    shutil.copytree(WEB, site)
    (site / "protocol.js").write_text(jsmodule.source(), encoding="utf-8")
    async with DelayProxy(server.port, rtt_ms=300) as far:
        node = await asyncio.create_subprocess_exec(
            NODE, "--experimental-websocket", "--no-warnings", "--input-type=module", "-e",
            PAGE_RUNNER, (site / "clock.js").as_uri(), far.url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(node.communicate(), 60)
    assert node.returncode == 0, err.decode()
    estimate = json.loads(out)
    # node and this process read one system clock; the server's is this process's.
    true_offset = server.clock.now_ms() - time.time() * 1000
    assert abs(estimate["offset"] - true_offset) < 10, (estimate, true_offset)
    assert 300 <= estimate["rtt"] < 400
