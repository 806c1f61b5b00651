"""Saying hello: who the player is (a guest, or a token), and getting back to a seat
after a reconnection. A revoked token, a banned player and a new guest taking an
account's name are refused here (a returning guest is renamed); the store is read once per hello for that, never per message.
(Accounts themselves: handlers/accounts.py.)"""

from __future__ import annotations

import logging

from protocol import PROTOCOL_VERSION
from protocol.messages import ProtocolError, clean_name
from protocol.codes import CloseCode, ErrorCode
from server.core import tokens
from server.core.accounts import guest_name, name_key
from server.net.logs import event
from server.store import StoreUnavailable

log = logging.getLogger("typerace")

def banned() -> ProtocolError:
    return ProtocolError(ErrorCode.BANNED, "this player is banned from this server",
                         close=CloseCode.POLICY)


def name_taken(name: str) -> ProtocolError:
    return ProtocolError(ErrorCode.NAME_TAKEN, f"{name} is the name of an account: log in with its "
                         "password, or choose another name")


async def hello(ctx, conn, req) -> None:
    if conn.player_id is not None:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "hello was already said on this connection")
    name = clean_name(req.args["name"])
    token = req.args.get("token")
    if token:
        signed = tokens.verify(ctx.secret, token)
        if signed is None:
            raise ProtocolError(ErrorCode.INVALID_TOKEN, "that token was not issued by this server; "
                                "say hello without it to get a new one")
        player_id, generation = signed
    else:
        player_id, generation = tokens.new_player_id(), 0
    known = await ctx.store.check_identity(player_id if token else None, name_key(name))
    if generation != known.token_generation:
        raise ProtocolError(ErrorCode.INVALID_TOKEN, "that token was revoked by a password change: "
                            "log in with your name and password")
    if known.banned:
        raise banned()
    renamed_from = None
    if known.account is not None:
        name = known.account              # an account races under its own name
    elif known.name_owner is not None:
        if not token:                     # a new guest: another name, please
            raise name_taken(name)
        # A returning guest whose name became an account's since: she keeps who she
        # is (results, seat) under a name of her own, and is told (docs/accounts.md).
        renamed_from, name = name, guest_name(name, player_id)
        if (await ctx.store.check_identity(None, name_key(name))).name_owner is not None:
            raise name_taken(renamed_from)
    await admit(ctx, conn, req, player_id, name, known.account, generation, renamed_from)


async def admit(ctx, conn, req, player_id: str, name: str, account: str | None,
                generation: int, renamed_from: str | None = None) -> None:
    """The connection is this player now: `welcome`, and its seat back if one is held.
    `renamed_from`: the name the player asked for, when an account has it."""
    now = ctx.clock.now_ms()
    returning = bool(req.args.get("token")) or account is not None
    if req.args.get("token"):
        # A returning player's kept row (if any) takes the name it uses now; a guest
        # is stored only once it has a result, a text or an account (the token needs
        # no row).
        try:
            await ctx.store.rename_player(player_id, name, now)
        except StoreUnavailable:        # its next result brings the name along
            event(log, "rename_deferred", level=logging.WARNING, player=player_id)
    if returning:
        # Only a returning player (a token, or a login) can have results: a new one
        # is unrated.
        try:
            conn.rating = await ctx.store.rating(player_id)
        except StoreUnavailable:        # matched as unrated until its next result
            event(log, "rating_deferred", level=logging.WARNING, player=player_id)
    old = ctx.conns.get(player_id)
    conn.player_id, conn.name = player_id, name
    conn.account, conn.generation = account, generation
    ctx.conns[player_id] = conn
    if old is not None and old is not conn:
        old.link.close(CloseCode.REPLACED, "replaced by a newer connection")
    welcome = {"type": "welcome", "player_id": player_id, "name": name,
               "token": tokens.sign(ctx.secret, player_id, generation),
               "server_ms": now, "protocol": PROTOCOL_VERSION, "account": account}
    if renamed_from is not None:
        welcome["renamed_from"] = renamed_from
    ctx.delivery.reply(conn, req, welcome)
    resume_seat(ctx, conn, now)
    await ctx.cluster.admitted(conn, returning)   # a seat held on another process


def resume_seat(ctx, conn, now: int) -> bool:
    """Back within the grace period: the seat, the race so far and its own typing; or,
    for a spectator's newer connection, the room it watches. False: nothing to resume."""
    lobby, delivery = ctx.lobby, ctx.delivery
    seated = lobby.reconnect(conn.player_id, now)
    if seated is not None:
        room, seat = seated
        send_joined(ctx, conn, None, room, seat.slot)
        resume = lobby.racer_state(room, seat.slot)
        if resume is not None:
            delivery.send(conn, resume)
        return True
    room = lobby.watched_room(conn.player_id)
    if room is not None:
        delivery.send(conn, {"type": "watching", "room": room.view(False)})
        for message in lobby.catch_up(room, now):
            delivery.send(conn, message)
        return True
    return False


def send_joined(ctx, conn, req, room, slot: int, **extra) -> None:
    """`joined` (the reply to `req`, or on its own), then what the room already said."""
    ctx.delivery.reply(conn, req, {"type": "joined", "room": room.view(True), "slot": slot,
                                   **extra})
    for catch_up in ctx.lobby.catch_up(room, ctx.clock.now_ms()):
        ctx.delivery.send(conn, catch_up)


async def ping(ctx, conn, req) -> None:
    ctx.delivery.reply(conn, req, {"type": "pong", "server_ms": ctx.clock.now_ms()})


HANDLERS = {"hello": hello, "ping": ping}
