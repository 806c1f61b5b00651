"""Saying hello: who the player is, and getting back to a seat after a reconnection."""

from __future__ import annotations

from protocol import CLOSE_REPLACED, PROTOCOL_VERSION
from protocol.messages import ProtocolError, clean_name
from server.core import tokens


async def hello(app, conn, req) -> None:
    if conn.player_id is not None:
        raise ProtocolError("bad_message", "hello was already said on this connection")
    name = clean_name(req.args["name"])
    token = req.args.get("token")
    if token:
        player_id = tokens.verify(app.secret, token)
        if player_id is None:
            raise ProtocolError("invalid_token", "that token was not issued by this server; "
                                "say hello without it to get a new one")
    else:
        player_id = tokens.new_player_id()
        token = tokens.sign(app.secret, player_id)
    now = app.clock.now_ms()
    await app.store.touch_player(player_id, name, now)
    old = app.conns.get(player_id)
    conn.player_id, conn.name = player_id, name
    app.conns[player_id] = conn
    if old is not None:
        old.link.close(CLOSE_REPLACED, "replaced by a newer connection")
    app.delivery.reply(conn, req, {"type": "welcome", "player_id": player_id, "name": name,
                                   "token": token, "server_ms": now,
                                   "protocol": PROTOCOL_VERSION})
    resume_seat(app, conn, now)


def resume_seat(app, conn, now: int) -> bool:
    """Back within the grace period: the seat, the race so far and its own typing; or,
    for a spectator's newer connection, the room it watches. False: nothing to resume."""
    lobby, delivery = app.lobby, app.delivery
    seated = lobby.reconnect(conn.player_id, now)
    if seated is not None:
        room, seat = seated
        send_joined(app, conn, None, room, seat.slot)
        resume = lobby.racer_state(room, seat.slot)
        if resume is not None:
            delivery.send(conn, resume)
        return True
    room = lobby.watching.get(conn.player_id)
    if room is not None:
        delivery.send(conn, {"type": "watching", "room": room.view(False)})
        for message in lobby.catch_up(room, now):
            delivery.send(conn, message)
        return True
    return False


def send_joined(app, conn, req, room, slot: int) -> None:
    """`joined` (the reply to `req`, or on its own), then what the room already said."""
    app.delivery.reply(conn, req, {"type": "joined", "room": room.view(True), "slot": slot})
    for catch_up in app.lobby.catch_up(room, app.clock.now_ms()):
        app.delivery.send(conn, catch_up)


async def ping(app, conn, req) -> None:
    app.delivery.reply(conn, req, {"type": "pong", "server_ms": app.clock.now_ms()})


HANDLERS = {"hello": hello, "ping": ping}
