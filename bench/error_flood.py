"""A flood of client errors against a real server, and the log it writes (issue 23,
finding 6).

    .venv/bin/python -m bench.error_flood [--transport picows] [--conns 100] [--rate 28]

Starts `python -m server` (JSON log lines, to a file), opens --conns connections from
this address, and has each send --rate inputs a second for --seconds while in no room
(each is answered `error not_in_room`: a client's mistake, under the message rate).
Prints one JSON line: errors answered, the log's size, its `error` and
`errors_not_logged` lines (the summaries come once a window ends: 60 s after an
address's first error, so they fall outside a short run; --wait-s waits for them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

from bench.redis_runner import free_port
from client_demo.client import Client


async def flood(port: int, rate: float, seconds: float) -> int:
    client = await Client.connect(f"ws://127.0.0.1:{port}/ws", "json")
    await client.hello("Flood")
    frame = client.codec.encode({"type": "input", "keys": "a"})
    errors = 0

    async def read() -> None:
        nonlocal errors
        while True:
            if (await client.recv(30)).get("type") == "error":
                errors += 1

    reader = asyncio.create_task(read())
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent = 0
    while loop.time() - start < seconds:
        await client.send_raw(frame)
        sent += 1
        await asyncio.sleep(max(0.0, start + sent / rate - loop.time()))
    await asyncio.sleep(1.0)                   # the last answers
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    await client.close()
    return errors


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", default="websockets", choices=("websockets", "picows"))
    parser.add_argument("--conns", type=int, default=100)
    parser.add_argument("--rate", type=float, default=28.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--wait-s", type=float, default=0.0)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "server.log")
        with open(log_path, "wb") as log_file:
            server = subprocess.Popen(
                [sys.executable, "-m", "server", "--port", str(port), "--transport",
                 args.transport, "--db", os.path.join(tmp, "t.db"), "--log-format", "json"],
                stdout=subprocess.DEVNULL, stderr=log_file)
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    await asyncio.sleep(0.05)
            errors = await asyncio.gather(*(flood(port, args.rate, args.seconds)
                                            for _ in range(args.conns)))
            await asyncio.sleep(args.wait_s)
        finally:
            server.kill()
            server.wait(30)
        with open(log_path, "rb") as log_file:
            raw = log_file.read()
    events = [json.loads(line).get("event") for line in raw.splitlines()
              if line.startswith(b"{")]
    print(json.dumps({"transport": args.transport, "conns": args.conns, "rate": args.rate,
                      "seconds": args.seconds, "errors_answered": sum(errors),
                      "log_bytes": len(raw), "error_lines": events.count("error"),
                      "summary_lines": events.count("errors_not_logged")}))


if __name__ == "__main__":
    asyncio.run(main())
