"""Where every room of the cluster lives, kept in Redis.

Keys (prefix `typerace:`, all small; every multi-key change is one Lua script, so
other processes never see half of it):
  node:<n>       "1" with a TTL, refreshed by n's heartbeat: n is alive while it exists
  nodes          set of the node ids that registered (the reaper walks it)
  loc            hash  r:<room_id> | c:<join code> | w:<watch code> | p:<seated player>
                 -> "<node>|<room_id>"
  idx:<n>        set of the entries node n owns (loc fields and o:<room_id>), for reaping
  sum:<n>        hash room_id -> summary (msgpack room view) of n's public rooms; TTL
  open           zset of public rooms that take players, score = joinable until (ms)
                 (0 while full, so a claim never scans full rooms)
  o:<room_id>    hash node, taken (seats claimed), max, until, since (its players wait
                 since, ms), p:<player> -> rating ('' unrated) for each player seated
                 or claiming a seat: matchmaking reads ratings here, inside the claim

Every look-up checks that the owner is alive, so a dead process's rooms vanish as
soon as its node key expires; the reaper (run by every heartbeat) then deletes them.
"""

from __future__ import annotations

from server.core.matching import BAND
from server.store.redis_adapter import Redis

HEARTBEAT_S = 1.0          # liveness refresh, reaping, peer checks; retry of failed writes

P = "typerace:"
NODE, NODES, LOC, IDX, SUM, OPEN, O = (P + "node:", P + "nodes", P + "loc", P + "idx:",
                                       P + "sum:", P + "open", P + "o:")

_HEARTBEAT = """
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[2]) end
return redis.call('SADD', KEYS[2], ARGV[1])
"""

# KEYS: loc, idx:<n>; ARGV: node, room_id, field1, field2...
_REGISTER = """
local value = ARGV[1] .. '|' .. ARGV[2]
for i = 3, #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i], value)
  redis.call('SADD', KEYS[2], ARGV[i])
end
"""

# Drops fields ARGV[3..] from loc (and the index) where they still hold `value`.
_DROP_FIELDS_HOLDING_VALUE = """
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == value then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('SREM', KEYS[2], ARGV[i])
  end
end
"""
# KEYS: loc, idx:<n>; ARGV: node, room_id, field1... (only entries still naming this
# room go: a player's p: entry may already name the room it moved to)
_FORGET = "local value = ARGV[1] .. '|' .. ARGV[2]\n" + _DROP_FIELDS_HOLDING_VALUE

# KEYS: loc, idx:<n>, open, o:<room>; ARGV: room_id, node, field1...
_UNREGISTER = "local value = ARGV[2] .. '|' .. ARGV[1]\n" + _DROP_FIELDS_HOLDING_VALUE + """
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4])
redis.call('SREM', KEYS[2], 'o:' .. ARGV[1])
"""

# KEYS: loc; ARGV: node prefix, field1, field2... -> first live "<node>|<room>" or nil
_LOOKUP = """
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then
    local node = string.match(v, '^([^|]+)|')
    if redis.call('EXISTS', ARGV[1] .. node) == 1 then return v end
  end
end
return false
"""

# KEYS: open, o:<room>, idx:<n>; ARGV: room, node, max, taken, until, since,
# player1, rating1, ...
_OPEN = """
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'node', ARGV[2], 'max', ARGV[3], 'taken', ARGV[4], 'until', ARGV[5],
           'since', ARGV[6])
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[2], 'p:' .. ARGV[i], ARGV[i + 1]) end
redis.call('SADD', KEYS[3], 'o:' .. ARGV[1])
local score = ARGV[5]
if tonumber(ARGV[4]) >= tonumber(ARGV[3]) then score = 0 end
redis.call('ZADD', KEYS[1], score, ARGV[1])
"""

# KEYS: open, o:<room>; ARGV: room, delta, until ('' = unchanged), since, n_set,
# player1, rating1, ... (n_set pairs), then players gone. Relative, like `taken`: a
# claim made meanwhile by another process (its p: field) is kept.
_ADJUST = """
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
local taken = redis.call('HINCRBY', KEYS[2], 'taken', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], 'until', ARGV[3]) end
redis.call('HSET', KEYS[2], 'since', ARGV[4])
local n = tonumber(ARGV[5])
for i = 6, 5 + 2 * n, 2 do redis.call('HSET', KEYS[2], 'p:' .. ARGV[i], ARGV[i + 1]) end
for i = 6 + 2 * n, #ARGV do redis.call('HDEL', KEYS[2], 'p:' .. ARGV[i]) end
local h = redis.call('HMGET', KEYS[2], 'max', 'until')
local score = h[2]
if taken >= tonumber(h[1]) then score = 0 end
redis.call('ZADD', KEYS[1], score, ARGV[1])
return taken
"""

