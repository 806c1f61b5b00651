"""Shared fixtures: a real server on port 0 with its own SQLite file, and clients.

Every test that starts a server (through `make_server`, or `transport` for a server in
its own process) runs on each transport: websockets on asyncio (the default) and
picows on uvloop (what `--transport picows` runs), the transport following the loop;
but one marked `default_transport` (game or store rules only) on websockets alone.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys

# Bytecode caches on, however pytest was started (scripts/test unsets it too; this
# machine's environment sets PYTHONDONTWRITEBYTECODE): without them each xdist worker
# compiles and assertion-rewrites every test module again (3.5 CPU-s instead of 1.6),
# and every server, client or bench process a test starts compiles the project anew.
# Set here, before the workers start and before any test module is collected.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

import pytest  # noqa: E402

from client_demo.client import Client
from server.net.app import TyperaceServer
from server.config import load_config
from server.net.clock import ManualClock
from server.net.logs import JsonFormatter
from server.core import passwords

TRANSPORT_LOOPS = {"websockets": asyncio.new_event_loop}
try:
    import picows  # noqa: F401
    import uvloop
except ImportError:            # without the [fast] extra only websockets is tested
    uvloop = None
else:
    TRANSPORT_LOOPS["picows"] = uvloop.new_event_loop


def pytest_asyncio_loop_factories(config, item):
    if "transport" in item.fixturenames:
        if item.get_closest_marker("default_transport"):
            return {"websockets": TRANSPORT_LOOPS["websockets"]}
        return TRANSPORT_LOOPS
    return {"asyncio": asyncio.new_event_loop}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "default_transport: a test of game or store rules that only happens to "
        "start a server runs on the default transport alone (each use says why); tests of "
        "frames, limits, closes, keepalive, shutdown, reconnection, origins or HTTP never do")
    config.addinivalue_line(
        "markers", "password_cost: hashes passwords at the server's real scrypt cost "
        "(every other test in this process hashes at a cheap one, cheap_password_hashes)")


# The long tests: seconds a test of each, roughly, on the loaded 2-core machine (a test
# of a module named here that is quick costs nothing: it just starts early).
LONG_S = {"tests/test_soak.py": 80, "tests/test_fuzz.py": 30, "tests/test_lag_cluster.py": 20,
          "tests/test_lag.py": 12, "tests/test_web_": 5, "tests/test_cluster.py": 3,
          "tests/test_typeable.py": 1}
SHORT_S = 0.2


def initial_shares(count: int, workers: int) -> list[int]:
    """How many tests pytest-xdist's worksteal hands each worker at the start: the
    collection in order, cut in `workers` runs (xdist/scheduler/worksteal.py)."""
    shares = []
    for n in range(workers, 0, -1):
        shares.append((count - sum(shares)) // n)
    return shares


@pytest.hookimpl(trylast=True)      # after -k and -m deselected theirs
def pytest_collection_modifyitems(items):
    """Longest first, dealt out: worksteal gives each worker a run of the collection
    and idle workers later take the tail of the others' runs, so a long test queued
    behind another waits for it (all in one run, the soak, the fuzz and the browser
    tests once ran one after another and set the suite's time). Each long test goes to
    the run with the least work so far, each run starts with its longest. Every
    worker sorts the same way (the collection must be the same in all)."""
    def seconds(item) -> float:
        return next((s for prefix, s in LONG_S.items() if item.nodeid.startswith(prefix)),
                    SHORT_S)
    longest = sorted(items, key=seconds, reverse=True)   # stable: files keep their order
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    shares = initial_shares(len(items), workers)
    runs: list[list] = [[] for _ in range(workers)]
    load = [0.0] * workers
    for item in longest:
        n = min((n for n in range(workers) if len(runs[n]) < shares[n]), key=load.__getitem__)
        runs[n].append(item)
        load[n] += seconds(item)
    items[:] = [item for run in runs for item in run]


@pytest.fixture(autouse=True)
def cheap_password_hashes(request, monkeypatch):
    """Passwords hashed in the test process cost N = 2**10, not the server's 2**15: a
    real hash is 0.1 s of a core and 32 MiB, and the suite made about 150 of them (the
    fuzz test alone 53), some 15 CPU-s. Only tests of the cost itself (marked
    `password_cost`) and servers in processes of their own hash at the real cost. A
    stored hash names its cost, so everything else works the same either way."""
    if request.node.get_closest_marker("password_cost") is None:
        monkeypatch.setattr(passwords, "LOG2_N", 10)


@pytest.fixture
async def transport() -> str:
    """The transport under test: picows when the test runs on uvloop."""
    on_uvloop = uvloop is not None and isinstance(asyncio.get_running_loop(), uvloop.Loop)
    return "picows" if on_uvloop else "websockets"


@pytest.fixture
async def make_server(tmp_path, transport):
    """Start real servers (port 0, fresh database); all are stopped at the end."""
    started = []

    async def start(clock=None, run_ticker: bool = True, **overrides) -> TyperaceServer:
        """`clock`, `run_ticker`: a ManualClock the test moves, stepping the ticker."""
        overrides.setdefault("transport", transport)
        overrides.setdefault("db", str(tmp_path / f"typerace{len(started)}.db"))
        overrides.setdefault("port", 0)
        overrides.setdefault("countdown_s", 1)
        overrides.setdefault("lobby_wait_s", 2)
        server = TyperaceServer(load_config([], environ={}, **overrides), clock=clock,
                                run_ticker=run_ticker)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        await server.stop()


# ---- logs ------------------------------------------------------------------------------

@pytest.fixture
def json_log():
    """Every `typerace` log line of the test, as parsed JSON."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("typerace")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)



# ---- stepped time (tests/stepping.py) ---------------------------------------------------

@pytest.fixture
def make_stepped_server(make_server):
    """make_server on a ManualClock with no tick loop: its time moves when the test steps."""
    async def start(**overrides) -> TyperaceServer:
        return await make_server(clock=ManualClock(), run_ticker=False, **overrides)
    return start


@pytest.fixture
async def server(make_server):
    return await make_server()


@pytest.fixture
async def connect(server):
    """connect(codec='json', name='Ann') -> a Client that said hello."""
    clients = []

    async def open_client(name: str | None = "Ann", codec: str | None = "json",
                          target=None, token: str | None = None) -> Client:
        port = (target or server).port
        client = await Client.connect(f"ws://127.0.0.1:{port}/ws", codec)
        clients.append(client)
        if name is not None:
            await client.hello(name, token)
        return client

    yield open_client
    for client in clients:
        await client.close()


def pytest_sessionfinish(session):
    """The browser tests' shared Chromium (tests/chromium.py) ends with the session."""
    from tests.chromium import stop_browser_server
    stop_browser_server()
