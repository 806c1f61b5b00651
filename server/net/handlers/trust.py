"""Reports: `report_text`. The store counts one report per player per text and hides a
player-written text once `--report-threshold` players reported it, atomically, so
processes sharing Redis agree; the text library (server/net/library.py) then leaves it
out of every draw and look-up."""

from __future__ import annotations

import logging

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.core.ratelimit import Quota
from server.net.logs import event

log = logging.getLogger("typerace")

# A player may report REPORTS_BURST texts at once, then REPORTS_PER_HOUR: plenty for a
# person, while a script can't turn the message rate into a stream of writes.
REPORTS_BURST = 10
REPORTS_PER_HOUR = 30


def report_quota() -> Quota:
    """Reports each player may still make (the app keeps one)."""
    return Quota(REPORTS_PER_HOUR / 60, REPORTS_BURST)


async def report_text(ctx, conn, req) -> None:
    text_id = req.args["text_id"]
    now = ctx.clock.monotonic()
    if not ctx.report_quota.take(conn.player_id, now):
        raise ProtocolError(ErrorCode.RATE_LIMITED, f"you have reported many texts just now: "
                            f"{REPORTS_PER_HOUR} an hour at most; try again later")
    outcome = await ctx.store.report_text(text_id, conn.player_id, req.args["reason"],
                                          ctx.clock.now_ms(), ctx.report_threshold)
    if outcome is None:
        raise ProtocolError(ErrorCode.TEXT_NOT_FOUND, f"no text has id {text_id}")
    event(log, "text_reported", text=text_id, player=conn.player_id, reports=outcome.reports,
          counted=outcome.counted)
    if outcome.hidden:
        ctx.library.hidden_now(text_id)
        event(log, "text_hidden", level=logging.WARNING, text=text_id, reports=outcome.reports)
    ctx.delivery.reply(conn, req, {"type": "reported", "text_id": text_id})


HANDLERS = {"report_text": report_text}