# KEYS: open; ARGV: now_ms, node key prefix, room key prefix, player, rating ('' =
# unrated), band, widen_ms, claiming node, remote_wait_ms -> {room, node} or nil. The
# fullest live room that still takes players and fits the player's rating
# (server/core/matching.py: within `band` of every rated player, the band raised to
# 1 + floor(waited / widen_ms)); among equally full rooms the closest in average rating.
# Rooms fill up before new ones start. A room of the claiming node comes first; one of
# another node only when its players have waited remote_wait_ms (their own process had
# the time to fill it) or it holds a single player (who would otherwise wait alone).
_CLAIM = """
local now, pid, band, widen = tonumber(ARGV[1]), ARGV[4], tonumber(ARGV[6]), tonumber(ARGV[7])
local rating, me, remote_wait = tonumber(ARGV[5]), ARGV[8], tonumber(ARGV[9])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, 64)
local best, best_node, best_taken, best_dist, best_local = nil, nil, -1, 0, false
for _, id in ipairs(ids) do
  local flat = redis.call('HGETALL', ARGV[3] .. id)
  local h, ratings = {}, {}
  for i = 1, #flat, 2 do
    if string.sub(flat[i], 1, 2) == 'p:' then
      h[flat[i]] = true
      if flat[i + 1] ~= '' then ratings[#ratings + 1] = tonumber(flat[i + 1]) end
    else
      h[flat[i]] = flat[i + 1]
    end
  end
  if not h.node or redis.call('EXISTS', ARGV[2] .. h.node) == 0 then
    redis.call('ZREM', KEYS[1], id)
    redis.call('DEL', ARGV[3] .. id)
  elseif not h['p:' .. pid] then
    local taken, max = tonumber(h.taken), tonumber(h.max)
    local is_local = h.node == me
    local fits = is_local or taken <= 1 or now - tonumber(h.since or now) >= remote_wait
    local dist = 0
    if rating and #ratings > 0 then
      local lo, hi, sum = ratings[1], ratings[1], 0
      for _, r in ipairs(ratings) do
        lo, hi, sum = math.min(lo, r), math.max(hi, r), sum + r
      end
      local waited = math.max(0, now - tonumber(h.since or now))
      local width = band ^ (1 + math.floor(waited / math.max(1, widen)))
      fits = fits and hi <= rating * width and rating <= lo * width
      if rating > 0 and sum > 0 then dist = math.abs(math.log(sum / #ratings / rating)) end
    end
    if fits and taken < max and ((is_local and not best_local) or
        (is_local == best_local and (taken > best_taken or
                                     (taken == best_taken and dist < best_dist)))) then
      best, best_node, best_taken, best_dist, best_local = id, h.node, taken, dist, is_local
    end
  end
end
if not best then return false end
local taken = redis.call('HINCRBY', ARGV[3] .. best, 'taken', 1)
redis.call('HSET', ARGV[3] .. best, 'p:' .. pid, ARGV[5])
if taken >= tonumber(redis.call('HGET', ARGV[3] .. best, 'max')) then
  redis.call('ZADD', KEYS[1], 0, best)
end
return {best, best_node}
"""

# KEYS: nodes, loc, open; ARGV: node prefix, idx prefix, sum prefix, o prefix
_REAP = """
local reaped = 0
for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. n) == 0 then
    for _, f in ipairs(redis.call('SMEMBERS', ARGV[2] .. n)) do
      if string.sub(f, 1, 2) == 'o:' then
        local room = string.sub(f, 3)
        redis.call('ZREM', KEYS[3], room)
        redis.call('DEL', ARGV[4] .. room)
      else
        local v = redis.call('HGET', KEYS[2], f)
        if v and string.sub(v, 1, #n + 1) == n .. '|' then redis.call('HDEL', KEYS[2], f) end
      end
    end
    redis.call('DEL', ARGV[2] .. n, ARGV[3] .. n)
    redis.call('SREM', KEYS[1], n)
    reaped = reaped + 1
  end
end
return reaped
"""

# KEYS: nodes; ARGV: node prefix, sum prefix, self -> summaries of the other live nodes
_SUMMARIES = """
local out = {}
for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if n ~= ARGV[3] and redis.call('EXISTS', ARGV[1] .. n) == 1 then
    for _, v in ipairs(redis.call('HVALS', ARGV[2] .. n)) do out[#out + 1] = v end
  end
end
return out
"""

# KEYS: sum:<n>; ARGV: ttl_ms, n_set, room1, summary1, ..., removed rooms...
_SUMS = """
local n = tonumber(ARGV[2])
for i = 3, 2 + 2 * n, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 3 + 2 * n, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
"""

