"""Competitions: the text of the day with its board, and the points boards (day, ISO
week, all time). Rules in server/core/competition.py; points in protocol/scoring.py."""

from __future__ import annotations

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.core import competition

BOARD_SIZE = 20
HISTORY_DAYS = 7          # past days whose winners `daily` lists


async def daily(ctx, conn, req) -> None:
    now = ctx.clock.now_ms()
    text = await ctx.daily.text(now)
    if text is None:
        raise ProtocolError(ErrorCode.TEXT_NOT_FOUND, "there is no text to race today")
    board = competition.daily_board(now, text.text_id)
    day = competition.day_window(now)
    ctx.delivery.reply(conn, req, {
        "type": "daily", "date": competition.day_of(now).isoformat(),
        "text": text.listing(), "ends_ms": day.ends_ms,
        "top": await ctx.store.day_board(board, BOARD_SIZE),
        "you": await ctx.store.day_board_place(board, conn.player_id),
        "history": await _winners(ctx, day.starts_ms)})


async def _winners(ctx, today_ms: int) -> list[dict]:
    """The winners of the past HISTORY_DAYS days, newest first: {date, text_id, title,
    winner} per text raced as a day's text (a day whose text was replaced has two)."""
    starts = [today_ms - n * competition.DAY_MS for n in range(1, HISTORY_DAYS + 1)]
    dates = [competition.day_of(ms).isoformat() for ms in starts]
    raced = await ctx.store.daily_texts(dates)
    winners = []
    for ms, date in zip(starts, dates):
        for text_id in raced[date]:
            top = await ctx.store.day_board(competition.daily_board(ms, text_id), 1)
            text = await ctx.library.text(text_id)
            winners.append({"date": date, "text_id": text_id,
                            "title": text.title if text else None,
                            "winner": top[0] if top else None})
    return winners


async def points_board(ctx, conn, req) -> None:
    now = ctx.clock.now_ms()
    window = competition.window(req.args["window"], now)
    ctx.delivery.reply(conn, req, {
        "type": "points_board", "window": window.kind, "starts_ms": window.starts_ms,
        "ends_ms": window.ends_ms, "period": window.key,
        "entries": await ctx.store.points_board(window.key, BOARD_SIZE),
        "you": await ctx.store.points_place(window.key, conn.player_id)})


HANDLERS = {"daily": daily, "points_board": points_board}
