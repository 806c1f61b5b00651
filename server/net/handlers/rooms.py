"""Rooms: quick races, private rooms and their host controls, practice, watching."""

from __future__ import annotations

from protocol.messages import ProtocolError, parse_settings
from protocol.codes import ErrorCode
from server.net.ghosts import find_ghost
from server.net.handlers.analysis import weak_keys_practice
from server.net.handlers.identity import send_joined


async def quick_race(ctx, conn, req) -> None:
    prefer = ctx.cluster.matched(conn)       # a seat claimed on this process, if any
    text = await ctx.library.random_text()
    room, seat = ctx.lobby.quick_race(conn.player_id, conn.name, text, ctx.clock.now_ms(),
                                      prefer, conn.rating)
    with ctx.delivery.holding(conn):     # `joined` first; the room's frames after it
        send_joined(ctx, conn, req, room, seat.slot)
        await ctx.cluster.quick_race_joined(conn, room, prefer)


async def create_room(ctx, conn, req) -> None:
    settings = parse_settings(req.args.get("settings") or {})
    text = await ctx.library.chosen(settings.get("text_id"))
    room, seat = ctx.lobby.create_room(conn.player_id, conn.name, settings, text,
                                       ctx.clock.now_ms())
    with ctx.delivery.holding(conn):     # shown once its codes work everywhere
        send_joined(ctx, conn, req, room, seat.slot)
        await ctx.cluster.room_created(room)


def _guarded(ctx, conn, attempt):
    """A join or watch by code, refused while this connection or its IP has used up
    its failed attempts (unknown codes); see server/core/joinguard.py."""
    now = ctx.clock.monotonic()
    if not ctx.failed_joins.allowed(conn.join_bucket, conn.ip, now):
        raise ProtocolError(ErrorCode.RATE_LIMITED, "too many unknown codes; wait a minute "
                            "before trying another")
    try:
        return attempt()
    except ProtocolError as exc:
        if exc.code == ErrorCode.ROOM_NOT_FOUND:
            ctx.failed_joins.failed(conn.join_bucket, conn.ip, now)
        raise


async def join_room(ctx, conn, req) -> None:
    room, seat = _guarded(ctx, conn, lambda: ctx.lobby.join_room(
        conn.player_id, conn.name, req.args["code"], ctx.clock.now_ms()))
    send_joined(ctx, conn, req, room, seat.slot)


async def practice(ctx, conn, req) -> None:
    if req.args.get("weak_keys"):
        return await weak_keys_practice(ctx, conn, req)
    text_id, ghost = req.args.get("text_id"), req.args.get("ghost")
    text = await ctx.library.chosen(text_id) if text_id or not ghost else None
    if ghost:
        ghost = await find_ghost(ctx.store, conn.player_id, ghost, text_id)
        text = text or await ctx.library.chosen(ghost.text_id)
    room, seat = ctx.lobby.practice(conn.player_id, conn.name, text, ctx.clock.now_ms(),
                                    ghost)
    send_joined(ctx, conn, req, room, seat.slot)


async def watch(ctx, conn, req) -> None:
    now = ctx.clock.now_ms()
    room = _guarded(ctx, conn, lambda: ctx.lobby.watch(conn.player_id, req.args["code"], now))
    ctx.delivery.reply(conn, req, {"type": "watching", "room": room.view(False)})
    for message in ctx.lobby.catch_up(room, now):
        ctx.delivery.send(conn, message)


async def list_races(ctx, conn, req) -> None:
    rooms = [r.view(False) for r in ctx.lobby.open_public_rooms()]
    rooms += await ctx.cluster.other_races()
    ctx.delivery.reply(conn, req, {"type": "races", "rooms": rooms})


async def leave(ctx, conn, req) -> None:
    room = ctx.lobby.leave(conn.player_id, ctx.clock.now_ms())
    if room is None:
        raise ProtocolError(ErrorCode.NOT_IN_ROOM, "you are not in a room")
    ctx.delivery.reply(conn, req, {"type": "left"})


async def start(ctx, conn, req) -> None:
    room, _ = ctx.lobby.hosted_room(conn.player_id)     # fail before any store look-up
    if await ctx.library.text(room.text.text_id) is None:
        # Hidden since the room chose it: its countdown would send the whole body.
        raise ProtocolError(ErrorCode.TEXT_NOT_FOUND, "this room's text has been hidden; choose "
                            "another (configure) before starting")
    ctx.lobby.start(conn.player_id, ctx.clock.now_ms())


async def kick(ctx, conn, req) -> None:
    ctx.lobby.kick(conn.player_id, req.args["slot"], ctx.clock.now_ms())


async def configure(ctx, conn, req) -> None:
    settings = parse_settings(req.args["settings"])
    room, _ = ctx.lobby.hosted_room(conn.player_id)     # fail before any store look-up
    text = None
    if "text_id" in settings:       # null: a random text, drawn now (not the one shown)
        text = await ctx.library.chosen(settings["text_id"], other_than=room.text.text_id)
    ctx.lobby.configure(conn.player_id, settings, text, ctx.clock.now_ms())


async def rematch(ctx, conn, req) -> None:
    room, _ = ctx.lobby.hosted_room(conn.player_id)
    text = await ctx.library.random_text(other_than=room.text.text_id)
    ctx.lobby.rematch(conn.player_id, text, ctx.clock.now_ms())


HANDLERS = {"quick_race": quick_race, "create_room": create_room, "join_room": join_room,
            "practice": practice, "watch": watch, "list_races": list_races, "leave": leave,
            "start": start, "kick": kick, "configure": configure, "rematch": rematch}