# ARGV: node prefix, node1, node2... -> the given nodes that are alive
_ALIVE = """
local out = {}
for i = 2, #ARGV do
  if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 1 then out[#out + 1] = ARGV[i] end
end
return out
"""


def _pairs(players: dict[str, float | None]) -> list:
    """player1, rating1, ...: a rating as Redis keeps it ('' for unrated)."""
    return [x for pid, rating in players.items() for x in (pid, "" if rating is None else rating)]


def loc_fields(room_id: str, code: str | None, watch_code: str | None) -> list[str]:
    fields = ["r:" + room_id]
    if code:
        fields += ["c:" + code, "w:" + watch_code]
    return fields


class Directory:
    def __init__(self, redis: Redis, node: str, ttl_ms: int = 3000):
        self.redis = redis
        self.node = node
        self.ttl_ms = ttl_ms

    async def heartbeat(self) -> bool:
        """Refresh our liveness; True when Redis did not know us (first beat, or
        Redis lost its data): the caller must register everything again."""
        added = await self.redis.eval(_HEARTBEAT, [NODE + self.node, NODES, SUM + self.node],
                                      [self.node, self.ttl_ms])
        return added == 1

    async def gone(self, node: str) -> None:
        """`node` stopped or was found dead: every look-up ignores it from now on."""
        await self.redis.execute("DEL", NODE + node)
        await self.reap()

    async def reap(self) -> int:
        """Delete the entries of nodes whose liveness key expired."""
        return await self.redis.eval(_REAP, [NODES, LOC, OPEN], [NODE, IDX, SUM, O])

    async def alive(self, nodes: list[str]) -> set[str]:
        if not nodes:
            return set()
        return {n.decode() for n in await self.redis.eval(_ALIVE, [], [NODE, *nodes])}

    async def register(self, room_id: str, fields: list[str]) -> None:
        await self.redis.eval(_REGISTER, [LOC, IDX + self.node], [self.node, room_id, *fields])

    async def unregister(self, room_id: str, fields: list[str]) -> None:
        await self.redis.eval(_UNREGISTER, [LOC, IDX + self.node, OPEN, O + room_id],
                              [room_id, self.node, *fields])

    async def forget(self, room_id: str, fields: list[str]) -> None:
        await self.redis.eval(_FORGET, [LOC, IDX + self.node], [self.node, room_id, *fields])

    async def lookup(self, fields: list[str]) -> tuple[str, str] | None:
        """(owner node, room_id) of the first field that names a live room."""
        found = await self.redis.eval(_LOOKUP, [LOC], [NODE, *fields])
        if not found:
            return None
        node, room_id = found.decode().split("|", 1)
        return node, room_id

    async def open(self, room_id: str, max_players: int, taken: int, until_ms: int,
                   since_ms: int, players: dict[str, float | None]) -> None:
        """A public room takes players: its seats, until when, since when its players
        wait, and each seated player's rating (None: unrated)."""
        await self.redis.eval(_OPEN, [OPEN, O + room_id, IDX + self.node],
                              [room_id, self.node, max_players, taken, until_ms, since_ms,
                               *_pairs(players)])

    async def adjust(self, room_id: str, delta: int, until_ms: int | None, since_ms: int,
                     players: dict[str, float | None], gone: list[str]) -> None:
        """Seats taken by `delta` more; `players` seated (or re-rated), `gone` left."""
        await self.redis.eval(_ADJUST, [OPEN, O + room_id],
                              [room_id, delta, "" if until_ms is None else until_ms, since_ms,
                               len(players), *_pairs(players), *gone])

    async def close(self, room_id: str) -> None:
        """The room takes no more players (its race is about to start)."""
        await self.unregister(room_id, [])

    async def claim(self, now_ms: int, player_id: str, rating: float | None,
                    widen_ms: int, remote_wait_ms: int) -> tuple[str, str] | None:
        """Atomically take a seat in the fullest open public room that fits the
        player's rating, this node's first: (room_id, owner)."""
        found = await self.redis.eval(_CLAIM, [OPEN], [
            now_ms, NODE, O, player_id, "" if rating is None else rating, BAND, widen_ms,
            self.node, remote_wait_ms])
        if not found:
            return None
        return found[0].decode(), found[1].decode()

    async def set_summaries(self, changed: dict[str, bytes], removed: list[str]) -> None:
        args: list = [self.ttl_ms, len(changed)]
        for room_id, summary in changed.items():
            args += [room_id, summary]
        await self.redis.eval(_SUMS, [SUM + self.node], args + list(removed))

    async def summaries(self) -> list[bytes]:
        """The public room summaries of every other live node."""
        return await self.redis.eval(_SUMMARIES, [NODES], [NODE, SUM, self.node])
