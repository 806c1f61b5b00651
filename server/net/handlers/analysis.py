"""Knowing your typing: one race analysed (`race_analysis`), a player's per-key and
per-bigram statistics (`key_stats`), and practice on a passage composed for the
player's weak keys (`practice` {weak_keys: true}, which rooms.practice hands over)."""

from __future__ import annotations

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.core.keystats import entry, weakest
from server.net.handlers.identity import send_joined


async def race_analysis(app, conn, req) -> None:
    view = await app.analyses.view(req.args["race_id"], req.args["slot"], conn.player_id)
    app.delivery.reply(conn, req, {"type": "race_analysis", **view})


async def key_stats(app, conn, req) -> None:
    player_id = req.args.get("player_id") or conn.player_id
    kept = await app.store.key_stats(player_id)
    if kept is None:
        if player_id != conn.player_id and await app.store.player_stats(player_id) is None:
            raise ProtocolError(ErrorCode.PLAYER_NOT_FOUND, "no player has that id")
        kept = ({}, {})
    keys, bigrams = kept
    app.delivery.reply(conn, req, {
        "type": "key_stats", "player_id": player_id,
        "keys": [entry("key", k, *keys[k])
                 for k in sorted(keys, key=lambda k: (-keys[k][0], k))],
        "bigrams": [entry("bigram", b, *bigrams[b]) for b in weakest(bigrams)]})


async def weak_keys_practice(app, conn, req) -> None:
    """`practice` {weak_keys: true}: a passage composed for the player's weakest bigrams
    (an ordinary one, with `notice` saying why, when there is nothing to go on)."""
    text, notice = await app.weak_keys.text_for(conn.player_id)
    room, seat = app.lobby.practice(conn.player_id, conn.name, text, app.clock.now_ms())
    send_joined(app, conn, req, room, seat.slot, **({"notice": notice} if notice else {}))


HANDLERS = {"race_analysis": race_analysis, "key_stats": key_stats}
