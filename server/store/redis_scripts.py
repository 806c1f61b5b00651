"""The Redis store's key layout and the Lua scripts server/store/redis.py runs (one for
each write that touches more than one key; redis.py says why).

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
  allow:<kind>:<key>        hash  t (tokens), s (stamp, ms): a limit's bucket (logins,
                                  sign-ups), expiring when it would be full again
  race:<race_id>            hash  record (msgpack: the race [id, room, kind, text,
                                  started, ended, []]; races saved before results
                                  were saved one by one hold them in that list),
                                  ended (ms of the latest save),
                                  x:<player> (msgpack: that player's whole result,
                                  with its keystroke log),
                                  r:<player> (JSON summary of that player's result)
  pstats:<player>           hash  races, wins, clean, wpm_sum, acc_sum, best
  presults:<player>         zset  race ids by time (recent results)
  pclean:<player>           zset  race ids of clean results by time (last-10 average)
  tstats:<text>             hash  clean, wpm_sum
  lb, lb:t:<text>           zsets best clean wpm per player, overall and per text;
                                  with <board>:e (player -> JSON entry) and <board>:k
                                  (player -> "at_ms:race_id", to break ties by time)
  lb:t:<-n>                 the board of a day's text (competition.daily_board); kept
                                  DAY_KEEP_S after its day
  daily:<day>               set   texts raced as the text of that UTC day (DAY_KEEP_S)
  daily:pins                hash  day -> the operator's text of the day
  pts:<period>              zset  points per player in a period ("day:2026-12-06",
                                  "week:2026-W49", "all"), with :k (player ->
                                  "reached_ms:player_id", ties by time); a player's
                                  races in it are read from pclean:<player> (boards
                                  saved before kept them in :e, no longer read); a
                                  day's kept DAY_KEEP_S after it, a week's WEEK_KEEP_S
  ptsq                      list  clean results' points not on the boards yet: "<day
                                  period> <week period> <points> <at_ms> <player>"
                                  (SAVE_RACE queues, redis_competition.py folds)
  banned                    set   banned players (a place is counted without them)

The scripts of accounts, bans, reports and hidden texts are in redis_trust.py; the
per-key statistics (keys:<player>, bigrams:<player>, kpend:<player>, kpending) in
redis_keystats.py.
"""

SET_META_ONCE = """
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])
"""

# Only a kept player (one with a result or a text) has a hash: hello creates none.
RENAME_PLAYER = """
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
ADD_TEXTS = _KEEP_PLAYER + """
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
LIST_TEXTS = """
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

# Competition keys outlive their period this long (yesterday's board and a week of
# daily winners stay readable), then Redis drops them.
DAY_KEEP_S = 40 * 86400
WEEK_KEEP_S = 12 * 7 * 86400

# (Lua shared by SAVE_RACE: keep a player's best on a board: faster, or as fast but
# earlier.)
_KEEP_BEST = """
local function keep_best(board, pid, wpm, tie, entry)
  local current = redis.call('ZSCORE', board, pid)
  local better = not current or tonumber(wpm) > tonumber(current)
  if not better and tonumber(wpm) == tonumber(current) then
    better = tie < redis.call('HGET', board .. ':k', pid)
  end
  if better then
    redis.call('ZADD', board, wpm, pid)
    redis.call('HSET', board .. ':k', pid, tie)
    redis.call('HSET', board .. ':e', pid, entry)
  end
end
local function expire(board, seconds)
  for _, key in ipairs({board, board .. ':k', board .. ':e'}) do
    redis.call('EXPIRE', key, seconds)
  end
