"""Competitions in Redis: points per period and the boards of the text of the day
(keys in server/store/redis_scripts.py). SAVE_RACE adds them in the script that saves
the race, so a crash never counts points without their result or the reverse. A board
read is one script over the top of a sorted set, a place one script counting what is
ahead (the same rule as the SQLite adapter: tests/test_store_contract_competition.py).
A points board's races come from the player's clean results (pclean:<player>) as it
is read."""

from __future__ import annotations

from server.core import competition
from server.store.redis_adapter import decoded
from server.store.redis_scripts import BOARD_PLACE


def _window(period: str) -> list:
    """The script arguments of a points board: 'points', its first ms, the ms after."""
    w = competition.window_named(period)
    return ["points", w.starts_ms, "+inf" if w.ends_ms is None else w.ends_ms]


class RedisCompetition:
    """Mixed into RedisStore: uses its `redis`, `prefix`, `_k` and `_board`."""

    async def points_board(self, period, limit=20):
        entries = await self._board(f"pts:{period}", limit, order=lambda e: (
            -e["points"], e["reached_ms"], e["player_id"]), points=_window(period))
        return [{"player_id": e["player_id"], "name": e["name"], "points": e["points"],
                 "races": e["races"]} for e in entries]

    async def points_place(self, period, player_id):
        found = await self.redis.eval(BOARD_PLACE, [], [self.prefix, f"pts:{period}",
                                                        player_id])
        if found is None:
            return None
        return {"points": int(float(found[0])), "place": int(found[1]) + 1}

    async def day_board(self, board, limit=20):
        return await self._board(f"lb:t:{int(board)}", limit)

    async def day_board_place(self, board, player_id):
        found = await self.redis.eval(BOARD_PLACE, [], [self.prefix, f"lb:t:{int(board)}",
                                                        player_id])
        if found is None:
            return None
        return {"best_wpm": float(found[0]), "place": int(found[1]) + 1}

    async def daily_texts(self, days):
        found = {}
        for day in days:
            ids = await self.redis.execute("SMEMBERS", self._k(f"daily:{day}"))
            found[day] = sorted(int(i) for i in ids)
        return found

    async def pin_daily_text(self, day, text_id):
        await self.redis.execute("HSET", self._k("daily:pins"), day, int(text_id))

    async def daily_pin(self, day):
        pinned = decoded(await self.redis.execute("HGET", self._k("daily:pins"), day))
        return int(pinned) if pinned is not None else None
