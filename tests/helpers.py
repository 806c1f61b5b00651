"""Small helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess

import pytest

SHORT_TEXTS = "# One\nShort and sweet wins races.\n\n# Two\nTiny words win the day."


def unavailable(reason: str, module_level: bool = False) -> None:
    """What this machine lacks for a test (redis-server, Chromium, mounting a tmpfs):
    a skip on a developer's machine, a failure under CI (`CI` set), where .ci/run
    installs everything and nothing may be skipped in silence."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(reason, allow_module_level=module_level)


async def holds(check):
    """The value of a plain or async check (what the polling helpers wait on)."""
    value = check()
    return await value if asyncio.iscoroutine(value) else value


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


@contextlib.contextmanager
def tmpfs(path, size: str = "1m", readonly: bool = False):
    """A small tmpfs mounted at `path` (a full disk, or a read-only one, for real).
    Where mounting is not allowed (not root, no CAP_SYS_ADMIN): skipped, failed under CI."""
    path.mkdir(exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(path)], capture_output=True)
    if mounted.returncode != 0:
        unavailable(f"can't mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def remount_readonly(path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
