"""Accounts over real sockets: a guest registers and keeps everything, logs in from a
new device, changes its password (older tokens stop working); names are one per
account ignoring case; failed logins are limited; hashing never stalls the server."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from client_demo.client import Client, ServerError
from server.net import passwords

from .helpers import write_texts
from .typist import practise
from tests.redis_fixture import redis_server  # noqa: F401

PASSWORD = "correct horse battery"


@pytest.fixture
async def server(make_server, tmp_path):
    return await make_server(texts=write_texts(tmp_path), practice_countdown_s=0, max_wpm=10_000)


async def refused(client: Client, message: dict) -> dict:
    """The `error` a request gets (the connection stays open)."""
    with pytest.raises(ServerError) as error:
        await client.request(message)
    return error.value.error


async def register(client: Client, name: str, password: str = PASSWORD) -> dict:
    return await client.request({"type": "register", "name": name, "password": password})


async def test_a_guest_registers_and_logs_in_on_a_new_device_with_its_results(connect, server):
    ann = await connect("Ann")
    assert ann.welcome["account"] is None
    await practise(ann)
    account = await register(ann, "Ann Typist")
    assert account["type"] == "account" and account["player_id"] == ann.player_id
    assert account["name"] == "Ann Typist" and account["token"]

    # A wiped browser: no token, only the name and password.
    phone = await connect(None, "msgpack")
    welcome = await phone.login("ann typist", PASSWORD)
    assert welcome["type"] == "welcome" and welcome["player_id"] == ann.player_id
    assert (welcome["name"], welcome["account"], welcome["protocol"]) == (
        "Ann Typist", "Ann Typist", 1)
    stats = await phone.request({"type": "player_stats"})
    assert stats["races"] == 1 and stats["name"] == "Ann Typist"
    board = await phone.request({"type": "leaderboard"})
    assert [e["name"] for e in board["entries"]] == ["Ann Typist"]

    # The token from the login says hello as the account, under the account's name.
    again = await connect("Someone Else", token=welcome["token"])
    assert (again.welcome["player_id"], again.welcome["name"], again.welcome["account"]) == (
        ann.player_id, "Ann Typist", "Ann Typist")


async def test_account_names_are_one_per_account_ignoring_case(connect):
    ann = await connect("Ann")
    await register(ann, "Ann")
    bob = await connect("Bob")
    assert (await refused(bob, {"type": "register", "name": "aNN", "password": PASSWORD}))[
        "code"] == "name_taken"
    assert (await refused(bob, {"type": "register", "name": "ＡＮＮ",        # full width
                                "password": PASSWORD}))["code"] == "name_taken"
    assert (await refused(ann, {"type": "register", "name": "Ann2", "password": PASSWORD}))[
        "code"] == "already_registered"
    # A guest can't take the name either; a name near it is free.
    impostor = await connect(None)
    error = await refused(impostor, {"type": "hello", "name": " ANN "})
    assert error["code"] == "name_taken"
    assert (await impostor.hello("Anna"))["account"] is None
    assert (await register(bob, "Bobby"))["name"] == "Bobby"


async def test_a_wrong_password_and_an_unknown_name_are_told_apart_by_nothing(connect):
    await register(await connect("Ann"), "Ann")
    first = await connect(None)
    wrong = await refused(first, {"type": "login", "name": "Ann", "password": "not it at all"})
    second = await connect(None, "msgpack")
    unknown = await refused(second, {"type": "login", "name": "Nobody", "password": PASSWORD})
    assert wrong["code"] == unknown["code"] == "bad_credentials"
    assert wrong["message"] == unknown["message"]
    assert (await second.login("ann", PASSWORD))["account"] == "Ann"


async def login_refused(client: Client, name: str, password: str) -> str:
    """The error code a login gets."""
    return (await refused(client, {"type": "login", "name": name, "password": password}))[
        "code"]


async def test_failed_logins_are_limited_per_name_whatever_the_password(make_server, connect):
    server = await make_server(login_fail_burst=2, login_fail_ip_burst=100)
    ann = await connect("Ann", target=server)
    await register(ann, "Ann")
    guesser = await connect(None, target=server)
    for _ in range(2):
        assert await login_refused(guesser, "ANN", "guess-1234") == "bad_credentials"
    # Now even the right password is refused, from anywhere, for that name only.
    assert await login_refused(guesser, "Ann", PASSWORD) == "rate_limited"
    other = await connect(None, target=server)
    assert await login_refused(other, "ann", PASSWORD) == "rate_limited"
    assert await login_refused(other, "Zed", PASSWORD) == "bad_credentials"
    # The player's own connection and token are untouched.
    assert (await ann.request({"type": "ping"}))["type"] == "pong"


async def test_failed_logins_are_limited_per_address_across_names(make_server, connect):
    server = await make_server(login_fail_burst=100, login_fail_ip_burst=3)
    await register(await connect("Ann", target=server), "Ann")
    guesser = await connect(None, target=server)
    for name in ("Bea", "Cy", "Di"):
        assert await login_refused(guesser, name, "x" * 8) == "bad_credentials"
    fresh = await connect(None, target=server)        # a new connection, the same address
    assert await login_refused(fresh, "Ann", PASSWORD) == "rate_limited"


async def test_a_password_change_revokes_every_older_token(connect):
    ann = await connect("Ann")
    first = (await register(ann, "Ann"))["token"]
    laptop = await connect(None)              # (ann's older connection is closed: 4000)
    second = (await laptop.login("Ann", PASSWORD))["token"]
    assert (await refused(laptop, {"type": "change_password", "password": "wrong password",
                                   "new_password": "a brand new one"}))["code"] == (
        "bad_credentials")
    changed = await laptop.request({"type": "change_password", "password": PASSWORD,
                                    "new_password": "a brand new one"})
    assert changed["type"] == "account" and changed["player_id"] == ann.player_id
    for old in (first, second, ann.welcome["token"]):
        error = await refused(await connect(None), {"type": "hello", "name": "Ann", "token": old})
        assert error["code"] == "invalid_token"
    back = await connect("Ann", token=changed["token"])
    assert back.welcome["player_id"] == ann.player_id and back.welcome["account"] == "Ann"
    fresh = await connect(None)
    assert await login_refused(fresh, "Ann", PASSWORD) == "bad_credentials"
    assert (await fresh.login("Ann", "a brand new one"))["player_id"] == ann.player_id


async def test_a_guest_has_no_password_to_change(connect):
    guest = await connect("Gus", "msgpack")
    assert (await refused(guest, {"type": "change_password", "password": PASSWORD,
                                  "new_password": "another one"}))["code"] == "no_account"


async def test_login_after_hello_takes_the_account_but_not_from_inside_a_room(connect):
    await register(await connect("Ann"), "Ann")
    device = await connect("Guest at a library")
    await device.request({"type": "quick_race"})
    assert (await refused(device, {"type": "login", "name": "Ann", "password": PASSWORD}))[
        "code"] == "in_room"
    await device.request({"type": "leave"})
    guest_id = device.player_id
    welcome = await device.login("Ann", PASSWORD)
    assert welcome["account"] == "Ann" and welcome["player_id"] != guest_id
    assert (await device.request({"type": "player_stats"}))["player_id"] == welcome["player_id"]


async def test_the_accounts_older_connection_is_replaced_by_a_login(connect):
    ann = await connect("Ann")
    await register(ann, "Ann")
    phone = await connect(None)
    await phone.login("Ann", PASSWORD)
    with pytest.raises(Exception):
        while True:                              # the server closes the older one (4000)
            await ann.recv(timeout=10)
    assert ann.ws.close_code == 4000


@pytest.mark.password_cost
async def test_the_password_is_stored_only_as_a_salted_scrypt_hash(connect, server):
    await register(await connect("Ann"), "Ann", "same password!")
    await register(await connect("Bob"), "Bob", "same password!")
    db = sqlite3.connect(server.config.db)
    hashes = [row[0] for row in db.execute("SELECT password_hash FROM accounts")]
    db.close()
    assert len(hashes) == 2 and hashes[0] != hashes[1]          # a salt each
    assert all(h.startswith("scrypt$15$8$1$") for h in hashes)
    with open(server.config.db, "rb") as f:
        stored = f.read()
    for suffix in ("-wal",):
        try:
            with open(server.config.db + suffix, "rb") as f:
                stored += f.read()
        except FileNotFoundError:
            pass
    assert b"same password!" not in stored


class HeldHashes:
    """Password checks that wait on the worker thread until the test lets them go."""

    def __init__(self, monkeypatch):
        self.checking, self.release = threading.Event(), threading.Event()
        real = passwords.password_matches

        def held(password, stored):
            self.checking.set()
            self.release.wait(10)
            return real(password, stored)
        monkeypatch.setattr(passwords, "password_matches", held)

    async def started(self) -> None:
        """A check is running (and held)."""
        await asyncio.get_running_loop().run_in_executor(None, self.checking.wait, 10)
        assert self.checking.is_set()


async def test_a_login_being_checked_does_not_stall_anyone_else(connect, monkeypatch):
    """The hash runs on a worker thread: here it is held until the test lets it go, and
    meanwhile another player's request is answered."""
    await register(await connect("Ann"), "Ann")
    held = HeldHashes(monkeypatch)
    bob = await connect("Bob")
    device = await connect(None)
    login = asyncio.create_task(device.login("Ann", PASSWORD))
    await held.started()
    assert (await bob.request({"type": "ping"}, timeout=5))["type"] == "pong"
    assert not login.done()
    held.release.set()
    assert (await login)["account"] == "Ann"


