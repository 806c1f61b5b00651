"""Small helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
import json

SHORT_TEXTS = "# One\nShort and sweet wins races.\n\n# Two\nTiny words win the day."


def write_texts(tmp_path, content: str = SHORT_TEXTS) -> str:
    path = tmp_path / "passages.txt"
    path.write_text(content, encoding="utf-8")
    return str(path)


async def http_get(port: int, path: str) -> tuple[int, dict, bytes]:
    """A plain HTTP/1.1 GET: (status, headers, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def json_body(body: bytes) -> dict:
    return json.loads(body)
