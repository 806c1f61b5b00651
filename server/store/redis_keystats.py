"""The Redis adapter's per-key and per-bigram statistics, a view folded from the saved
results (server/store/folding.py): SAVE_RACE puts a clean result's race id on its
player's kpend list; folding reads the pending results' logs (PENDING_KEYS), tallies
them here and applies the tallies with FOLD_KEYS, which takes them off the list in
the same script, so each result is counted exactly once, whichever process folds it
and whenever one dies. A read of a player's statistics folds the player's pending
results first. What a race adds and the caps are the core's (server/core/keystats.py).

Keys (under the prefix, see redis_scripts.py):

  keys:<player>             hash  key -> "count errors ms"
  bigrams:<player>          hash  bigram -> "count errors ms"
  kpend:<player>            list  race ids of the player's clean results not folded yet
  kpending                  set   players with a kpend list
"""

from __future__ import annotations

import json

import msgpack

from server.core.keystats import BIGRAMS_MAX, KEYS_MAX, tally
from server.store.folding import FOLD_BATCH

# ARGV: prefix, player, most. Returns {race id, race record, the player's result, ...}
# (msgpack, as SAVE_RACE keeps them) of the oldest `most` pending results.
PENDING_KEYS = """
local p, pid = ARGV[1], ARGV[2]
local out = {}
for _, rid in ipairs(redis.call('LRANGE', p .. 'kpend:' .. pid, 0, tonumber(ARGV[3]) - 1)) do
  local race = redis.call('HMGET', p .. 'race:' .. rid, 'record', 'x:' .. pid)
  out[#out + 1] = rid
  out[#out + 1] = race[1]
  out[#out + 1] = race[2]
end
return out
"""

# ARGV: prefix, player, n, the n race ids at the head of kpend:<player>, then each one's
# tallies: JSON [keys, bigrams], each a list of [key, count, errors, ms], the most typed
# first. They are added in order (a key without an entry yet gets one only while the
# hash has fewer than its cap) and taken off the list. Returns n, or 0 (nothing done)
# when the list's head is not those ids any more: another process folded them first.
FOLD_KEYS = """
local function add_tally(key, cap, entries)
  if #entries == 0 then return end
  local fields = {}
  for i, e in ipairs(entries) do fields[i] = e[1] end
  local old = redis.call('HMGET', key, unpack(fields))     -- one call, not one a key
  local have = redis.call('HLEN', key)
  local out = {}
  for i, e in ipairs(entries) do
    if old[i] then
      local c, er, ms = string.match(old[i], '(%d+) (%d+) (%d+)')
      out[#out + 1] = e[1]
      out[#out + 1] = string.format('%d %d %d', c + e[2], er + e[3], ms + e[4])
    elseif have < cap then
      out[#out + 1] = e[1]
      out[#out + 1] = string.format('%d %d %d', e[2], e[3], e[4])
      have = have + 1
    end
  end
  if #out > 0 then redis.call('HSET', key, unpack(out)) end
end
local p, pid, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local pending = p .. 'kpend:' .. pid
local head = redis.call('LRANGE', pending, 0, n - 1)
if #head ~= n then return 0 end
for i = 1, n do
  if head[i] ~= ARGV[3 + i] then return 0 end
end
for i = 1, n do
  local t = cjson.decode(ARGV[3 + n + i])
  add_tally(p .. 'keys:' .. pid, """ + str(KEYS_MAX) + """, t[1])
  add_tally(p .. 'bigrams:' .. pid, """ + str(BIGRAMS_MAX) + """, t[2])
end
redis.call('LTRIM', pending, n, -1)
if redis.call('LLEN', pending) == 0 then
  redis.call('SREM', p .. 'kpending', pid)
end
return n
"""


def _entries(table: dict) -> list:
    """[key, count, errors, ms], the most typed first (the order the caps keep by, as in
    the SQLite adapter)."""
    return sorted(([k, *v] for k, v in table.items()), key=lambda e: (-e[1] - e[2], e[0]))


def parsed(flat: list) -> dict:
    """An HGETALL reply of keys:<player> or bigrams:<player> as {key: (count, errors, ms)}."""
    return {flat[i].decode(): tuple(map(int, flat[i + 1].split()))
            for i in range(0, len(flat), 2)}


class RedisKeyStats:
    """Mixed into RedisStore: uses its `redis`, `prefix`, `_k` and `_body`."""

    async def key_stats(self, player_id):
        await self._fold_player(player_id, FOLD_BATCH)
        keys = await self.redis.execute("HGETALL", self._k("keys:" + player_id))
        bigrams = await self.redis.execute("HGETALL", self._k("bigrams:" + player_id))
        return (parsed(keys), parsed(bigrams)) if keys or bigrams else None

    async def _fold_some(self, most: int) -> int:
        """Fold the pending results of up to `most` players; how many results."""
        players = await self.redis.execute("SRANDMEMBER", self._k("kpending"), most)
        folded = 0
        for pid in players or ():
            folded += await self._fold_player(pid.decode(), most)
        return folded

    async def _fold_player(self, player_id: str, most: int) -> int:
        """Fold up to `most` of a player's pending results (the oldest); how many."""
        flat = await self.redis.eval(PENDING_KEYS, [], [self.prefix, player_id, most])
        if not flat:
            return 0
        race_ids, tallies = [], []
        for i in range(0, len(flat), 3):
            record = msgpack.unpackb(flat[i + 1], raw=False)
            passage = record[8] if len(record) > 8 else None
            log = msgpack.unpackb(flat[i + 2], raw=False)[11]
            keys, bigrams = tally(passage or await self._body(record[3]), log)
            race_ids.append(flat[i].decode())
            tallies.append(json.dumps([_entries(keys), _entries(bigrams)]))
        return await self.redis.eval(FOLD_KEYS, [], [self.prefix, player_id, len(race_ids),
                                                     *race_ids, *tallies])