# ---- bad input on every new field, both codecs ----------------------------------

BAD_REQUESTS = [
    # (message, code)
    ({"type": "register", "password": PASSWORD}, "bad_message"),
    ({"type": "register", "name": "Kit"}, "bad_message"),
    ({"type": "register", "name": 5, "password": PASSWORD}, "bad_message"),
    ({"type": "register", "name": "Kit", "password": 12345678}, "bad_message"),
    ({"type": "register", "name": "Kit", "password": ["a"] * 8}, "bad_message"),
    ({"type": "register", "name": "", "password": PASSWORD}, "invalid_name"),
    ({"type": "register", "name": "   ", "password": PASSWORD}, "invalid_name"),
    ({"type": "register", "name": "K" * 25, "password": PASSWORD}, "invalid_name"),
    ({"type": "register", "name": "K" * 300, "password": PASSWORD}, "invalid_name"),
    ({"type": "register", "name": "Kit\x07", "password": PASSWORD}, "invalid_name"),
    ({"type": "register", "name": "Kit", "password": "short12"}, "weak_password"),
    ({"type": "register", "name": "Kit", "password": ""}, "weak_password"),
    ({"type": "register", "name": "Kit", "password": "p" * 257}, "weak_password"),
    ({"type": "login", "password": PASSWORD}, "bad_message"),
    ({"type": "login", "name": "Kit"}, "bad_message"),
    ({"type": "login", "name": {"a": 1}, "password": PASSWORD}, "bad_message"),
    ({"type": "login", "name": "Kit", "password": True}, "bad_message"),
    ({"type": "login", "name": "Kit", "password": ""}, "bad_message"),
    ({"type": "login", "name": "Kit", "password": "p" * 257}, "bad_message"),
    ({"type": "login", "name": "", "password": PASSWORD}, "invalid_name"),
    ({"type": "login", "name": "K" * 25, "password": PASSWORD}, "invalid_name"),
    ({"type": "change_password", "new_password": PASSWORD}, "bad_message"),
    ({"type": "change_password", "password": PASSWORD}, "bad_message"),
    ({"type": "change_password", "password": 1, "new_password": PASSWORD}, "bad_message"),
    ({"type": "change_password", "password": PASSWORD, "new_password": None}, "bad_message"),
    ({"type": "change_password", "password": PASSWORD, "new_password": "short"},
     "weak_password"),
    ({"type": "change_password", "password": PASSWORD, "new_password": "n" * 257},
     "weak_password"),
]


