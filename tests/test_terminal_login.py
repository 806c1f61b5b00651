"""`python -m client_demo play --login NAME` in a real terminal (a pseudo-terminal): it
asks for the password with echo off, logs in, and shows the account."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import struct
import sys
import termios
import time

from client_demo.client import Client

from .test_terminal_client import ANSI, short_server  # noqa: F401

PASSWORD = "typed-in-the-dark"


class Pty:
    """The controlling terminal of a child process: what it printed, and keys to it."""

    def __init__(self):
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
        self.seen = b""

    def take_as_controlling_terminal(self) -> None:     # (in the child, before exec)
        os.setsid()
        # The slave's own descriptor: uvloop runs this before it makes the slave fd 0
        # (asyncio after), and both close other descriptors only after it.
        fcntl.ioctl(self.slave, termios.TIOCSCTTY, 0)

    async def until(self, pattern: str, timeout: float = 30.0) -> str:
        """Read until the screen (escape codes removed) matches `pattern`."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {pattern!r} on the terminal; it shows {self.text()!r}")
            try:
                self.seen += await asyncio.wait_for(
                    loop.run_in_executor(None, os.read, self.master, 65536), 5)
            except (TimeoutError, OSError):
                continue
        return self.text()

    def text(self) -> str:
        return ANSI.sub("", self.seen.decode(errors="replace"))

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())


async def test_login_asks_for_the_password_without_echo_and_shows_the_account(short_server):
    url = f"ws://127.0.0.1:{short_server.port}/ws"
    owner = await Client.connect(url)
    await owner.hello("Ann")
    await owner.request({"type": "register", "name": "Ann", "password": PASSWORD})
    await owner.close()

    term = Pty()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client_demo", "play", "--login", "ann", "--url", url,
        stdin=term.slave, stdout=term.slave, stderr=term.slave,
        env={**os.environ, "TERM": "xterm"}, preexec_fn=term.take_as_controlling_terminal)
    try:
        await term.until(r"Password for ann: ")
        term.type(PASSWORD + "\r")
        await term.until(r"Ann\s+\(account\)")
        conn = short_server.conns[owner.player_id]
        assert conn.account == "Ann"
        term.type("\x03")                            # Ctrl-C: quit
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        os.close(term.slave)
        os.close(term.master)
    assert PASSWORD not in term.seen.decode(errors="replace")
