"""Rooms: quick races, private rooms and their host controls, practice, watching."""

from __future__ import annotations

from protocol.messages import ProtocolError, parse_settings
from protocol.codes import ErrorCode
from server.net.ghosts import find_ghost
from server.net.handlers.analysis import weak_keys_practice
from server.net.handlers.identity import send_joined


async def quick_race(app, conn, req) -> None:
    prefer = app.cluster.matched(conn)       # a seat claimed on this process, if any
    text = await app.library.random_text()
    room, seat = app.lobby.quick_race(conn.player_id, conn.name, text, app.clock.now_ms(),
                                      prefer, conn.rating)
    with app.delivery.holding(conn):     # `joined` first; the room's frames after it
        send_joined(app, conn, req, room, seat.slot)
        await app.cluster.quick_race_joined(conn, room, prefer)


async def create_room(app, conn, req) -> None:
    settings = parse_settings(req.args.get("settings") or {})
    text = await app.library.chosen(settings.get("text_id"))
    room, seat = app.lobby.create_room(conn.player_id, conn.name, settings, text,
                                       app.clock.now_ms())
    with app.delivery.holding(conn):     # shown once its codes work everywhere
        send_joined(app, conn, req, room, seat.slot)
        await app.cluster.room_created(room)


def _guarded(app, conn, attempt):
    """A join or watch by code, refused while this connection or its IP has used up
    its failed attempts (unknown codes); see server/core/joinguard.py."""
    now = app.clock.monotonic()
    if not app.failed_joins.allowed(conn.join_bucket, conn.ip, now):
        raise ProtocolError(ErrorCode.RATE_LIMITED, "too many unknown codes; wait a minute "
                            "before trying another")
    try:
        return attempt()
    except ProtocolError as exc:
        if exc.code == ErrorCode.ROOM_NOT_FOUND:
            app.failed_joins.failed(conn.join_bucket, conn.ip, now)
        raise


async def join_room(app, conn, req) -> None:
    room, seat = _guarded(app, conn, lambda: app.lobby.join_room(
        conn.player_id, conn.name, req.args["code"], app.clock.now_ms()))
    send_joined(app, conn, req, room, seat.slot)


async def practice(app, conn, req) -> None:
    if req.args.get("weak_keys"):
        return await weak_keys_practice(app, conn, req)
    text_id, ghost = req.args.get("text_id"), req.args.get("ghost")
    text = await app.library.chosen(text_id) if text_id or not ghost else None
    if ghost:
        ghost = await find_ghost(app.store, conn.player_id, ghost, text_id)
        text = text or await app.library.chosen(ghost.text_id)
    room, seat = app.lobby.practice(conn.player_id, conn.name, text, app.clock.now_ms(),
                                    ghost)
    send_joined(app, conn, req, room, seat.slot)


async def watch(app, conn, req) -> None:
    now = app.clock.now_ms()
    room = _guarded(app, conn, lambda: app.lobby.watch(conn.player_id, req.args["code"], now))
    app.delivery.reply(conn, req, {"type": "watching", "room": room.view(False)})
    for message in app.lobby.catch_up(room, now):
        app.delivery.send(conn, message)


async def list_races(app, conn, req) -> None:
    rooms = [r.view(False) for r in app.lobby.open_public_rooms()]
    rooms += await app.cluster.other_races()
    app.delivery.reply(conn, req, {"type": "races", "rooms": rooms})


async def leave(app, conn, req) -> None:
    room = app.lobby.leave(conn.player_id, app.clock.now_ms())
    if room is None:
        raise ProtocolError(ErrorCode.NOT_IN_ROOM, "you are not in a room")
    app.delivery.reply(conn, req, {"type": "left"})


async def start(app, conn, req) -> None:
    room, _ = app.lobby.hosted_room(conn.player_id)     # fail before any store look-up
    if await app.library.text(room.text.text_id) is None:
        # Hidden since the room chose it: its countdown would send the whole body.
        raise ProtocolError(ErrorCode.TEXT_NOT_FOUND, "this room's text has been hidden; choose "
                            "another (configure) before starting")
    app.lobby.start(conn.player_id, app.clock.now_ms())


async def kick(app, conn, req) -> None:
    app.lobby.kick(conn.player_id, req.args["slot"], app.clock.now_ms())


async def configure(app, conn, req) -> None:
    settings = parse_settings(req.args["settings"])
    room, _ = app.lobby.hosted_room(conn.player_id)     # fail before any store look-up
    text = None
    if "text_id" in settings:       # null: a random text, drawn now (not the one shown)
        text = await app.library.chosen(settings["text_id"], other_than=room.text.text_id)
    app.lobby.configure(conn.player_id, settings, text, app.clock.now_ms())


async def rematch(app, conn, req) -> None:
    room, _ = app.lobby.hosted_room(conn.player_id)
    text = await app.library.random_text(other_than=room.text.text_id)
    app.lobby.rematch(conn.player_id, text, app.clock.now_ms())


HANDLERS = {"quick_race": quick_race, "create_room": create_room, "join_room": join_room,
            "practice": practice, "watch": watch, "list_races": list_races, "leave": leave,
            "start": start, "kick": kick, "configure": configure, "rematch": rematch}