@pytest.mark.parametrize("codec", ["json", "msgpack"])
async def test_bad_account_requests_get_a_clear_error_and_change_nothing(connect, codec):
    kit = await connect("Kit", codec)
    for n, (message, code) in enumerate(BAD_REQUESTS):
        await kit.send({**message, "id": 100 + n})
        error = await kit.expect("error")
        assert (error["code"], error["id"]) == (code, 100 + n), message
        if isinstance(message.get("password"), str):
            assert message["password"] not in error["message"] or not message["password"]
        assert (await kit.request({"type": "ping"}))["type"] == "pong"
    # Nothing was registered: the name is free, the guest has no account.
    assert (await register(kit, "Kit"))["name"] == "Kit"


@pytest.mark.parametrize("codec", ["json", "msgpack"])
async def test_a_bad_login_as_the_first_message_is_its_own_error_not_not_hello(connect, codec):
    client = await connect(None, codec)
    for message, code in BAD_REQUESTS:
        if message["type"] == "login":
            error = await refused(client, message)
            assert error["code"] == code, message
    assert (await refused(client, {"type": "register", "name": "Kit", "password": PASSWORD}))[
        "code"] == "not_hello"
    # A JSON lone surrogate is refused as text that can't be stored.
    if codec == "json":
        await client.send_raw('{"type": "login", "name": "Kit", "password": "\\ud800abcdefgh", '
                              '"id": 5}')
        error = await client.expect("error")
        assert (error["code"], error["id"]) == ("bad_message", 5)
    assert (await client.hello("Kit"))["account"] is None


