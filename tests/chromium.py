"""One Chromium per test process for the browser tests (tests/test_web_*.py).

The browser is Debian's chromium-headless-shell, the headless-only build (what
Playwright itself runs for headless Chromium): the full browser's `--headless` mode
spent about twice the CPU on the same tests (the browser tests, -n 2: 134 CPU-s with
/usr/bin/chromium, 69 with the shell), and they are a third of the suite's CPU.

Starting Chromium took about a second a test. Instead the first browser test starts a
Playwright browser server (`python -m playwright launch-server`: Debian's Chromium,
never a downloaded one) and every test connects to it; each test's pages still live in
contexts of their own (fresh storage, cookies and cache), closed when the test ends, so
no test sees another's state. conftest.py stops it when the session ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile

CHROMIUM = os.environ.get("TYPERACE_CHROMIUM", "/usr/bin/chromium-headless-shell")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# Every browser test starts Playwright's driver, a node process that loads 7 MB of
# JavaScript; node's compile cache (kept between runs, keyed by node version and file)
# takes a start from 0.40 to 0.29 CPU-s.
os.environ.setdefault("NODE_COMPILE_CACHE",
                      os.path.join(tempfile.gettempdir(), "typerace-node-compile-cache"))

_server: dict = {}        # "process", "ws": the running browser server, once started


def browser_server() -> str:
    """The WebSocket address of this process's browser server (started on first use)."""
    if "ws" not in _server:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as config:
            json.dump({"executablePath": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True},
                      config)
        try:
            # Its own process group: stopping it stops the driver, which closes Chromium.
            process = subprocess.Popen(
                [sys.executable, "-m", "playwright", "launch-server", "--browser", "chromium",
                 "--config", config.name], stdout=subprocess.PIPE, text=True,
                start_new_session=True)
            _server["process"] = process
            line = process.stdout.readline().strip()
        finally:
            os.unlink(config.name)
        assert line.startswith("ws://"), f"the Playwright browser server did not start: {line!r}"
        _server["ws"] = line
    return _server["ws"]


def stop_browser_server() -> None:
    process = _server.pop("process", None)
    _server.pop("ws", None)
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
