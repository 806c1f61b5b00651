"""Accounts: `register` attaches a name and password to the player who asks (its
player_id and everything saved under it stay), `login` says who a connection is from
any device, `change_password` revokes every older token (server/core/tokens.py).

Passwords are hashed off the loop (server/net/passwords.py), compared in constant time
and never logged; failed logins are limited per name and per address
(server/core/accounts.py) before any hash is computed.
"""

from __future__ import annotations

import logging

from protocol.messages import ProtocolError, clean_name
from protocol.codes import ErrorCode
from server.core import tokens
from server.core.accounts import name_key
from server.net.handlers.identity import admit, banned, name_taken
from server.net.logs import event
from server.store import AlreadyRegistered, NameTaken

log = logging.getLogger("typerace")


def _already() -> ProtocolError:
    return ProtocolError(ErrorCode.ALREADY_REGISTERED, "this player has an account already")


async def register(app, conn, req) -> None:
    if conn.account is not None:
        raise _already()
    name = clean_name(req.args["name"])
    key = name_key(name)
    known = await app.store.check_identity(conn.player_id, key)
    if known.account is not None:
        raise _already()
    if known.name_owner is not None:
        raise name_taken(name)
    password_hash = await app.passwords.hash(req.args["password"])
    try:
        await app.store.create_account(conn.player_id, name, key, password_hash,
                                       app.clock.now_ms())
    except NameTaken:                 # another process took it meanwhile
        raise name_taken(name) from None
    except AlreadyRegistered:
        raise _already() from None
    conn.name = conn.account = name
    event(log, "account_registered", player=conn.player_id, ip=conn.ip)
    _send_account(app, conn, req)


async def login(app, conn, req) -> None:
    if conn.player_id is not None and _in_room(app, conn):
        raise ProtocolError(ErrorCode.IN_ROOM, "leave your room (or stop watching) before logging in")
    key = name_key(clean_name(req.args["name"]))
    _check_limit(app, conn, key)
    account = await app.store.get_account(key)
    stored = account.password_hash if account is not None else None
    if not await app.passwords.matches(req.args["password"], stored):
        app.failed_logins.failed(key, conn.ip, app.clock.monotonic())
        # (Not the name: people type their password into the name field.)
        event(log, "login_failed", player=conn.player_id, ip=conn.ip)
        raise ProtocolError(ErrorCode.BAD_CREDENTIALS, "wrong name or password")
    if account.banned:
        raise banned()
    if conn.player_id is not None and app.conns.get(conn.player_id) is conn:
        del app.conns[conn.player_id]           # the guest this connection was
    event(log, "login", player=account.player_id, ip=conn.ip)
    await admit(app, conn, req, account.player_id, account.name, account.name,
                account.token_generation)


async def change_password(app, conn, req) -> None:
    if conn.account is None:
        raise ProtocolError(ErrorCode.NO_ACCOUNT, "a guest has no password: register first")
    key = name_key(conn.account)
    _check_limit(app, conn, key)
    account = await app.store.get_account(key)
    if not await app.passwords.matches(req.args["password"], account.password_hash):
        app.failed_logins.failed(key, conn.ip, app.clock.monotonic())
        raise ProtocolError(ErrorCode.BAD_CREDENTIALS, "wrong password")
    password_hash = await app.passwords.hash(req.args["new_password"])
    conn.generation = await app.store.set_password(conn.player_id, password_hash)
    event(log, "password_changed", player=conn.player_id, ip=conn.ip)
    _send_account(app, conn, req)


def _check_limit(app, conn, key: str) -> None:
    if not app.failed_logins.allowed(key, conn.ip, app.clock.monotonic()):
        raise ProtocolError(ErrorCode.RATE_LIMITED, "too many wrong passwords for this name or from "
                            "your address; wait a minute")


def _in_room(app, conn) -> bool:
    return app.lobby.room_of(conn.player_id) is not None or app.cluster.forwards(conn)


def _send_account(app, conn, req) -> None:
    app.delivery.reply(conn, req, {
        "type": "account", "player_id": conn.player_id, "name": conn.name,
        "token": tokens.sign(app.secret, conn.player_id, conn.generation)})


HANDLERS = {"register": register, "login": login, "change_password": change_password}