async def test_logging_in_on_another_process_gives_the_seat_back(make_server, redis_server,
                                                                 connect):
    """With --redis-url, an account that lost its connection mid-room logs in (no token:
    a new device) through another process and is back in its seat there."""
    a, b, c = [await make_server(redis_url=redis_server.url) for _ in range(3)]
    host = await connect("Host", target=a)
    created = await host.request({"type": "create_room"})
    ann = await connect("Ann", "msgpack", target=b)
    await register(ann, "Ann")
    joined = await ann.request({"type": "join_room", "code": created["room"]["code"]})
    await ann.close()
    await host.expect("room", where=lambda m: [p["connected"] for p in m["room"]["players"]]
                      == [True, False])
    phone = await connect(None, target=c)              # neither the room's nor the old one
    welcome = await phone.login("ann", PASSWORD)
    assert welcome["player_id"] == ann.player_id
    again = await phone.expect("joined")
    assert (again["room"]["room_id"], again["slot"]) == (joined["room"]["room_id"],
                                                        joined["slot"])
    await host.expect("room", where=lambda m: [p["connected"] for p in m["room"]["players"]]
                      == [True, True])
    await host.send({"type": "start"})
    await phone.expect("countdown")                     # the room's traffic follows it


async def test_too_many_logins_waiting_for_the_hasher_are_refused_not_queued(
        connect, server, monkeypatch):
    await register(await connect("Ann"), "Ann")
    held = HeldHashes(monkeypatch)
    server.passwords.max_waiting = 1
    first = await connect(None)
    login = asyncio.create_task(first.login("Ann", PASSWORD))
    await held.started()
    busy = await login_refused(await connect(None, "msgpack"), "Ann", PASSWORD)
    held.release.set()
    assert busy == "rate_limited"
    assert (await login)["account"] == "Ann"