end
"""

# ARGV: prefix, race_id, text_id, record, at_ms, daily board ('' when the race was not
# on the day's text), day, day period, week period, then per result: player_id, wpm,
# accuracy, clean ('1'/'0'), win ('1'/'0'), tie key, summary JSON, board entry JSON,
# name, points, result (msgpack). A race is saved in steps (a finisher at its finish,
# everyone at the end): a result the race has already (r:<player>) is skipped, so
# nothing is counted twice. A clean result is queued for the per-key statistics
# (kpend:<player>, folded by redis_keystats.py) and its points for the boards (ptsq,
# folded by redis_competition.py). Returns how many results were new.
SAVE_RACE = _KEEP_PLAYER + _KEEP_BEST + f"""
local day_keep = '{DAY_KEEP_S}'
""" + """
local p, rid, tid, record, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local daily, day, day_period, week_period = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local rkey = p .. 'race:' .. rid
local ended = redis.call('HGET', rkey, 'ended')
if not ended or tonumber(at) > tonumber(ended) then
  redis.call('HSET', rkey, 'record', record, 'ended', at)
end

local points = {}    -- the new clean results' points, queued for the boards (ptsq)

-- THE place one result is written (its arguments start at ARGV[i]): the result, its
-- player's totals, its bests, and its marks for folding (keys and points).
local function save_result(i)
  local pid, wpm, acc = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local clean, win, tie = ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local ps = p .. 'pstats:' .. pid
  keep_player(p .. 'player:' .. pid, ARGV[i + 8], at)
  redis.call('HSET', rkey, 'r:' .. pid, ARGV[i + 6], 'x:' .. pid, ARGV[i + 10])
  redis.call('HINCRBY', ps, 'races', 1)
  redis.call('ZADD', p .. 'presults:' .. pid, at, rid)
  if win == '1' then
    redis.call('HINCRBY', ps, 'wins', 1)
  end
  if clean ~= '1' then
    return
  end
  redis.call('HINCRBY', ps, 'clean', 1)
  redis.call('HINCRBYFLOAT', ps, 'wpm_sum', wpm)
  redis.call('HINCRBYFLOAT', ps, 'acc_sum', acc)
  local best = redis.call('HGET', ps, 'best')
  if not best or tonumber(wpm) > tonumber(best) then
    redis.call('HSET', ps, 'best', wpm)
  end
  redis.call('ZADD', p .. 'pclean:' .. pid, at, rid)
  redis.call('RPUSH', p .. 'kpend:' .. pid, rid)
  redis.call('SADD', p .. 'kpending', pid)
  redis.call('HINCRBY', p .. 'tstats:' .. tid, 'clean', 1)
  redis.call('HINCRBYFLOAT', p .. 'tstats:' .. tid, 'wpm_sum', wpm)
  if tid ~= '0' then      -- (text 0: a generated passage, GENERATED_ID: on no board)
    keep_best(p .. 'lb', pid, wpm, tie, ARGV[i + 7])
    keep_best(p .. 'lb:t:' .. tid, pid, wpm, tie, ARGV[i + 7])
  end
  points[#points + 1] = day_period .. ' ' .. week_period .. ' ' .. ARGV[i + 9] .. ' ' ..
                        at .. ' ' .. pid
  if daily ~= '' then
    keep_best(p .. 'lb:t:' .. daily, pid, wpm, tie, ARGV[i + 7])
    expire(p .. 'lb:t:' .. daily, day_keep)
    redis.call('SADD', p .. 'daily:' .. day, tid)
    redis.call('EXPIRE', p .. 'daily:' .. day, day_keep)
  end
end

local new, clean_count = 0, 0
for i = 10, #ARGV, 11 do
  -- A result the race has already is kept as it was: counted once.
  if redis.call('HEXISTS', rkey, 'r:' .. ARGV[i]) == 0 then
    save_result(i)
    new = new + 1
    if ARGV[i + 3] == '1' then
      clean_count = clean_count + 1
    end
  end
end
if clean_count > 0 then
  redis.call('RPUSH', p .. 'ptsq', unpack(points))
  if redis.call('EXISTS', p .. 'text:' .. tid) == 1 then
    redis.call('HINCRBY', p .. 'text:' .. tid, 'completions', clean_count)
  end
end
return new
"""

# The summaries of the player's last `n` clean results, newest first (p, pid, n set).
_LAST_CLEAN = """
local clean = {}
for _, rid in ipairs(redis.call('ZREVRANGE', p .. 'pclean:' .. pid, 0, n - 1)) do
  clean[#clean + 1] = redis.call('HGET', p .. 'race:' .. rid, 'r:' .. pid)
end
"""

# ARGV: prefix, player_id, how many. Returns the summaries of _LAST_CLEAN.
RATING = """
local p, pid, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
""" + _LAST_CLEAN + "return clean"

# ARGV: prefix, player_id, how many recent, how many clean. Returns nil for an unknown
# player, else {player hash, pstats hash, {summary, title, ...} newest first, {clean
# summaries} newest first}.
PLAYER_STATS = """
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
PERSONAL_BEST = """
local entry = redis.call('HGET', ARGV[1] .. 'lb:t:' .. ARGV[2] .. ':e', ARGV[3])
if not entry then return false end
return {entry, redis.call('HGET', ARGV[1] .. 'player:' .. ARGV[3], 'name') or false}
"""

# ARGV: prefix, text board ('' for none), then player ids. Returns {text scores,
# overall scores}, each a list in the players' order (nil: no clean result).
BESTS_OF = """
local p = ARGV[1]
local text, overall = {}, redis.call('ZMSCORE', p .. 'lb', unpack(ARGV, 3))
if ARGV[2] ~= '' then
  text = redis.call('ZMSCORE', p .. 'lb:t:' .. ARGV[2], unpack(ARGV, 3))
end
return {text, overall}
"""

# (Lua shared by the board reads: a player's entry on a points board, from the board's
# score and tie key, and pclean:<player>, the clean results by time: the player's races
# in the period are the clean results in its window, bounded by `first` and `after`.)
_POINTS_ENTRY = """
local function points_entry(p, board, m, first, after)
  return {player_id = m, points = tonumber(redis.call('ZSCORE', board, m)),
          races = redis.call('ZCOUNT', p .. 'pclean:' .. m, first, '(' .. after),
          reached_ms = tonumber(string.sub(redis.call('HGET', board .. ':k', m), 1, 15))}
end
"""

# ARGV: prefix, board, player. Returns nil when the player is not on the board, else
# {score, how many players not banned are ahead}: ahead is a higher score, or the same
# and an earlier tie key (<board>:k, read for all the tied players at once).
BOARD_PLACE = """
local p, board, pid = ARGV[1], ARGV[1] .. ARGV[2], ARGV[3]
local score = redis.call('ZSCORE', board, pid)
if not score then
  return false
end
local mine = redis.call('HGET', board .. ':k', pid)
local count = redis.call('ZCOUNT', board, '(' .. score, '+inf')
local tied = redis.call('ZRANGEBYSCORE', board, score, score)
for from = 1, #tied, 1000 do            -- (unpack's stack has a limit)
  local upto = math.min(from + 999, #tied)
  local keys = redis.call('HMGET', board .. ':k', unpack(tied, from, upto))
  for i = from, upto do
    if tied[i] ~= pid and keys[i - from + 1] < mine then
      count = count + 1
    end
  end
end
for _, m in ipairs(redis.call('SMEMBERS', p .. 'banned')) do
  local s = redis.call('ZSCORE', board, m)
  if s and m ~= pid and (tonumber(s) > tonumber(score) or (tonumber(s) == tonumber(score)
      and redis.call('HGET', board .. ':k', m) < mine)) then
    count = count - 1
  end
end
return {score, count}
"""

# ARGV: prefix, board, limit, then for a points board 'points' and its window (first
# ms, '+inf' or the ms after it: competition.Window). Returns {entry (JSON), current
# name, ...} for the top `limit` players who are not banned, plus every such player
# tied with the last of them (the caller orders ties by time: Redis would order them
# by member name). Banned players are skipped as the board is read (they are few), so
# an unban needs no rebuild.
LEADERBOARD = _POINTS_ENTRY + """
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
  if ARGV[4] == 'points' then
    out[#out + 1] = cjson.encode(points_entry(p, board, m, ARGV[5], ARGV[6]))
  else
    out[#out + 1] = redis.call('HGET', board .. ':e', m)
  end
  out[#out + 1] = redis.call('HGET', p .. 'player:' .. m, 'name') or false
end
return out
"""
