"""Password hashing off the event loop.

One scrypt hash takes ~0.1 s of a core (server/core/passwords.py); run on the loop it
would stall every race for that long, per login. Here hashes run on ONE worker thread
(hashlib.scrypt releases the GIL, so the loop goes on meanwhile): on a 2-core machine
the loop keeps a core to itself however many people log in at once. At most
MAX_WAITING hashes wait for that thread; past that a request is refused with
`rate_limited` rather than queued for ever (`python -m bench.passwords` measures the
loop's lag while hashes run, and the cost of one).
"""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.core.passwords import (HASH_BYTES, SALT_BYTES, decoy, hash_password,
                                   password_matches)

WORKERS = 1
MAX_WAITING = 20            # ~2 s of hashing queued at most


class PasswordHasher:
    def __init__(self, workers: int = WORKERS, max_waiting: int = MAX_WAITING):
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="passwords")
        self.max_waiting = max_waiting
        self.waiting = 0
        self._decoy = decoy(secrets.token_bytes(SALT_BYTES), secrets.token_bytes(HASH_BYTES))

    async def _run(self, fn, *args):
        if self.waiting >= self.max_waiting:
            raise ProtocolError(ErrorCode.RATE_LIMITED, "the server is busy checking passwords; "
                                "try again in a moment")
        self.waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self.waiting -= 1

    async def hash(self, password: str) -> str:
        return await self._run(hash_password, password, secrets.token_bytes(SALT_BYTES))

    async def matches(self, password: str, stored: str | None) -> bool:
        """Does the password match the stored hash? With no stored hash (no such
        account) a hash is computed all the same, against a decoy, so an unknown name
        takes as long to refuse as a wrong password."""
        if stored is None:
            await self._run(password_matches, password, self._decoy)
            return False
        return await self._run(password_matches, password, stored)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
