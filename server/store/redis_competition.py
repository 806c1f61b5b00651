"""Competitions in Redis: points per period and the boards of the text of the day
(keys in server/store/redis_scripts.py). Points are a view folded from the saved
results, as in the SQLite adapter (server/store/folding.py): the script that saves a
race queues its clean results' points (ptsq) with the results, and FOLD_POINTS adds
them to the periods' sorted sets and takes them off the queue in one script, so a crash
never counts points without their result, nor twice; a board read folds what is queued
first, so every process sees the same boards at once. (Adding them in the save script
itself cost a save +28 % with redis-server's CPU, three sorted-set updates a result on
sets of 100,000 players; folded in batches they cost about as much, off the save:
docs/performance.md, "Competitions: Redis points folded".)

A board read is one script over the top of a sorted set, a place one script counting
what is ahead (the same rule as the SQLite adapter:
tests/test_store_contract_competition.py). A points board's races come from the
player's clean results (pclean:<player>) as it is read."""

from __future__ import annotations

from server.core import competition
from server.store.folding import FOLD_BATCH, fold_for_read
from server.store.redis_adapter import decoded
from server.store.redis_scripts import BOARD_PLACE, DAY_KEEP_S, WEEK_KEEP_S

# ARGV: prefix, most. Adds the oldest `most` queued points (ptsq, in the order saved) to
# their day's, week's and the all-time board, sets each player's tie key there to the
# time of their latest result (who got to a total first ranks first), and takes them off
# the queue. Returns how many it folded.
FOLD_POINTS = f"""
local day_keep, week_keep = {DAY_KEEP_S}, {WEEK_KEEP_S}
""" + """
local p, most = ARGV[1], tonumber(ARGV[2])
local queued = redis.call('LRANGE', p .. 'ptsq', 0, most - 1)
local ties, keep = {}, {}   -- board -> {player, tie key, ...}; board -> its expiry
local function add(period, pid, points, tie, seconds)
  local board = p .. 'pts:' .. period
  redis.call('ZINCRBY', board, points, pid)
  ties[board] = ties[board] or {}
  table.insert(ties[board], pid)
  table.insert(ties[board], tie)
  keep[board] = seconds
end
for _, entry in ipairs(queued) do
  local day, week, points, at, pid = string.match(entry, '^(%S+) (%S+) (%S+) (%S+) (.*)$')
  local tie = string.format('%015d:%s', tonumber(at), pid)
  add(day, pid, points, tie, day_keep)
  add(week, pid, points, tie, week_keep)
  add('all', pid, points, tie, false)
end
for board, tied in pairs(ties) do
  for from = 1, #tied, 1000 do          -- (unpack's stack has a limit)
    redis.call('HSET', board .. ':k', unpack(tied, from, math.min(from + 999, #tied)))
  end
  if keep[board] then
    redis.call('EXPIRE', board, keep[board])
    redis.call('EXPIRE', board .. ':k', keep[board])
  end
end
redis.call('LTRIM', p .. 'ptsq', #queued, -1)
return #queued
"""


def _window(period: str) -> list:
    """The script arguments of a points board: 'points', its first ms, the ms after."""
    w = competition.window_named(period)
    return ["points", w.starts_ms, "+inf" if w.ends_ms is None else w.ends_ms]


class RedisCompetition:
    """Mixed into RedisStore: uses its `redis`, `prefix`, `_k` and `_board`."""

    async def _fold_points(self, most: int) -> int:
        """Fold up to `most` queued points onto the boards; how many."""
        return await self.redis.eval(FOLD_POINTS, [], [self.prefix, most])

    async def points_board(self, period, limit=20):
        await fold_for_read(lambda: self._fold_points(FOLD_BATCH))
        entries = await self._board(f"pts:{period}", limit, order=lambda e: (
            -e["points"], e["reached_ms"], e["player_id"]), points=_window(period))
        return [{"player_id": e["player_id"], "name": e["name"], "points": e["points"],
                 "races": e["races"]} for e in entries]

    async def points_place(self, period, player_id):
        await fold_for_read(lambda: self._fold_points(FOLD_BATCH))
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
