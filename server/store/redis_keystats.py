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
from server.store.folding import FOLD_BATCH, fold_for_read

# ARGV: prefix, most, then players. Returns, for each player, {race id, race record,
# the player's result, ...} (msgpack, as SAVE_RACE keeps them) of the player's oldest
# pending results, `most` results in all (the first players' first).
PENDING_KEYS = """
local p, most = ARGV[1], tonumber(ARGV[2])
local out = {}
for a = 3, #ARGV do
  local pid, mine = ARGV[a], {}
  local ids = most > 0 and redis.call('LRANGE', p .. 'kpend:' .. pid, 0, most - 1) or {}
  for _, rid in ipairs(ids) do
    most = most - 1
    local race = redis.call('HMGET', p .. 'race:' .. rid, 'record', 'x:' .. pid)
    mine[#mine + 1] = rid
    mine[#mine + 1] = race[1]
    mine[#mine + 1] = race[2]
  end
  out[#out + 1] = mine
end
return out
"""

# ARGV: prefix, then for each player: the player, n, the n race ids at the head of
# kpend:<player>, then each one's tallies: JSON [keys, bigrams], each a list of [key,
# count, errors, ms], the most typed first. They are added in order (a key without an
# entry yet gets one only while the hash has fewer than its cap) and taken off the
# list; a player whose list's head is not those ids any more (another process folded
# them first) is left as it is. Returns how many results were folded.
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
local function fold(p, pid, n, ids, tallies)
  local pending = p .. 'kpend:' .. pid
  local head = redis.call('LRANGE', pending, 0, n - 1)
  if #head ~= n then return 0 end
  for i = 1, n do
    if head[i] ~= ARGV[ids + i] then return 0 end
  end
  for i = 1, n do
    local t = cjson.decode(ARGV[tallies + i])
    add_tally(p .. 'keys:' .. pid, """ + str(KEYS_MAX) + """, t[1])
    add_tally(p .. 'bigrams:' .. pid, """ + str(BIGRAMS_MAX) + """, t[2])
  end
  redis.call('LTRIM', pending, n, -1)
  if redis.call('LLEN', pending) == 0 then
    redis.call('SREM', p .. 'kpending', pid)
  end
  return n
end
local folded, a = 0, 2
while a <= #ARGV do
  local n = tonumber(ARGV[a + 1])
  folded = folded + fold(ARGV[1], ARGV[a], n, a + 1, a + 1 + n)
  a = a + 2 + 2 * n
end
return folded
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
        await fold_for_read(lambda: self._fold_players([player_id], FOLD_BATCH))
        keys = await self.redis.execute("HGETALL", self._k("keys:" + player_id))
        bigrams = await self.redis.execute("HGETALL", self._k("bigrams:" + player_id))
        return (parsed(keys), parsed(bigrams)) if keys or bigrams else None

    async def _fold_keys(self, most: int) -> int:
        """Fold `most` pending results of up to `most` players (in two scripts); how
        many."""
        players = await self.redis.execute("SRANDMEMBER", self._k("kpending"), most)
        return await self._fold_players([p.decode() for p in players or ()], most)

    async def _fold_players(self, players: list[str], most: int) -> int:
        if not players:
            return 0
        replies = await self.redis.eval(PENDING_KEYS, [], [self.prefix, most, *players])
        args: list = [self.prefix]
        for player_id, flat in zip(players, replies):
            if not flat:
                continue
            race_ids, tallies = [], []
            for i in range(0, len(flat), 3):
                race_ids.append(flat[i])
                if flat[i + 1] is None or flat[i + 2] is None:     # (never saved: nothing
                    tallies.append("[[], []]")                    # to add, but unqueued)
                    continue
                record = msgpack.unpackb(flat[i + 1], raw=False)
                passage = record[8] if len(record) > 8 else None
                log = msgpack.unpackb(flat[i + 2], raw=False)[11]
                keys, bigrams = tally(passage or await self._body(record[3]), log)
                tallies.append(json.dumps([_entries(keys), _entries(bigrams)]))
            args += [player_id, len(race_ids), *race_ids, *tallies]
        return await self.redis.eval(FOLD_KEYS, [], args) if len(args) > 1 else 0
