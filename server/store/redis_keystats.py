"""The Redis adapter's per-key and per-bigram statistics: the Lua fragment the save
script runs for each clean result (so a race and its statistics are one script: both
or neither), what the adapter hands it, and the read for `key_stats`. What a race adds
and the caps are the core's (server/core/keystats.py).

Keys (under the prefix, see redis_scripts.py):

  keys:<player>             hash  key -> "count errors ms"
  bigrams:<player>          hash  bigram -> "count errors ms"
"""

from __future__ import annotations

import json

from server.core.keystats import BIGRAMS_MAX, KEYS_MAX, tally

# keep_key_stats(prefix, player, tallies): `tallies` is '' (not a clean result) or the
# JSON [keys, bigrams], each a list of [key, count, errors, ms], the most typed first;
# a key without an entry yet gets one only while the hash has fewer than its cap.
KEEP_KEY_STATS = """
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
local function keep_key_stats(p, pid, tallies)
  if tallies == '' then return end
  local t = cjson.decode(tallies)
  add_tally(p .. 'keys:' .. pid, """ + str(KEYS_MAX) + """, t[1])
  add_tally(p .. 'bigrams:' .. pid, """ + str(BIGRAMS_MAX) + """, t[2])
end
"""


def _entries(table: dict) -> list:
    """[key, count, errors, ms], the most typed first (the order the caps keep by, as in
    the SQLite adapter)."""
    return sorted(([k, *v] for k, v in table.items()), key=lambda e: (-e[1] - e[2], e[0]))


def tallies_arg(body: str, result) -> str:
    """The save script's argument for one result: '' unless it is clean."""
    if not result.clean:
        return ""
    keys, bigrams = tally(body, result.log)
    return json.dumps([_entries(keys), _entries(bigrams)])


def parsed(flat: list) -> dict:
    """An HGETALL reply of keys:<player> or bigrams:<player> as {key: (count, errors, ms)}."""
    return {flat[i].decode(): tuple(map(int, flat[i + 1].split()))
            for i in range(0, len(flat), 2)}
