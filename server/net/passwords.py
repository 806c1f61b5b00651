"""Password hashing off the event loop, shared fairly between addresses.

One scrypt hash takes ~0.1 s of a core (server/core/passwords.py); run on the loop it
would stall every race for that long, per login. Here hashes run on ONE worker thread
(hashlib.scrypt releases the GIL, so the loop goes on meanwhile): on a 2-core machine
the loop keeps a core to itself however many people log in at once.

That thread is one shared resource, so no address may hold it (`python -m
bench.passwords` measures the loop's lag while hashes run, and the cost of one):
- requests wait in one line per address (IPv4, or the IPv6 /64: joinguard.ip_key),
  and the thread takes the next hash from each waiting address in turn, so a victim's
  login waits for the hash running and at most one more of each other address, however
  many a flooder sent;
- at most PER_ADDRESS hashes of one address and PER_ACCOUNT of one account wait at
  once, and at most MAX_WAITING in all;
- an address gets ADDRESS_BURST hashes in a row, then ADDRESS_PER_MIN a minute; an
  account ACCOUNT_BURST, then ACCOUNT_PER_MIN (a login is one hash, a password change
  two, a sign-up one).
Past any of these a request is refused with `rate_limited` rather than queued.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from protocol.messages import ProtocolError
from server.core.joinguard import ip_key
from server.core.passwords import (HASH_BYTES, SALT_BYTES, decoy, hash_password,
                                   password_matches)
from server.core.ratelimit import BucketTable

WORKERS = 1
MAX_WAITING = 20            # ~2 s of hashing queued at most
PER_ADDRESS = 4             # waiting at once, from one address
PER_ACCOUNT = 2             # waiting at once, for one account (name or player)
ADDRESS_BURST, ADDRESS_PER_MIN = 30, 30.0    # a classroom behind one router logs in
ACCOUNT_BURST, ACCOUNT_PER_MIN = 12, 12.0


def busy(why: str) -> ProtocolError:
    return ProtocolError("rate_limited", f"{why}; try again in a moment")


class PasswordHasher:
    def __init__(self, clock, workers: int = WORKERS, max_waiting: int = MAX_WAITING):
        """`clock`: its `monotonic()` (seconds) runs the per-minute limits."""
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="passwords")
        self._clock = clock
        self.workers = workers
        self.max_waiting = max_waiting
        self.waiting = 0                                   # queued or running
        self._by_address: dict[str, int] = {}              # waiting, per address
        self._by_account: dict[str, int] = {}              # waiting, per account
        self._lines: dict[str, deque] = {}                 # address -> its queued jobs,
        self._running = 0                                  # in the order they get turns
        self._closed = False
        self._address_rate = BucketTable(ADDRESS_PER_MIN / 60, ADDRESS_BURST)
        self._account_rate = BucketTable(ACCOUNT_PER_MIN / 60, ACCOUNT_BURST)
        self._decoy = decoy(secrets.token_bytes(SALT_BYTES), secrets.token_bytes(HASH_BYTES))

    def _admit(self, address: str, account: str) -> None:
        if self.waiting >= self.max_waiting:
            raise busy("the server is busy checking passwords")
        if self._by_address.get(address, 0) >= PER_ADDRESS:
            raise busy("too many passwords from your address are being checked")
        if self._by_account.get(account, 0) >= PER_ACCOUNT:
            raise busy("a password for this account is being checked")
        now = self._clock.monotonic()
        if not (self._address_rate.allowed(address, now)
                and self._account_rate.allowed(account, now)):
            raise busy("too many passwords checked from your address or for this account "
                       "this minute")
        self._address_rate.take(address, now)
        self._account_rate.take(account, now)

    async def _run(self, ip: str, account: str, fn, *args):
        address = ip_key(ip)
        self._admit(address, account)
        done = asyncio.get_running_loop().create_future()
        self.waiting += 1
        self._by_address[address] = self._by_address.get(address, 0) + 1
        self._by_account[account] = self._by_account.get(account, 0) + 1
        try:
            self._lines.setdefault(address, deque()).append((done, fn, args))
            self._next()
            return await done
        finally:
            self.waiting -= 1
            _drop(self._by_address, address)
            _drop(self._by_account, account)

    def _next(self) -> None:
        """Start queued hashes while the pool has a free thread: the first job of the
        address whose turn it is, which then goes to the back of the turns."""
        while self._running < self.workers and self._lines and not self._closed:
            address = next(iter(self._lines))
            line = self._lines.pop(address)
            done, fn, args = line.popleft()
            if line:
                self._lines[address] = line                # back of the turns
            if done.done():                                # its request was cancelled
                continue
            self._running += 1
            future = asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
            future.add_done_callback(lambda f, done=done: self._finished(f, done))

    def _finished(self, future: asyncio.Future, done: asyncio.Future) -> None:
        self._running -= 1
        if not done.done():
            if future.cancelled():
                done.cancel()
            elif future.exception() is not None:
                done.set_exception(future.exception())
            else:
                done.set_result(future.result())
        self._next()

    async def hash(self, password: str, ip: str, account: str) -> str:
        return await self._run(ip, account, hash_password, password,
                               secrets.token_bytes(SALT_BYTES))

    async def matches(self, password: str, stored: str | None, ip: str, account: str) -> bool:
        """Does the password match the stored hash? With no stored hash (no such
        account) a hash is computed all the same, against a decoy, so an unknown name
        takes as long to refuse as a wrong password."""
        if stored is None:
            await self._run(ip, account, password_matches, password, self._decoy)
            return False
        return await self._run(ip, account, password_matches, password, stored)

    def close(self) -> None:
        self._closed = True
        for line in self._lines.values():
            for done, _, _ in line:
                done.cancel()
        self._lines.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _drop(counts: dict[str, int], key: str) -> None:
    if counts[key] <= 1:
        del counts[key]
    else:
        counts[key] -= 1
