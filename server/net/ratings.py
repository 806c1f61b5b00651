"""Players' ratings for quick-race matching, cached on their connections.

A rating is read from the store when the player says hello and again after each of
their races is saved, so `quick_race` never waits for the store (see
server/core/matching.py for how ratings match players).
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("typerace")


async def refresh(results: list, conns: dict, store, live) -> None:
    """After a race was saved: the new ratings of its racers still connected (`conns`,
    player_id -> connection; only a clean result changes a rating), told to `live`'s
    cluster. Ratings stay as they were if the store fails."""
    racers = [conns.get(r.player_id) for r in results if r.clean]
    racers = [c for c in racers if c is not None]
    if not racers:
        return
    try:
        ratings = await asyncio.gather(*(store.rating(c.player_id) for c in racers))
    except Exception:       # the results must go out all the same
        log.exception("ratings not refreshed")
        return
    for conn, rating in zip(racers, ratings):
        conn.rating = rating
        live.cluster.rating_changed(conn)   # a remote player's edge matches with it
