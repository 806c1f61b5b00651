"""What hostile text and key input costs a running server (issue 23, findings 1 and 3).

    .venv/bin/python -m bench.hostile_input text  [--code DIR] [--messages 3]
    .venv/bin/python -m bench.hostile_input flood [--code DIR] [--racers 15] [--seconds 20]

Starts a real server (`python -m server`, from DIR when given: e.g. an older checkout,
to compare) and drives it over WebSockets:
- text: a bystander races a practice, typing a typo and its deletion every 50 ms (a tick
  is due every 100 ms), while another connection sends `submit_text` with a 60 KB body
  made to be slow to check ("a" + 19,998 zero width joiners + "a"). Prints how long
  each refusal took and the bystander's longest gap between ticks.
- flood: each racer practises and sends {"type": "input", "keys": "x\\b" * 1000} 25
  times a second; then leaves. Prints the keys logged (from each saved `replay`), the
  largest `replay` frame (JSON), and the server's memory (VmRSS) before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

from websockets.exceptions import ConnectionClosed

from client_demo.client import Client, ServerError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def start_server(code: str, workdir: str) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, "-m", "server", "--port", "0", "--db",
           os.path.join(workdir, "bench.db"), "--log-level", "warning",
           "--practice-countdown-s", "0", "--max-conns-per-ip", "0",
           "--room-rate", "1000000"]
    proc = subprocess.Popen(cmd, cwd=code, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": code})
    line = proc.stdout.readline()
    if "listening on http://" not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return proc, int(line.split("http://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


async def practise(url: str, name: str, codec: str = "json") -> tuple[Client, dict]:
    client = await Client.connect(url, codec)
    await client.hello(name)
    await client.request({"type": "practice"})
    countdown = await client.expect("countdown")
    await client.expect("room", where=lambda m: m["room"]["state"] == "racing")
    return client, countdown


async def text(url: str, messages: int) -> None:
    bystander, _ = await practise(url, "Bystander")
    hostile = await Client.connect(url, "msgpack")
    await hostile.hello("Mallory")
    ticks, stop, closed = [], asyncio.Event(), []

    async def type_and_watch():
        n, next_at = 0, time.monotonic()
        while not stop.is_set():
            try:
                if time.monotonic() >= next_at:
                    await bystander.send({"type": "input", "keys": "x\b"[n % 2]})
                    n, next_at = n + 1, next_at + 0.05
                message = await bystander.recv(max(0.001, next_at - time.monotonic()))
            except (asyncio.TimeoutError, TimeoutError):
                continue
            except ConnectionClosed as exc:     # its inputs, queued in a stall, came at once
                closed.append(f"{exc.rcvd.code} {exc.rcvd.reason}" if exc.rcvd else str(exc))
                return
            if message["type"] == "tick":
                ticks.append(time.monotonic())

    typing = asyncio.create_task(type_and_watch())
    await asyncio.sleep(1)
    started = time.monotonic()
    body = "a" + "\u200d" * 19_998 + "a"
    for _ in range(messages):
        sent = time.monotonic()
        try:
            await hostile.request({"type": "submit_text", "title": "x", "body": body},
                                  timeout=120)
            outcome = "accepted"
        except ServerError as exc:
            outcome = exc.code
        print(f"submit_text of {len(body.encode())} bytes: {outcome} in "
              f"{(time.monotonic() - sent) * 1000:.1f} ms")
    await asyncio.sleep(1)
    stop.set()
    await typing
    during = [t for t in ticks if t >= started - 0.2]
    gaps = [b - a for a, b in zip(during, during[1:])]
    print(f"bystander: {len(during)} ticks while refused and 1 s after; longest gap "
          f"{max(gaps, default=0) * 1000:.0f} ms (ticks are due every 100 ms)"
          + (f"; closed by the server ({closed[0]})" if closed else ""))


async def flood(url: str, pid: int, racers: int, seconds: float) -> None:
    idle = rss_kib(pid)
    clients = [await practise(url, f"Flood{n}") for n in range(racers)]
    keys = "x\b" * 1000
    end = time.monotonic() + seconds
    refused = 0

    async def send(client: Client):
        nonlocal refused
        while time.monotonic() < end:
            await client.send({"type": "input", "keys": keys})
            await asyncio.sleep(0.04)
        client.drop_unread()

    await asyncio.gather(*(send(c) for c, _ in clients))
    peak = rss_kib(pid)
    for client, _ in clients:
        await client.send({"type": "leave"})
    logged, largest = 0, 0
    for client, countdown in clients:
        for _ in range(100):
            try:
                reply = await client.request({"type": "replay", "race_id": countdown["race_id"]},
                                             timeout=60)
                break
            except ServerError:
                await asyncio.sleep(0.2)     # not saved yet
        else:
            raise SystemExit("a race was never saved")
        largest = max(largest, len(json.dumps(reply)))
        logged += sum(len(k) for r in reply["race"]["results"] for _, k in r["log"])
    print(f"{racers} racers x {seconds:.0f} s of 25 inputs/s of 2,000 keys: {logged:,} keys "
          f"logged; largest replay frame {largest / 1024:.1f} KiB (JSON); server VmRSS "
          f"{idle / 1024:.1f} MiB idle -> {peak / 1024:.1f} MiB after the flood")
    for client, _ in clients:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["text", "flood"])
    parser.add_argument("--code", default=ROOT, help="the checkout whose server to run")
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--racers", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        proc, port = start_server(os.path.abspath(args.code), workdir)
        url = f"ws://127.0.0.1:{port}/ws"
        try:
            if args.what == "text":
                asyncio.run(text(url, args.messages))
            else:
                asyncio.run(flood(url, proc.pid, args.racers, args.seconds))
        finally:
            proc.terminate()             # (it drains the races still running: not waited)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
