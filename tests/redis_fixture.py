"""A private, throw-away redis-server for tests.

Use it from a conftest.py (or a test module) with::

    from tests.redis_fixture import redis_server  # noqa: F401

and ask for ``redis_server`` in a test. The fixture is FUNCTION-scoped: every test
gets a fresh, empty server on its own free port, so a test that stops, freezes or
restarts the server cannot disturb any other (a start costs a few milliseconds).

It yields a :class:`RedisServer`: ``redis_server.url`` is ``redis://127.0.0.1:PORT/0``,
and ``stop()`` / ``start()`` / ``restart()`` / ``freeze()`` / ``thaw()`` act on the SAME
server and port, for failure tests. No data survives a restart (no RDB, no AOF),
unless the server is made with ``RedisServer(persistent=True)``: then it keeps an
append-only file (fsync on every write) in its temporary directory, as a production
Redis holding results should, and a restart finds everything written before.

When ``redis-server`` is not installed the fixture skips the test, except under CI
(environment variable ``CI`` set), where a missing server FAILS the test: a CI run
must not go green by silently skipping every Redis test.
"""

from __future__ import annotations

import shutil

import pytest

from bench.redis_runner import REDIS_SERVER, RedisServer, free_port  # noqa: F401
from tests.helpers import unavailable

# The runner itself lives outside tests/: the benches use it without pytest.
_free_port = free_port


def require_redis_server() -> None:
    """Skip (or, under CI, fail) the current test when redis-server is missing."""
    if shutil.which(REDIS_SERVER) is None:
        unavailable(f"{REDIS_SERVER!r} not found on PATH; install Redis to run these tests")


@pytest.fixture
def redis_server():
    """A fresh private redis-server for one test (see the module docstring)."""
    require_redis_server()
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()
