"""Redis adapter of the store port: one Redis shared by every server process.

Same semantics as the SQLite adapter (the contract tests run on both). Every write
that touches more than one key is ONE Lua script, so it is atomic: another process
never sees half a race, and a script that died with the connection left nothing.

Keys (all under `prefix`, "tr:" by default; the scripts build keys from the prefix,
so this needs one Redis, not a Redis Cluster):

  meta                      hash  key -> value (first writer wins)
  player:<id>               hash  name, created_ms, seen_ms [, gen (token generation),
                                  banned ("1"), account (name), pw (password hash)]:
                                  from a player's first result, text, account or ban on
                                  (a guest's hello keeps nothing)
  accounts                  hash  name_key -> player id (HSETNX: one owner per name)
  text:next                 counter of text ids
  text:<id>                 hash  title, source, body, created_ms, completions
                                  [, author, author_name, hidden ("1"), reviewed ("1")]
  text:bybody               hash  sha256(body) -> text id (bodies are unique)
  texts, texts:by:<player>  zsets of visible texts, score created_ms, member the id
                                  padded to 12 digits, so equal times order by id
                                  (newest first); hiding a text takes it out of both
  texts:library             zset  library texts (no author), score = id
  texts:hidden              set   ids of hidden texts
  reports:<text>            hash  player -> JSON {reason, at_ms} (one report per player)
  reported                  zset  text ids by their number of reports
  race:<race_id>            hash  record (msgpack: the whole race with keystroke logs),
                                  r:<player> (JSON summary of that player's result)
  pstats:<player>           hash  races, wins, clean, wpm_sum, acc_sum, best
  presults:<player>         zset  race ids by time (recent results)
  pclean:<player>           zset  race ids of clean results by time (last-10 average)
  tstats:<text>             hash  clean, wpm_sum
  lb, lb:t:<text>           zsets best clean wpm per player, overall and per text;
                                  with <board>:e (player -> JSON entry) and <board>:k
                                  (player -> "at_ms:race_id", to break ties by time)

"Clean" means finished and not flagged: only clean results count for wins, bests,
averages, completions and the boards (as in the SQLite adapter).

save_race is idempotent by race_id (the script does nothing when the race exists),
so the app's retry loop can repeat a save whose reply was lost in an outage without
counting it twice. Durability across a Redis restart is Redis's own persistence
(appendonly): see docs/scaling.md, "The shared store".
"""

from __future__ import annotations

import hashlib
import json

import msgpack

from server.store.redis_adapter import Redis, decoded
from server.core.results import Result
from server.store import HISTORY, RaceRecord, Store, StoreUnusable, TextExists
from server.store.redis_trust import RedisTrust
from server.core.texts import Text

RECENT = 10

_SET_META_ONCE = """
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])
"""

# Only a kept player (one with a result or a text) has a hash: hello creates none.
_RENAME_PLAYER = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'name', ARGV[1], 'seen_ms', ARGV[2])
end
"""

# (Lua shared by the scripts below: create a player's hash or update its name.)
_KEEP_PLAYER = """
local function keep_player(key, name, now)
  redis.call('HSETNX', key, 'created_ms', now)
  redis.call('HSET', key, 'name', name, 'seen_ms', now)
