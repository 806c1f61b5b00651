"""Texts and statistics: the library, writing texts, player and text statistics,
leaderboards and replays."""

from __future__ import annotations

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.core.texts import GENERATED_ID, Text, TextInvalid, validate_text
from server.store import RaceRecord, TextExists, no_stats


async def list_texts(ctx, conn, req) -> None:
    offset, limit = req.args.get("offset", 0), req.args.get("limit", 20)
    author = req.args.get("author")
    texts, total = await ctx.store.list_texts(offset, limit, author)
    ctx.delivery.reply(conn, req, {"type": "texts", "texts": [t.listing() for t in texts],
                                   "total": total, "offset": offset, "limit": limit,
                                   "author": author})


async def submit_text(ctx, conn, req) -> None:
    try:
        text = validate_text(req.args["title"], req.args["body"], req.args.get("source"))
    except TextInvalid as exc:
        raise ProtocolError(ErrorCode.TEXT_INVALID, str(exc)) from None
    refusal = ctx.text_quota.spend(conn.player_id, conn.ip, ctx.clock.monotonic())
    if refusal is not None:
        raise ProtocolError(ErrorCode.RATE_LIMITED, refusal)
    try:
        created = await ctx.store.submit_text(text, conn.player_id, conn.name,
                                              ctx.clock.now_ms())
    except TextExists as exc:
        raise ProtocolError(ErrorCode.TEXT_INVALID, str(exc)) from None
    ctx.delivery.reply(conn, req, {"type": "text_created", "text": created.listing()})


async def player_stats(ctx, conn, req) -> None:
    player_id = req.args.get("player_id") or conn.player_id
    stats = await ctx.store.player_stats(player_id)
    if stats is None and player_id == conn.player_id:
        stats = no_stats(player_id, conn.name)      # a guest with nothing kept yet
    if stats is None:
        raise ProtocolError(ErrorCode.PLAYER_NOT_FOUND, "no player has that id")
    ctx.delivery.reply(conn, req, {"type": "stats", **stats})


async def text_stats(ctx, conn, req) -> None:
    stats = await ctx.store.text_stats(req.args["text_id"])
    if stats is None:
        raise ProtocolError(ErrorCode.TEXT_NOT_FOUND, "no text has that id")
    stats["best"] = await ctx.store.personal_best(conn.player_id, req.args["text_id"])
    ctx.delivery.reply(conn, req, {"type": "text_stats", **stats})


async def leaderboard(ctx, conn, req) -> None:
    text_id = req.args.get("text_id")
    if text_id is not None and await ctx.library.text(text_id) is None:
        raise ProtocolError(ErrorCode.TEXT_NOT_FOUND, f"no text has id {text_id}")
    entries = await ctx.store.leaderboard(text_id)
    ctx.delivery.reply(conn, req, {"type": "leaderboard", "text_id": text_id,
                                   "entries": entries})


async def replay(ctx, conn, req) -> None:
    race = await ctx.store.get_race(req.args["race_id"])
    if race is None:
        raise ProtocolError(ErrorCode.RACE_NOT_FOUND, "no saved race has that id")
    if race.text_id in await ctx.library.hidden():
        # Hidden everywhere: the logs would rebuild the body, keystroke by keystroke.
        raise ProtocolError(ErrorCode.TEXT_NOT_FOUND, "the text of that race is hidden")
    text = await ctx.library.text(race.text_id)
    ctx.delivery.reply(conn, req, {"type": "replay", "race": _replay_view(race, text)})


def generated_view(race: RaceRecord) -> dict:
    """A race's text when the library has none to show: its generated passage (weak-key
    practice), or only its id (a hidden text)."""
    if race.passage is None:
        return {"text_id": race.text_id}
    return Text(GENERATED_ID, "Your weak keys", "", race.passage, generated=True).race_view()


def _replay_view(race: RaceRecord, text: Text | None) -> dict:
    """A saved race as `replay` carries it: every result with its keystroke log."""
    return {"race_id": race.race_id, "kind": race.kind, "started_ms": race.started_ms,
            "ended_ms": race.ended_ms,
            "text": text.race_view() if text else generated_view(race),
            "results": [{"slot": r.slot, "player_id": r.player_id, "name": r.name,
                         "place": r.place, "status": r.status, "wpm": r.wpm,
                         "accuracy": r.accuracy, "race_ms": r.race_ms, "pos": r.pos,
                         "keystrokes": r.keystrokes, "flagged": r.flagged,
                         "log": [[t, keys] for t, keys in r.log]} for r in race.results]}


HANDLERS = {"list_texts": list_texts, "submit_text": submit_text,
            "player_stats": player_stats, "text_stats": text_stats,
            "leaderboard": leaderboard, "replay": replay}
