"""`python -m server`: run the Typerace server until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from server.app import TyperaceServer
from server.config import ConfigError, load_config
from server.redis_adapter import RedisError
from server.texts import TextInvalid


async def serve(config) -> None:
    server = TyperaceServer(config)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"Typerace listening on http://{config.host}:{server.port}/ "
          f"(WebSocket ws://{config.host}:{server.port}/ws)", flush=True)
    await stop.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> int:
    try:
        config = load_config(sys.argv[1:] if argv is None else argv)
    except ConfigError as exc:
        print(f"python -m server: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        asyncio.run(serve(config))
    except (ConfigError, TextInvalid) as exc:   # found at start-up, e.g. a bad --texts file
        print(f"python -m server: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, RedisError) as exc:   # e.g. the port is taken, Redis is unreachable
        print(f"python -m server: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
