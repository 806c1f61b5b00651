"""A frame flood against a real server, and what it costs a bystander (issue 23, finding 4).

    .venv/bin/python -m bench.frame_flood [--transport picows] [--seconds 10]
                                          [--attack continuations|pings]

Starts `python -m server` on a free port, then for --seconds at once:
- an attacker (a plain blocking socket in a thread) opens a WebSocket and sends, as fast
  as the socket takes them, `continuations`: one text frame with FIN=0, then empty
  continuation frames for ever (a message that never completes and never grows); or
  `pings`: empty ping frames;
- a bystander practises: types one correct key, waits for the tick that shows it, and
  again (~tick-hz ticks a second when the server keeps up).
Prints one JSON line: frames the attacker got onto the wire in --seconds (or until the
server closed the TCP connection: picows does at once; websockets, after its close
frame, reads and throws away unparsed what comes until the peer closes or the close
timeout), how the server closed it (its close frame's code; none when a reset overtook
it), the server's RSS before and after (and its peak), the CPU time it used meanwhile,
and the bystander's ticks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from bench.__main__ import cpu_seconds
from bench.redis_runner import free_port
from client_demo.client import Client

HANDSHAKE = (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
             b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             b"Sec-WebSocket-Version: 13\r\n\r\n")
MASK = b"\x00\x00\x00\x00"                     # a zero mask: the payload is as written
FIRST = b"\x01\x80" + MASK                     # text, FIN=0, empty
CONTINUATION = b"\x00\x80" + MASK              # continuation, FIN=0, empty
PING = b"\x89\x80" + MASK
BATCH = 1000                                   # frames per write
PASSAGE = " ".join(["the quick brown fox jumps over the lazy dog"] * 60)


def rss_kib(pid: int) -> dict:
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
    return fields


def close_code(data: bytes) -> int | None:
    """The code of the first close frame in what the server sent after its 101."""
    _, _, frames = data.partition(b"\r\n\r\n")
    pos = 0
    while pos + 2 <= len(frames):
        opcode, size = frames[pos] & 0x0F, frames[pos + 1] & 0x7F
        at = pos + 2
        if size == 126:
            size, at = struct.unpack("!H", frames[at:at + 2])[0], at + 2
        if opcode == 0x8:
            return struct.unpack("!H", frames[at:at + 2])[0] if size >= 2 else 1005
        pos = at + size
    return None


def attack(port: int, kind: str, seconds: float, report: dict) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(HANDSHAKE)
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    frame = CONTINUATION if kind == "continuations" else PING
    batch = frame * BATCH
    sent = 0
    if kind == "continuations":
        sock.sendall(FIRST)
        sent = 1
    sock.settimeout(1.0)
    stop = time.monotonic() + seconds
    try:
        while time.monotonic() < stop:
            sock.sendall(batch)
            sent += BATCH
    except (OSError, socket.timeout):
        pass                                    # closed (or no longer read) by the server
    report["frames_sent"] = sent
    report["closed_after_s"] = round(seconds - max(0.0, stop - time.monotonic()), 2)
    received = head
    sock.settimeout(2.0)
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except OSError:
        pass
    report["close_code"] = close_code(received)
    sock.close()


async def bystander(port: int, seconds: float) -> int:
    client = await Client.connect(f"ws://127.0.0.1:{port}/ws", "msgpack")
    await client.hello("Bystander")
    await client.request({"type": "practice"})
    body = (await client.expect("countdown", timeout=30))["text"]["body"]
    await client.expect("room", timeout=30, where=lambda m: m["room"]["state"] == "racing")
    ticks, pos = 0, 0
    loop = asyncio.get_running_loop()
    stop = loop.time() + seconds
    while loop.time() < stop and pos < len(body):
        await client.send({"type": "input", "keys": body[pos]})
        pos += 1
        try:
            await client.expect("tick", timeout=max(0.01, stop - loop.time()),
                                where=lambda m, p=pos: any(row[1] >= p for row in m["p"]))
        except TimeoutError:
            break
        ticks += 1
    await client.close()
    return ticks


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", default="websockets", choices=("websockets", "picows"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--attack", default="continuations", choices=("continuations", "pings"))
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        texts = os.path.join(tmp, "texts.txt")
        with open(texts, "w") as out:
            out.write(f"# Long\n{PASSAGE}\n")
        server = subprocess.Popen(
            [sys.executable, "-m", "server", "--port", str(port), "--transport", args.transport,
             "--db", os.path.join(tmp, "t.db"), "--texts", texts, "--practice-countdown-s", "0",
             "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    await asyncio.sleep(0.05)
            before = rss_kib(server.pid)
            cpu_before = cpu_seconds(server.pid)
            report: dict = {"transport": args.transport, "attack": args.attack}
            attacker = threading.Thread(target=attack,
                                        args=(port, args.attack, args.seconds, report))
            attacker.start()
            ticks = await bystander(port, args.seconds)
            after = rss_kib(server.pid)
            cpu = cpu_seconds(server.pid) - cpu_before
            await asyncio.to_thread(attacker.join)
        finally:
            server.kill()             # its state is of no interest once measured
            server.wait(30)
    report.update(bystander_ticks=ticks, server_rss_mib_before=round(before["VmRSS"] / 1024, 1),
                  server_rss_mib_after=round(after["VmRSS"] / 1024, 1),
                  server_rss_mib_peak=round(after["VmHWM"] / 1024, 1),
                  server_cpu_s=round(cpu, 2))
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
