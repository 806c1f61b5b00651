"""The limits around passwords, over real sockets: failed logins are reserved before the
hash (so logins sent at once can't all be checked) and shared by processes on one Redis;
strangers' failures don't stop the owner's password change; sign-ups are limited per
address; and no address can take the password thread from everyone else. Clients
connect from several loopback addresses (127.0.0.0/8 is all this machine) to be several
addresses."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from client_demo.client import Client, ServerError
from server.core.accounts import REGISTER_BURST
from server.net import passwords

from tests.redis_fixture import redis_server  # noqa: F401

PASSWORD = "correct horse battery"


async def open_from(server, address: str, name: str | None = None,
                    token: str | None = None) -> Client:
    client = await Client.connect(f"ws://127.0.0.1:{server.port}/ws", "json",
                                  local_addr=(address, 0))
    if name is not None:
        await client.hello(name, token)
    return client


@pytest.fixture
async def clients():
    opened: list[Client] = []
    yield opened
    for client in opened:
        await client.close()


async def outcome(client: Client, message: dict) -> str:
    """The reply's type, or the error's code."""
    try:
        return (await client.request(message, timeout=30))["type"]
    except ServerError as error:
        return error.code


def login(name: str, password: str) -> dict:
    return {"type": "login", "name": name, "password": password}


async def registered(server, clients, name: str, address: str = "127.0.0.1") -> Client:
    client = await open_from(server, address, name)
    clients.append(client)
    await client.request({"type": "register", "name": name, "password": PASSWORD})
    return client


async def test_logins_sent_at_once_are_checked_at_most_the_limit(make_server, clients,
                                                                monkeypatch):
    """20 wrong logins for one name, at the same moment, each from its own address: at
    most the name's 5 are checked, the others are refused before any hash."""
    # (The hasher's own cap on one account's waiting hashes would refuse most of them
    # too, and hide the limit this is about.)
    monkeypatch.setattr(passwords, "PER_ACCOUNT", 100)
    server = await make_server(login_fail_burst=5)
    await registered(server, clients, "Ann")
    guessers = [await open_from(server, f"127.0.0.{10 + n}") for n in range(20)]
    clients.extend(guessers)
    answers = await asyncio.gather(*[outcome(g, login("Ann", f"guess {n:04}"))
                                     for n, g in enumerate(guessers)])
    assert (answers.count("bad_credentials"), answers.count("rate_limited")) == (5, 15)


async def test_failed_logins_are_limited_across_processes_sharing_a_redis(
        make_server, redis_server, clients):
    """7 wrong logins on process A and 7 on B: 5 checked (the name's limit), not 10."""
    a, b = [await make_server(redis_url=redis_server.url, login_fail_burst=5)
            for _ in range(2)]
    await registered(a, clients, "Ann")
    answers = []
    for n, server in enumerate([a] * 7 + [b] * 7):
        guesser = await open_from(server, f"127.0.1.{n + 1}")
        clients.append(guesser)
        answers.append(await outcome(guesser, login("ann", f"guess {n:04}")))
    assert answers.count("bad_credentials") == 5, answers
    assert answers.count("rate_limited") == 9
    owner = await open_from(b, "127.0.2.1")        # the name is held for everyone, right
    clients.append(owner)                          # password or not
    assert await outcome(owner, login("Ann", PASSWORD)) == "rate_limited"


async def test_strangers_failed_logins_dont_stop_the_owner_changing_the_password(
        make_server, clients):
    server = await make_server(login_fail_burst=3)
    ann = await registered(server, clients, "Ann")
    stranger = await open_from(server, "127.0.0.9")
    clients.append(stranger)
    while await outcome(stranger, login("Ann", "not the password")) != "rate_limited":
        pass
    changed = await ann.request({"type": "change_password", "password": PASSWORD,
                                 "new_password": "a brand new one"})
    assert changed["type"] == "account" and changed["player_id"] == ann.player_id
    # The owner's own wrong guesses are still limited (a stolen token guessing).
    wrong = {"type": "change_password", "password": "is it this one",
             "new_password": "another new one"}
    answers = [await outcome(ann, wrong) for _ in range(4)]
    assert answers == ["bad_credentials"] * 3 + ["rate_limited"]


async def test_sign_ups_are_limited_per_address(make_server, clients):
    server = await make_server()
    answers = []
    for n in range(REGISTER_BURST + 1):
        guest = await open_from(server, "127.0.0.5", f"Guest {n}")
        clients.append(guest)
        answers.append(await outcome(guest, {"type": "register", "name": f"Signed {n}",
                                             "password": PASSWORD}))
    assert answers == ["account"] * REGISTER_BURST + ["rate_limited"]
    error = await guest.request({"type": "ping"})            # the connection lives on
    assert error["type"] == "pong"
    with pytest.raises(ServerError) as refused:
        await guest.request({"type": "register", "name": "One more", "password": PASSWORD})
    assert "accounts" in refused.value.error["message"]
    elsewhere = await open_from(server, "127.0.0.6", "Neighbour")
    clients.append(elsewhere)
    assert await outcome(elsewhere, {"type": "register", "name": "Neighbour",
                                     "password": PASSWORD}) == "account"


