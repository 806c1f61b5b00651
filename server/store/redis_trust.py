"""Accounts, bans, reports and hidden texts in Redis: the scripts and the RedisStore
methods that run them (a part of server/store/redis.py; redis_scripts.py lists every
key). Every change that touches more than one key is one Lua script, so it is atomic
across the processes sharing the Redis: two players can't both register one name, and
the report that reaches the threshold hides the text exactly once."""

from __future__ import annotations

import json

from server.store.redis_adapter import decoded
from server.store import (Account, AlreadyRegistered, Identity, NameTaken, ReportedText,
                          ReportOutcome)

# ARGV: prefix, player_id ('' for none), name_key. Returns {gen, banned, account, owner}.
_CHECK_IDENTITY = """
local p, pid = ARGV[1], ARGV[2]
local player = {false, false, false}
if pid ~= '' then
  player = redis.call('HMGET', p .. 'player:' .. pid, 'gen', 'banned', 'account')
end
return {player[1], player[2], player[3], redis.call('HGET', p .. 'accounts', ARGV[3])}
"""

# ARGV: prefix, player_id, name, name_key, hash, now_ms. 0 made, 1 the player has an
# account already, 2 the name is another's.
_CREATE_ACCOUNT = """
local p, pid, name = ARGV[1], ARGV[2], ARGV[3]
local key = p .. 'player:' .. pid
if redis.call('HEXISTS', key, 'account') == 1 then
  return 1
end
if redis.call('HSETNX', p .. 'accounts', ARGV[4], pid) == 0 then
  return 2
end
redis.call('HSETNX', key, 'created_ms', ARGV[6])
redis.call('HSETNX', key, 'seen_ms', ARGV[6])
redis.call('HSET', key, 'name', name, 'account', name, 'pw', ARGV[5])
return 0
"""

# ARGV: prefix, name_key. Returns nil, or {player_id, name, hash, gen, banned}.
_GET_ACCOUNT = """
local pid = redis.call('HGET', ARGV[1] .. 'accounts', ARGV[2])
if not pid then
  return false
end
local a = redis.call('HMGET', ARGV[1] .. 'player:' .. pid, 'account', 'pw', 'gen', 'banned')
return {pid, a[1], a[2], a[3], a[4]}
"""

# KEYS: the player's hash. ARGV: hash. Returns the new token generation.
_SET_PASSWORD = """
redis.call('HSET', KEYS[1], 'pw', ARGV[1])
return redis.call('HINCRBY', KEYS[1], 'gen', 1)
"""

# KEYS: the player's hash, the set of banned players. ARGV: '1' to ban, '0' to unban,
# the player's id. Returns the name, or nil.
_SET_BANNED = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
if ARGV[1] == '1' then
  redis.call('HSET', KEYS[1], 'banned', '1')
  redis.call('SADD', KEYS[2], ARGV[2])
else
  redis.call('HDEL', KEYS[1], 'banned')
  redis.call('SREM', KEYS[2], ARGV[2])
end
return redis.call('HGET', KEYS[1], 'name')
"""

# ARGV: prefix, version, then old key, new key, player id for each account, oldest
# first. Moves each account to its new key unless that is another's, then records the
# version. Returns how many moved.
_REKEY_ACCOUNTS = """
local p = ARGV[1]
local moved = 0
for i = 3, #ARGV, 3 do
  local old, new, pid = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('HGET', p .. 'accounts', old) == pid
      and redis.call('HSETNX', p .. 'accounts', new, pid) == 1 then
    redis.call('HDEL', p .. 'accounts', old)
    moved = moved + 1
  end
end
redis.call('HSET', p .. 'meta', 'account_name_keys', ARGV[2])
return moved
"""

# KEYS: the buckets (allow:<key>). ARGV: now_ms, 1 to take a token from each (all or
# none) or -1 to give one back, then each bucket's burst and tokens per ms. A bucket is
# a hash {t: tokens, s: stamp_ms} that expires when it would be full again (a full
# bucket and none are the same). The sums are AllowanceTable's (server/core/accounts.py).
# Returns 1, or 0 when a bucket was empty (nothing taken).
_ALLOWANCES = """
local now, way = tonumber(ARGV[1]), tonumber(ARGV[2])
local level = {}
for i, key in ipairs(KEYS) do
  local burst, rate = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local b = redis.call('HMGET', key, 't', 's')
  local tokens = burst
  if b[1] then
    tokens = math.min(burst, tonumber(b[1]) + math.max(0, now - tonumber(b[2])) * rate)
  end
  if way > 0 and tokens < 1 then
    return 0
  end
  level[i] = tokens