end
"""

# ARGV: prefix, now_ms, author ('' = none), author_name, then per text:
# digest, title, source, body. Returns each text's id, negated when it already existed.
_ADD_TEXTS = _KEEP_PLAYER + """
local p, now, author, author_name = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ids = {}
for i = 5, #ARGV, 4 do
  local id = redis.call('HGET', p .. 'text:bybody', ARGV[i])
  if id then
    ids[#ids + 1] = -tonumber(id)
  else
    id = redis.call('INCR', p .. 'text:next')
    local key = p .. 'text:' .. id
    redis.call('HSET', key, 'title', ARGV[i + 1], 'source', ARGV[i + 2],
               'body', ARGV[i + 3], 'created_ms', now, 'completions', 0)
    redis.call('HSET', p .. 'text:bybody', ARGV[i], id)
    local member = string.format('%012d', id)
    redis.call('ZADD', p .. 'texts', now, member)
    if author ~= '' then
      redis.call('HSET', key, 'author', author, 'author_name', author_name)
      redis.call('ZADD', p .. 'texts:by:' .. author, now, member)
      keep_player(p .. 'player:' .. author, author_name, now)
    else
      redis.call('ZADD', p .. 'texts:library', id, member)
    end
    ids[#ids + 1] = id
  end
end
return ids
"""

# ARGV: prefix, zset name, offset, limit. Returns {total, id1, hash1, id2, hash2...},
# each hash as one JSON array [field, value, ...]: the client parses one string per
# text instead of a dozen (a page of 20 in 3 ms instead of 13, on asyncio-redis).
# A page costs O(log N + page): the zset is walked by rank, never loaded.
_LIST_TEXTS = """
local p = ARGV[1]
local z = p .. ARGV[2]
local offset, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {redis.call('ZCARD', z)}
if limit > 0 then
  for _, member in ipairs(redis.call('ZREVRANGE', z, offset, offset + limit - 1)) do
    local id = tonumber(member)
    out[#out + 1] = id
    out[#out + 1] = cjson.encode(redis.call('HGETALL', p .. 'text:' .. id))
  end
end
return out
"""

# ARGV: prefix, race_id, text_id, record, at_ms, then per result: player_id, wpm,
# accuracy, clean ('1'/'0'), win ('1'/'0'), tie key, summary JSON, board entry JSON,
# name. Returns 0 when the race was saved already (a retry), 1 when saved now.
_SAVE_RACE = _KEEP_PLAYER + """
local p, rid, tid, record, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local rkey = p .. 'race:' .. rid
if redis.call('EXISTS', rkey) == 1 then
  return 0
end
redis.call('HSET', rkey, 'record', record)
local clean_count = 0
for i = 6, #ARGV, 9 do
  local pid, wpm, acc = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local clean, win, tie = ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local ps = p .. 'pstats:' .. pid
  keep_player(p .. 'player:' .. pid, ARGV[i + 8], at)
  redis.call('HSET', rkey, 'r:' .. pid, ARGV[i + 6])
  redis.call('HINCRBY', ps, 'races', 1)
  redis.call('ZADD', p .. 'presults:' .. pid, at, rid)
  if win == '1' then
    redis.call('HINCRBY', ps, 'wins', 1)
  end
  if clean == '1' then
    clean_count = clean_count + 1
    redis.call('HINCRBY', ps, 'clean', 1)
    redis.call('HINCRBYFLOAT', ps, 'wpm_sum', wpm)
    redis.call('HINCRBYFLOAT', ps, 'acc_sum', acc)
    local best = redis.call('HGET', ps, 'best')
    if not best or tonumber(wpm) > tonumber(best) then
      redis.call('HSET', ps, 'best', wpm)
    end
    redis.call('ZADD', p .. 'pclean:' .. pid, at, rid)
    redis.call('HINCRBY', p .. 'tstats:' .. tid, 'clean', 1)
    redis.call('HINCRBYFLOAT', p .. 'tstats:' .. tid, 'wpm_sum', wpm)
    for _, board in ipairs({p .. 'lb', p .. 'lb:t:' .. tid}) do
      -- Keep the player's best: faster, or as fast but earlier.
      local current = redis.call('ZSCORE', board, pid)
      local better = not current or tonumber(wpm) > tonumber(current)
      if not better and tonumber(wpm) == tonumber(current) then
        better = tie < redis.call('HGET', board .. ':k', pid)
      end
      if better then
        redis.call('ZADD', board, wpm, pid)
        redis.call('HSET', board .. ':k', pid, tie)
        redis.call('HSET', board .. ':e', pid, ARGV[i + 7])
      end
    end
  end
end
if clean_count > 0 and redis.call('EXISTS', p .. 'text:' .. tid) == 1 then
  redis.call('HINCRBY', p .. 'text:' .. tid, 'completions', clean_count)
end
return 1
"""

# The summaries of the player's last `n` clean results, newest first (p, pid, n set).
_LAST_CLEAN = """
local clean = {}
for _, rid in ipairs(redis.call('ZREVRANGE', p .. 'pclean:' .. pid, 0, n - 1)) do
  clean[#clean + 1] = redis.call('HGET', p .. 'race:' .. rid, 'r:' .. pid)
end
"""

# ARGV: prefix, player_id, how many. Returns the summaries of _LAST_CLEAN.
_RATING = """
local p, pid, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
""" + _LAST_CLEAN + "return clean"

# ARGV: prefix, player_id, how many recent, how many clean. Returns nil for an unknown
# player, else {player hash, pstats hash, {summary, title, ...} newest first, {clean
# summaries} newest first}.
_PLAYER_STATS = """
local p, pid, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local player = redis.call('HGETALL', p .. 'player:' .. pid)
if #player == 0 then
  return false
end
local recent = {}
for _, rid in ipairs(redis.call('ZREVRANGE', p .. 'presults:' .. pid, 0, n - 1)) do
  local summary = redis.call('HGET', p .. 'race:' .. rid, 'r:' .. pid)
  local tid = cjson.decode(summary)['text_id']
  recent[#recent + 1] = summary
  -- (`or false`: a nil would leave a hole that shifts every later pair)
  recent[#recent + 1] = redis.call('HGET', p .. 'text:' .. tid, 'title') or false
end
n = tonumber(ARGV[4])
""" + _LAST_CLEAN + """
return {player, redis.call('HGETALL', p .. 'pstats:' .. pid), recent, clean}
"""

# ARGV: prefix, text_id, player. Returns nil, or {the player's entry on the text's
# board, their current name}.
_PERSONAL_BEST = """
local entry = redis.call('HGET', ARGV[1] .. 'lb:t:' .. ARGV[2] .. ':e', ARGV[3])
if not entry then return false end
return {entry, redis.call('HGET', ARGV[1] .. 'player:' .. ARGV[3], 'name') or false}
"""

# ARGV: prefix, board, limit. Returns {entry, current name, ...} for the top `limit`
# players who are not banned, plus every such player tied with the last of them (the
# caller orders ties by time: Redis would order them by member name). Banned players
# are skipped as the board is read (they are few), so an unban needs no rebuild.
_LEADERBOARD = """
local p, board, limit = ARGV[1], ARGV[1] .. ARGV[2], tonumber(ARGV[3])
local function allowed(m)
  return redis.call('HGET', p .. 'player:' .. m, 'banned') ~= '1'
end
local members, seen, last = {}, {}, nil
local start = 0
while #members < limit do
  local page = redis.call('ZREVRANGE', board, start, start + limit - 1, 'WITHSCORES')
  if #page == 0 then
    break
  end
  for i = 1, #page, 2 do
    if #members < limit and allowed(page[i]) then
      members[#members + 1] = page[i]
      seen[page[i]] = true
      last = page[i + 1]
    end
  end
  start = start + limit
end
if last == nil then
  return {}
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', board, last, last)) do
  if not seen[m] and allowed(m) then
    members[#members + 1] = m
  end
end
local out = {}
for _, m in ipairs(members) do
  out[#out + 1] = redis.call('HGET', board .. ':e', m)
  out[#out + 1] = redis.call('HGET', p .. 'player:' .. m, 'name') or false
end
return out
"""

def _hash(flat: list) -> dict[str, bytes]:
    """A flat HGETALL reply [f1, v1, f2, v2...] as {field: value}."""
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


def _text(text_id: int, h: dict[str, bytes] | dict[str, str]) -> Text:
    return Text(text_id, decoded(h["title"]), decoded(h["source"]), decoded(h["body"]),
                decoded(h.get("author")), decoded(h.get("author_name")),
                int(h["created_ms"]), int(h["completions"]),
                decoded(h.get("hidden")) == "1")


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _average_wpm(summaries: list) -> float | None:
    """The average wpm of result summaries (JSON), None for none."""
    wpms = [json.loads(s)["wpm"] for s in summaries]
    return sum(wpms) / len(wpms) if wpms else None


class RedisStore(RedisTrust, Store):
    def __init__(self, url: str, prefix: str = "tr:", timeout: float = 2.0):
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self.redis: Redis | None = None

    def _k(self, key: str) -> str:
        return self.prefix + key

    # ---- lifecycle ------------------------------------------------------------

    async def open(self) -> None:
        try:
            self.redis = await Redis.connect(self.url, timeout=self.timeout)
        except ValueError as exc:   # not a redis:// URL
            raise StoreUnusable(f"--redis-url: {exc}") from None

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.close()
            self.redis = None

    # ---- meta and players -----------------------------------------------------

    async def get_meta(self, key):
        value = await self.redis.execute("HGET", self._k("meta"), key)
        return value.decode() if value is not None else None

    async def set_meta_once(self, key, value):
        stored = await self.redis.eval(_SET_META_ONCE, [self._k("meta")], [key, value])
        return stored.decode()

    async def rename_player(self, player_id, name, now_ms):
        await self.redis.eval(_RENAME_PLAYER, [self._k("player:" + player_id)], [name, now_ms])

    # ---- texts ----------------------------------------------------------------

    async def _add(self, texts, now_ms, author, author_name) -> list[int]:
        if not texts:
            return []
        args: list = [self.prefix, now_ms, author or "", author_name or ""]
        for t in texts:
            args += [_digest(t["body"]), t["title"], t.get("source") or "", t["body"]]
        return await self.redis.eval(_ADD_TEXTS, [], args)

    async def add_texts(self, texts, now_ms, author=None, author_name=None):
        return [abs(i) for i in await self._add(texts, now_ms, author, author_name)]

    async def submit_text(self, text, author, author_name, now_ms):
        [text_id] = await self._add([text], now_ms, author, author_name)
        if text_id < 0:
            raise TextExists(-text_id)
        return await self.get_text(text_id)

    async def get_text(self, text_id):
        h = _hash(await self.redis.execute("HGETALL", self._k(f"text:{int(text_id)}")))
        return _text(int(text_id), h) if h else None

    async def library_text_ids(self):
        ids = await self.redis.execute("ZRANGE", self._k("texts:library"), 0, -1)
        return [int(m) for m in ids]

    async def list_texts(self, offset, limit, author=None):
        zset = f"texts:by:{author}" if author else "texts"
        reply = await self.redis.eval(_LIST_TEXTS, [],
                                      [self.prefix, zset, max(0, offset), max(0, limit)])
        texts = []
        for i in range(1, len(reply), 2):
            flat = json.loads(reply[i + 1])
            texts.append(_text(reply[i], dict(zip(flat[::2], flat[1::2]))))
        return texts, reply[0]

    # ---- results and statistics -----------------------------------------------

    async def save_race(self, race: RaceRecord) -> None:
        racers = len(race.results)
        record = msgpack.packb(
            [race.race_id, race.room_id, race.kind, race.text_id, race.started_ms,
             race.ended_ms, [[r.player_id, r.name, r.slot, r.place, r.status, r.wpm,
                              r.accuracy, r.race_ms, r.pos, r.keystrokes,
                              r.correct_keystrokes, [list(e) for e in r.log], r.flagged]
                             for r in race.results]], use_bin_type=True)
        args: list = [self.prefix, race.race_id, race.text_id, record, race.ended_ms]
        for r in race.results:
            summary = {"race_id": race.race_id, "kind": race.kind, "text_id": race.text_id,
                       "wpm": r.wpm, "accuracy": r.accuracy, "place": r.place,
                       "racers": racers, "status": r.status, "race_ms": r.race_ms,
                       "at_ms": race.ended_ms, "flagged": r.flagged}
            entry = {"player_id": r.player_id, "name": r.name, "wpm": r.wpm,
                     "accuracy": r.accuracy, "race_ms": r.race_ms, "at_ms": race.ended_ms,
                     "text_id": race.text_id, "race_id": race.race_id}
            args += [r.player_id, float(r.wpm), float(r.accuracy), "1" if r.clean else "0",
                     "1" if r.won(racers) else "0",
                     f"{race.ended_ms:015d}:{race.race_id}",
                     json.dumps(summary), json.dumps(entry), r.name]
        await self.redis.eval(_SAVE_RACE, [], args)

    async def get_race(self, race_id):
        blob = await self.redis.execute("HGET", self._k("race:" + race_id), "record")
        if blob is None:
            return None
        rid, room_id, kind, text_id, started_ms, ended_ms, results = msgpack.unpackb(
            blob, raw=False)
        record = RaceRecord(rid, room_id, kind, text_id, started_ms, ended_ms)
        for r in sorted(results, key=lambda r: r[3]):
            record.results.append(Result(*r[:11], [tuple(e) for e in r[11]], r[12]))
        return record

    async def player_stats(self, player_id):
        reply = await self.redis.eval(_PLAYER_STATS, [],
                                      [self.prefix, player_id, RECENT, max(RECENT, HISTORY)])
        if reply is None:
            return None
        player, totals, recent_flat, clean = reply
        player, totals = _hash(player), _hash(totals)
        n = int(totals.get("clean", 0))
        history = []
        for summary in reversed(clean[:HISTORY]):
            s = json.loads(summary)
            history.append({k: s[k] for k in ("race_id", "text_id", "wpm", "accuracy",
                                              "at_ms")})
        recent = []
        for i in range(0, len(recent_flat), 2):
            s = json.loads(recent_flat[i])
            title = recent_flat[i + 1]
            recent.append({"race_id": s["race_id"], "kind": s["kind"],
                           "text_id": s["text_id"],
                           "title": title.decode() if title is not None else None,
                           **{k: s[k] for k in ("wpm", "accuracy", "place", "racers",
                                                "status", "race_ms", "at_ms", "flagged")}})
        return {
            "player_id": player_id, "name": player["name"].decode(),
            "races": int(totals.get("races", 0)), "wins": int(totals.get("wins", 0)),
            "best_wpm": round(float(totals.get("best", 0)), 2),
            "avg_wpm": round(float(totals["wpm_sum"]) / n, 2) if n else 0.0,
            "avg_wpm_last_10": round(_average_wpm(clean[:RECENT]) or 0.0, 2),
            "avg_accuracy": round(float(totals["acc_sum"]) / n, 4) if n else 0.0,
            "recent": recent,
            "history": history,
        }

    async def rating(self, player_id):
        return _average_wpm(await self.redis.eval(_RATING, [],
                                                  [self.prefix, player_id, RECENT]))

    async def personal_best(self, player_id, text_id):
        found = await self.redis.eval(_PERSONAL_BEST, [], [self.prefix, int(text_id), player_id])
        if not found:
            return None
        entry = json.loads(found[0])
        if found[1] is not None:               # shown under the player's current name
            entry["name"] = found[1].decode()
        return entry

    async def _board(self, board: str, limit: int) -> list[dict]:
        if limit <= 0:
            return []
        reply = await self.redis.eval(_LEADERBOARD, [], [self.prefix, board, limit])
        entries = []
        for i in range(0, len(reply), 2):
            entry = json.loads(reply[i])
            if reply[i + 1] is not None:       # shown under the player's current name
                entry["name"] = reply[i + 1].decode()
            entries.append(entry)
        entries.sort(key=lambda e: (-e["wpm"], e["at_ms"], e["race_id"]))
        return entries[:limit]

    async def text_stats(self, text_id):
        text = await self.get_text(text_id)
        if text is None or text.hidden:
            return None
        totals = _hash(await self.redis.execute("HGETALL", self._k(f"tstats:{int(text_id)}")))
        n = int(totals.get("clean", 0))
        return {"text": text.listing(), "completions": text.completions,
                "avg_wpm": round(float(totals["wpm_sum"]) / n, 2) if n else 0.0,
                "top": await self._board(f"lb:t:{int(text_id)}", 10)}

    async def leaderboard(self, text_id, limit=20):
        return await self._board(f"lb:t:{int(text_id)}" if text_id else "lb", limit)
