"""`python -m server`: run the Typerace server until SIGINT, SIGTERM or SIGHUP.
(`python -m server admin ...`: the operator's command, server/admin.py.)

The first signal drains (server/net/shutdown.py: running races finish, up to --drain-s,
every result is saved, connections close with 1001); a second one ends at once.
SIGHUP (a closed terminal, a lost SSH session) drains like the others: races running
then are not lost.

Exit status: 0 stopped cleanly; 1 failed at start (e.g. the port is taken, Redis is
unreachable); 2 an operator's mistake (a bad flag, an unusable --db or --texts);
3 (LOST_RESULTS_EXIT) stopped, but some races' results could not be saved: each is
named in the log (`results_not_saved`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys

from server.config import ConfigError, load_config
from server.core.texts import TextInvalid
from server.net import logs, workers
from server.net.app import TyperaceServer
from server.net.saving import LOST_RESULTS_EXIT
from server.net.shutdown import STOP_SIGNALS, drain_and_stop
from server.net.transport import TransportUnavailable, check_available
from server.store import StoreError, StoreUnusable

log = logging.getLogger("typerace")


async def serve(config) -> int:
    """Run until a signal; returns how many races' results could not be saved."""
    server = TyperaceServer(config)
    await server.start()
    stop, force = asyncio.Event(), asyncio.Event()

    def on_signal(sig) -> None:
        if stop.is_set():
            logs.event(log, "shutdown_forced", signal=sig.name)
            force.set()
        else:
            logs.event(log, "shutdown_requested", signal=sig.name)
            stop.set()

    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    print(f"Typerace listening on http://{config.host}:{server.port}/ "
          f"(WebSocket ws://{config.host}:{server.port}/ws)", flush=True)
    workers.listening()
    await stop.wait()
    await drain_and_stop(server, config.drain_s, force)
    return len(server.saver.lost)


def run(coro, loop: str):
    if loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            coro.close()
            raise SystemExit("python -m server: error: --loop uvloop needs the uvloop package "
                             "(pip install 'typerace[fast]')") from None
        return uvloop.run(coro)
    return asyncio.run(coro)


def main(argv: list[str] | None = None, **internal) -> int:
    """`internal`: Config's internal settings (never flags), for a bench that starts the
    server its own way (bench/lagcost.py)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["admin"]:          # the operator's command (server/admin.py)
        from server.admin import main as admin
        return admin(argv[1:])
    try:
        # A --workers supervisor's own worker takes the connections its supervisor hands
        # it instead of listening (server/net/workers.py).
        config = load_config(argv, handoff_fd=workers.handoff_fd(), **internal)
        if config.workers > 1:
            if not config.redis_url:
                raise ConfigError("--workers above 1 needs --redis-url: the workers share "
                                  "their rooms, codes and matchmaking through Redis")
            if config.port == 0:
                raise ConfigError("--workers above 1 needs a fixed --port to share")
            if (error := workers.route_tags_error(config.workers, config.route_tag)):
                raise ConfigError(error)
        check_available(config.transport)
    except (ConfigError, TransportUnavailable) as exc:
        print(f"python -m server: error: {exc}", file=sys.stderr)
        return 2
    logs.setup(config.log_format, config.log_level)
    if config.workers > 1:
        return workers.supervise(argv, config.workers, config.drain_s, config.host,
                                 config.port, config.route_tag or 0)
    try:
        lost = run(serve(config), config.event_loop)
    except (ConfigError, TextInvalid, StoreUnusable) as exc:   # found at start-up, e.g. a bad --texts file
        print(f"python -m server: error: {exc}", file=sys.stderr)
        return 2
    except socket.gaierror as exc:   # only the listening address is looked up here (Redis
        # errors are StoreErrors): its own error line names neither the host nor the flag
        print(f"python -m server: error: --host {config.host}: no such address "
              f"({exc.strerror})", file=sys.stderr)
        return 2
    except (OSError, StoreError) as exc:   # e.g. the port is taken, Redis is unreachable
        print(f"python -m server: error: {exc}", file=sys.stderr)
        return 1
    return LOST_RESULTS_EXIT if lost else 0


if __name__ == "__main__":
    sys.exit(main())
