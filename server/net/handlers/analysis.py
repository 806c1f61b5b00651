"""Knowing your typing: one race analysed (`race_analysis`) and a player's per-key and
per-bigram statistics (`key_stats`)."""

from __future__ import annotations

from protocol.messages import ProtocolError
from server.core.keystats import entry, weakest


async def race_analysis(app, conn, req) -> None:
    view = await app.analyses.view(req.args["race_id"], req.args["slot"], conn.player_id)
    app.delivery.reply(conn, req, {"type": "race_analysis", **view})


async def key_stats(app, conn, req) -> None:
    player_id = req.args.get("player_id") or conn.player_id
    kept = await app.store.key_stats(player_id)
    if kept is None:
        if player_id != conn.player_id and await app.store.player_stats(player_id) is None:
            raise ProtocolError("player_not_found", "no player has that id")
        kept = ({}, {})
    keys, bigrams = kept
    app.delivery.reply(conn, req, {
        "type": "key_stats", "player_id": player_id,
        "keys": [entry("key", k, *keys[k])
                 for k in sorted(keys, key=lambda k: (-keys[k][0], k))],
        "bigrams": [entry("bigram", b, *bigrams[b]) for b in weakest(bigrams)]})


HANDLERS = {"race_analysis": race_analysis, "key_stats": key_stats}