end
for i, key in ipairs(KEYS) do
  local burst, rate = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local tokens = math.min(burst, level[i] - way)
  if tokens >= burst then
    redis.call('DEL', key)
  else
    redis.call('HSET', key, 't', string.format('%.6f', tokens), 's', ARGV[1])
    redis.call('PEXPIRE', key, math.ceil((burst - tokens) / rate) + 1000)
  end
end
return 1
"""

# Hiding takes a text out of the listing zsets; restoring puts it back at its place.
_VISIBILITY = """
local function hide(p, tid)
  local key = p .. 'text:' .. tid
  local member = string.format('%012d', tonumber(tid))
  redis.call('HSET', key, 'hidden', '1')
  redis.call('SADD', p .. 'texts:hidden', tid)
  redis.call('ZREM', p .. 'texts', member)
  local author = redis.call('HGET', key, 'author')
  if author then
    redis.call('ZREM', p .. 'texts:by:' .. author, member)
  end
end
local function restore(p, tid)
  local key = p .. 'text:' .. tid
  local member = string.format('%012d', tonumber(tid))
  local created = redis.call('HGET', key, 'created_ms')
  redis.call('HDEL', key, 'hidden')
  redis.call('HSET', key, 'reviewed', '1')
  redis.call('SREM', p .. 'texts:hidden', tid)
  redis.call('ZADD', p .. 'texts', created, member)
  local author = redis.call('HGET', key, 'author')
  if author then
    redis.call('ZADD', p .. 'texts:by:' .. author, created, member)
  end
end
"""

# ARGV: prefix, text_id, player_id, report JSON, threshold. Returns nil for an unknown
# or hidden text, else {counted, reports, hidden}.
_REPORT_TEXT = _VISIBILITY + """
local p, tid, pid = ARGV[1], ARGV[2], ARGV[3]
local t = redis.call('HMGET', p .. 'text:' .. tid, 'title', 'hidden', 'author', 'reviewed')
if not t[1] or t[2] == '1' then
  return false
end
local counted = redis.call('HSETNX', p .. 'reports:' .. tid, pid, ARGV[4])
local n = redis.call('HLEN', p .. 'reports:' .. tid)
redis.call('ZADD', p .. 'reported', n, tid)
local hidden = 0
if t[3] and t[4] ~= '1' and n >= tonumber(ARGV[5]) then
  hide(p, tid)
  hidden = 1
end
return {counted, n, hidden}
"""

# ARGV: prefix, text_id, '1' hide / '0' restore. Returns nil for an unknown text, else
# 1 if it was hidden before, 0 if not.
_SET_TEXT_HIDDEN = _VISIBILITY + """
local p, tid = ARGV[1], ARGV[2]
if redis.call('EXISTS', p .. 'text:' .. tid) == 0 then
  return false
end
local was = redis.call('HGET', p .. 'text:' .. tid, 'hidden') == '1' and 1 or 0
if ARGV[3] == '1' then
  hide(p, tid)
else
  restore(p, tid)
