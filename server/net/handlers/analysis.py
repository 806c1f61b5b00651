"""Knowing your typing: one race analysed (`race_analysis`), a player's per-key and
per-bigram statistics (`key_stats`), and practice on a passage composed for the
player's weak keys (`practice` {weak_keys: true}, which rooms.practice hands over)."""

from __future__ import annotations

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.core.keystats import entry, weakest
from server.net.handlers.identity import send_joined


async def race_analysis(ctx, conn, req) -> None:
    view = await ctx.analyses.view(req.args["race_id"], req.args["slot"], conn.player_id)
    ctx.delivery.reply(conn, req, {"type": "race_analysis", **view})


async def key_stats(ctx, conn, req) -> None:
    player_id = req.args.get("player_id") or conn.player_id
    kept = await ctx.store.key_stats(player_id)
    if kept is None:
        if player_id != conn.player_id and await ctx.store.player_stats(player_id) is None:
            raise ProtocolError(ErrorCode.PLAYER_NOT_FOUND, "no player has that id")
        kept = ({}, {})
    keys, bigrams = kept
    ctx.delivery.reply(conn, req, {
        "type": "key_stats", "player_id": player_id,
        "keys": [entry("key", k, *keys[k])
                 for k in sorted(keys, key=lambda k: (-keys[k][0], k))],
        "bigrams": [entry("bigram", b, *bigrams[b]) for b in weakest(bigrams)]})


async def weak_keys_practice(ctx, conn, req) -> None:
    """`practice` {weak_keys: true}: a passage composed for the player's weakest bigrams
    (an ordinary one, with `notice` saying why, when there is nothing to go on)."""
    text, notice = await ctx.weak_keys.text_for(conn.player_id)
    room, seat = ctx.lobby.practice(conn.player_id, conn.name, text, ctx.clock.now_ms())
    send_joined(ctx, conn, req, room, seat.slot, **({"notice": notice} if notice else {}))


HANDLERS = {"race_analysis": race_analysis, "key_stats": key_stats}
