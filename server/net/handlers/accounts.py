"""Accounts: `register` attaches a name and password to the player who asks (its
player_id and everything saved under it stay), `login` says who a connection is from
any device, `change_password` revokes every older token (server/core/tokens.py).

Passwords are hashed off the loop (server/net/passwords.py, a fair share per address
and account), compared in constant time and never logged. Every password check first
takes a try from the store's shared limits (server/core/accounts.py), before any hash,
and gives it back when the password was right; sign-ups are limited per address.
"""

from __future__ import annotations

import logging

from protocol.messages import ProtocolError, clean_name
from protocol.codes import ErrorCode
from server.core import tokens
from server.core.accounts import Allowance, legacy_name_key, name_key, registrations
from server.net.handlers.identity import admit, banned, name_taken
from server.net.logs import event
from server.store import AlreadyRegistered, NameTaken

log = logging.getLogger("typerace")


def _already() -> ProtocolError:
    return ProtocolError(ErrorCode.ALREADY_REGISTERED, "this player has an account already")


async def register(ctx, conn, req) -> None:
    if conn.account is not None:
        raise _already()
    name = clean_name(req.args["name"])
    key = name_key(name)
    known = await ctx.store.check_identity(conn.player_id, key)
    if known.account is not None:
        raise _already()
    if known.name_owner is not None:
        raise name_taken(name)
    allowances = registrations(conn.ip)
    await _take(ctx, allowances, "too many accounts were made from your address; "
                "try again later")
    try:
        password_hash = await ctx.passwords.hash(req.args["password"], conn.ip, key)
        await ctx.store.create_account(conn.player_id, name, key, password_hash,
                                       ctx.clock.now_ms())
    except NameTaken:                 # another process took it meanwhile
        await _give_back(ctx, allowances)
        raise name_taken(name) from None
    except AlreadyRegistered:
        await _give_back(ctx, allowances)
        raise _already() from None
    except ProtocolError:             # the hasher is busy: nothing was made
        await _give_back(ctx, allowances)
        raise
    conn.name = conn.account = name
    event(log, "account_registered", player=conn.player_id, ip=conn.ip)
    _send_account(ctx, conn, req)


async def login(ctx, conn, req) -> None:
    if conn.player_id is not None and _in_room(ctx, conn):
        raise ProtocolError(ErrorCode.IN_ROOM, "leave your room (or stop watching) before logging in")
    name = clean_name(req.args["name"])
    key = name_key(name)
    account = await _find_account(ctx, name, key)
    stored = account.password_hash if account is not None else None
    if not await _password_checked(ctx, conn, ctx.login_limits.login(key, conn.ip),
                                   "too many wrong passwords for this name or from your "
                                   "address; wait a minute", key, req.args["password"],
                                   stored):
        # (Not the name: people type their password into the name field.)
        event(log, "login_failed", player=conn.player_id, ip=conn.ip)
        raise ProtocolError(ErrorCode.BAD_CREDENTIALS, "wrong name or password")
    if account.banned:
        raise banned()
    if conn.player_id is not None and ctx.conns.get(conn.player_id) is conn:
        del ctx.conns[conn.player_id]           # the guest this connection was
    event(log, "login", player=account.player_id, ip=conn.ip)
    await admit(ctx, conn, req, account.player_id, account.name, account.name,
                account.token_generation)


async def change_password(ctx, conn, req) -> None:
    if conn.account is None:
        raise ProtocolError(ErrorCode.NO_ACCOUNT, "a guest has no password: register first")
    key = name_key(conn.account)
    account = await _find_account(ctx, conn.account, key)
    # Charged to this account's own limit, not the name's: strangers' wrong logins
    # must not keep its owner from changing the password (server/core/accounts.py).
    if not await _password_checked(ctx, conn, ctx.login_limits.password_change(
            conn.player_id), "too many wrong passwords for this account; wait a minute",
            key, req.args["password"], account.password_hash):
        raise ProtocolError(ErrorCode.BAD_CREDENTIALS, "wrong password")
    password_hash = await ctx.passwords.hash(req.args["new_password"], conn.ip, key)
    conn.generation = await ctx.store.set_password(conn.player_id, password_hash)
    event(log, "password_changed", player=conn.player_id, ip=conn.ip)
    _send_account(ctx, conn, req)


async def _find_account(ctx, name: str, key: str):
    account = None
    if legacy_name_key(name) != key:
        # An account made before look-alikes were one name, whose look-alike was made
        # first, kept the key of its own spelling (Store.rekey_accounts): that spelling
        # is its. (Every other account moved to its new key.)
        account = await ctx.store.get_account(legacy_name_key(name))
    return account if account is not None else await ctx.store.get_account(key)


async def _password_checked(ctx, conn, allowances: tuple[Allowance, ...], refusal: str,
                            key: str, password: str, stored: str | None) -> bool:
    """Is the password right? A try is taken from the limits before the hash (so
    requests sent at once can't all be checked; `rate_limited` with `refusal` when
    there is none) and given back when it was right, or when the hasher refused it
    unchecked."""
    await _take(ctx, allowances, refusal)
    try:
        right = await ctx.passwords.matches(password, stored, conn.ip, key)
    except ProtocolError:
        await _give_back(ctx, allowances)
        raise
    if right:
        await _give_back(ctx, allowances)
    return right


async def _take(ctx, allowances: tuple[Allowance, ...], refusal: str) -> None:
    if not await ctx.store.take_allowances(allowances, ctx.clock.now_ms()):
        raise ProtocolError(ErrorCode.RATE_LIMITED, refusal)


async def _give_back(ctx, allowances: tuple[Allowance, ...]) -> None:
    await ctx.store.give_back_allowances(allowances, ctx.clock.now_ms())


def _in_room(ctx, conn) -> bool:
    return ctx.lobby.room_of(conn.player_id) is not None or ctx.cluster.forwards(conn)


def _send_account(ctx, conn, req) -> None:
    ctx.delivery.reply(conn, req, {
        "type": "account", "player_id": conn.player_id, "name": conn.name,
        "token": tokens.sign(ctx.secret, conn.player_id, conn.generation)})


HANDLERS = {"register": register, "login": login, "change_password": change_password}