@pytest.fixture
def slow_hashes(monkeypatch):
    """Every hash takes 30 ms of the worker thread (as a real one takes 100-500 ms), so
    a flood can keep the thread busy for real."""
    real_matches, real_hash = passwords.password_matches, passwords.hash_password
    lock = threading.Lock()
    count = [0]

    def counted(real):
        def slow(*args):
            time.sleep(0.03)
            with lock:
                count[0] += 1
            return real(*args)
        return slow
    monkeypatch.setattr(passwords, "password_matches", counted(real_matches))
    monkeypatch.setattr(passwords, "hash_password", counted(real_hash))
    return count


async def test_a_flooding_address_cannot_keep_anyone_else_from_logging_in(
        make_server, clients, slow_hashes):
    """25 accounts at one address change their passwords (with the right one, never a
    failure) as fast as the server answers; meanwhile a player at another address logs
    in 10 times, and every login succeeds."""
    server = await make_server()
    await registered(server, clients, "Victim", "127.0.0.3")
    flooders = []
    for n in range(25):     # made from addresses of their own, then all at one address
        made = await registered(server, clients, f"Flood {n}", f"127.0.3.{n + 1}")
        flooder = await open_from(server, "127.0.0.2", f"Flood {n}", made.welcome["token"])
        clients.append(flooder)
        flooders.append(flooder)
    stop = asyncio.Event()
    sent = [0]

    async def flood(flooder: Client) -> None:
        change = {"type": "change_password", "password": PASSWORD, "new_password": PASSWORD}
        while not stop.is_set():
            sent[0] += 1
            await outcome(flooder, change)

    flooding = [asyncio.create_task(flood(f)) for f in flooders]
    try:
        while slow_hashes[0] < 10:               # the flood has the thread
            await asyncio.sleep(0.01)
        answers = []
        for _ in range(10):
            victim = await open_from(server, "127.0.0.3")
            clients.append(victim)
            answers.append(await outcome(victim, login("Victim", PASSWORD)))
        assert answers == ["welcome"] * 10
        assert sent[0] >= 100                    # it was a flood all along
    finally:
        stop.set()
        await asyncio.gather(*flooding, return_exceptions=True)


async def test_the_password_thread_takes_each_waiting_address_in_turn(monkeypatch):
    """The hasher itself, on a real worker thread: while one check is held, address A
    queues 3 more and then B one; B's runs second, not after all of A's. (A is an IPv6
    /64: each check from another address in it is still A's.)"""
    from server.net.clock import ManualClock
    order, gate = [], threading.Event()

    def recorded(password, stored):
        order.append(password)
        gate.wait(10)
        return False
    monkeypatch.setattr(passwords, "password_matches", recorded)
    hasher = passwords.PasswordHasher(ManualClock())
    try:
        checks = [asyncio.create_task(hasher.matches(f"a{n}", "x", f"2001:db8:0:1::{n + 1}",
                                                     f"a{n}")) for n in range(4)]
        while not order:
            await asyncio.sleep(0.01)
        checks.append(asyncio.create_task(hasher.matches("b0", "x", "2001:db8:0:2::1", "b0")))
        await asyncio.sleep(0)
        # A fifth from A is one too many for one address; B is not refused for it.
        with pytest.raises(Exception) as refused:
            await hasher.matches("a4", "x", "2001:db8:0:1:ffff::5", "a4")
        assert refused.value.code == "rate_limited"
        gate.set()
        await asyncio.wait_for(asyncio.gather(*checks), 30)
        assert order == ["a0", "a1", "b0", "a2", "a3"]
    finally:
        gate.set()
        hasher.close()


async def test_failed_logins_are_limited_across_real_server_processes(redis_server):
    """The same as above with two `python -m server` processes on one Redis (hashing at
    the real cost): 7 wrong logins on each, 5 checked in all."""
    import re
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    processes, ports = [], []
    try:
        for _ in range(2):
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "server", "--port", "0", "--redis-url",
                redis_server.url, "--log-level", "warning", cwd=root,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
            processes.append(process)
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            ports.append(int(re.search(r":(\d+)/", line).group(1)))
        opened = []

        async def connect(port: int, name: str | None = None) -> Client:
            client = await Client.connect(f"ws://127.0.0.1:{port}/ws")
            opened.append(client)
            if name:
                await client.hello(name)
            return client
        ann = await connect(ports[0], "Ann")
        await ann.request({"type": "register", "name": "Ann", "password": PASSWORD},
                          timeout=60)
        answers = []
        for port in [ports[0]] * 7 + [ports[1]] * 7:
            answers.append(await outcome(await connect(port), login("Ann", "a wrong guess")))
        assert (answers.count("bad_credentials"), answers.count("rate_limited")) == (5, 9)
        for client in opened:
            await client.close()
    finally:
        for process in processes:
            process.terminate()
            await process.wait()