end
return was
"""


# ARGV: prefix, limit. Returns, for the most reported texts: id, reports, title, author,
# author_name, hidden, {report JSON...}, flat.
_REPORTED_TEXTS = """
local p = ARGV[1]
local out = {}
for _, tid in ipairs(redis.call('ZREVRANGE', p .. 'reported', 0, tonumber(ARGV[2]) - 1)) do
  local t = redis.call('HMGET', p .. 'text:' .. tid, 'title', 'author', 'author_name', 'hidden')
  out[#out + 1] = tid
  out[#out + 1] = redis.call('HLEN', p .. 'reports:' .. tid)
  out[#out + 1] = t[1]
  out[#out + 1] = t[2]
  out[#out + 1] = t[3]
  out[#out + 1] = t[4]
  out[#out + 1] = redis.call('HVALS', p .. 'reports:' .. tid)
end
return out
"""


class RedisTrust:
    """Mixed into RedisStore: uses its `redis`, `prefix`, `_k` and `get_text`."""

    # ---- accounts and bans ----------------------------------------------------

    async def check_identity(self, player_id, name_key):
        gen, banned, account, owner = await self.redis.eval(
            _CHECK_IDENTITY, [], [self.prefix, player_id or "", name_key])
        return Identity(int(gen or 0), banned == b"1", decoded(account), decoded(owner))

    async def create_account(self, player_id, name, name_key, password_hash, now_ms):
        outcome = await self.redis.eval(_CREATE_ACCOUNT, [], [
            self.prefix, player_id, name, name_key, password_hash, now_ms])
        if outcome == 1:
            raise AlreadyRegistered(player_id)
        if outcome == 2:
            raise NameTaken(name)

    async def get_account(self, name_key):
        reply = await self.redis.eval(_GET_ACCOUNT, [], [self.prefix, name_key])
        if reply is None:
            return None
        pid, name, password_hash, gen, banned = reply
        return Account(pid.decode(), name.decode(), password_hash.decode(), int(gen or 0),
                       banned == b"1")

    async def set_password(self, player_id, password_hash):
        return await self.redis.eval(_SET_PASSWORD, [self._k("player:" + player_id)],
                                     [password_hash])

    async def set_banned(self, player_id, banned):
        name = await self.redis.eval(
            _SET_BANNED, [self._k("player:" + player_id), self._k("banned")],
            ["1" if banned else "0", player_id])
        return decoded(name)

    async def rekey_accounts(self, version, key):
        if await self.redis.execute("HGET", self._k("meta"), "account_name_keys") == (
                version.encode()):
            return 0
        accounts = []
        owners = await self.redis.execute("HGETALL", self._k("accounts"))
        for old, pid in zip(owners[::2], owners[1::2]):
            name, created = await self.redis.execute(
                "HMGET", self._k("player:" + pid.decode()), "account", "created_ms")
            if name is not None and key(name.decode()) != old.decode():
                accounts.append((int(created or 0), pid.decode(), old.decode(),
                                 key(name.decode())))
        args = [self.prefix, version]
        for _, pid, old, new in sorted(accounts):
            args += [old, new, pid]
        return await self.redis.eval(_REKEY_ACCOUNTS, [], args)

    async def _allowances(self, allowances, now_ms, way):
        rules = []
        for a in allowances:
            rules += [a.burst, repr(a.per_min / 60_000)]
        return await self.redis.eval(_ALLOWANCES, [self._k("allow:" + a.key) for a in allowances],
                                     [now_ms, way, *rules])

    async def take_allowances(self, allowances, now_ms):
        return await self._allowances(allowances, now_ms, 1) == 1

    async def give_back_allowances(self, allowances, now_ms):
        await self._allowances(allowances, now_ms, -1)

    # ---- reports and hidden texts ---------------------------------------------

    async def report_text(self, text_id, player_id, reason, now_ms, threshold):
        reply = await self.redis.eval(_REPORT_TEXT, [], [
            self.prefix, int(text_id), player_id,
            json.dumps({"reason": reason, "at_ms": now_ms}), threshold])
        if reply is None:
            return None
        counted, reports, hidden = reply
        return ReportOutcome(counted == 1, reports, hidden == 1)

    async def set_text_hidden(self, text_id, hidden):
        was = await self.redis.eval(_SET_TEXT_HIDDEN, [],
                                    [self.prefix, int(text_id), "1" if hidden else "0"])
        return None if was is None else was == 1

    async def hidden_text_ids(self):
        return {int(m) for m in await self.redis.execute("SMEMBERS", self._k("texts:hidden"))}

    async def reported_texts(self, limit=50):
        reply = await self.redis.eval(_REPORTED_TEXTS, [], [self.prefix, limit])
        found = []
        for i in range(0, len(reply), 7):
            text_id, count, title, author, author_name, hidden, reports = reply[i:i + 7]
            last = max((json.loads(r) for r in reports), key=lambda r: r["at_ms"])
            found.append(ReportedText(int(text_id), title.decode(), decoded(author),
                                      decoded(author_name), int(count), hidden == b"1",
                                      last["reason"], last["at_ms"]))
        # (Redis orders equal counts by member; the contract wants the latest first.)
        found.sort(key=lambda r: (-r.reports, -r.last_ms, r.text_id))
        return found