async def test_look_alike_names_are_the_accounts_and_invisible_fillers_are_refused(connect):
    await register(await connect("Ann"), "Ann")
    bob = await connect("Bob")
    for twin in ("\u0410nn", "\u0391nn", "\U0001d400nn", "Ann\ufe0f"):   # Cyrillic, Greek, bold
        assert (await refused(bob, {"type": "register", "name": twin, "password": PASSWORD}))[
            "code"] == "name_taken", twin
        assert (await refused(await connect(None), {"type": "hello", "name": twin}))[
            "code"] == "name_taken", twin
    for filler in ("\u3164", "\u2800", "\u115f", "\u034f"):
        for message in ({"type": "register", "name": "Ann" + filler, "password": PASSWORD},
                        {"type": "hello", "name": "Ann" + filler}):
            client = bob if message["type"] == "register" else await connect(None)
            assert (await refused(client, message))["code"] == "invalid_name", message
    # The look-alike logs in to the account (it is the same name).
    assert (await (await connect(None)).login("\u0410NN", PASSWORD))["account"] == "Ann"


async def test_a_returning_guest_whose_name_became_an_account_is_renamed_and_told(connect):
    carol = await connect("Carol")
    await practise(carol)
    token = carol.welcome["token"]
    await carol.close()
    await register(await connect("Someone"), "Carol")          # another player takes it
    back = await connect(None)
    welcome = await back.hello("Carol", token)
    assert welcome["player_id"] == carol.player_id and welcome["account"] is None
    assert welcome["renamed_from"] == "Carol"
    assert welcome["name"] == f"Carol~{carol.player_id[-4:]}"
    stats = await back.request({"type": "player_stats"})
    assert stats["races"] == 1 and stats["name"] == welcome["name"]   # her results, not Carol's
    # The same name each time she comes back; a new guest is refused the name outright.
    again = await connect(None)
    assert (await again.hello("Carol", welcome["token"]))["name"] == welcome["name"]
    assert (await refused(await connect(None), {"type": "hello", "name": "Carol"}))[
        "code"] == "name_taken"


async def test_accounts_made_before_look_alikes_were_one_name_still_log_in(
        make_server, connect, tmp_path):
    """A database from before: "Ann" and the Cyrillic "Аnn" were two accounts, "Tim" was
    keyed "tim". The server keys them again at start: the older "Ann" takes the shared
    key, the younger keeps its own spelling's, and both log in; "Tirn" is Tim's now."""
    from server.core.accounts import legacy_name_key
    from server.core.passwords import hash_password
    from server.store.sqlite import SqliteStore
    db = str(tmp_path / "before.db")
    store = SqliteStore(db)
    await store.open()
    for n, name in enumerate(["Ann", "\u0410nn", "Tim"]):
        await store.create_account(f"p{n}", name, legacy_name_key(name),
                                   hash_password(f"{PASSWORD} {n}", bytes(16)),
                                   1_700_000_000_000 + n)
    await store.close()
    server = await make_server(db=db)
    for name, player_id in [("ann", "p0"), ("\u0410nn", "p1"), ("TIM", "p2")]:
        device = await connect(None, target=server)
        welcome = await device.login(name, f"{PASSWORD} {player_id[1]}")
        assert welcome["player_id"] == player_id, name
        # Its own password is the one checked when it changes it.
        changed = await device.request({"type": "change_password",
                                        "password": f"{PASSWORD} {player_id[1]}",
                                        "new_password": f"new for {player_id}"})
        assert changed["player_id"] == player_id
    twin = await connect(None, target=server)
    assert (await twin.login("\u0410nn", "new for p1"))["player_id"] == "p1"
    guest = await connect("Guest", target=server)
    assert (await refused(guest, {"type": "register", "name": "Tirn", "password": PASSWORD}))[
        "code"] == "name_taken"
