"""The SQLite adapter's per-key and per-bigram statistics (migration 5, table
key_stats): added to in the transaction that writes a result (write_result calls
keep_key_stats for a clean result new to the store; write_race keeps a generated
passage in `passages` with keep_passage), read for `key_stats`. What a race adds and the caps are the core's
(server/core/keystats.py)."""

from __future__ import annotations

import json

from server.core.keystats import BIGRAMS_MAX, KEYS_MAX, tally

KEY, BIGRAM = 0, 1          # key_stats.kind

# One statement a kind and player: every entry of the race's tally (a JSON object
# {key: [count, errors, ms]}) is added to the row of that key; a key the player has no
# row for yet gets one only while the player has fewer than ?4 rows of this kind (the
# most typed first), so a hostile text with thousands of characters can't grow it.
_ADD = """
INSERT INTO key_stats(player_id, kind, key, count, errors, ms)
SELECT ?1, ?2, j.key, j.value ->> 0, j.value ->> 1, j.value ->> 2
FROM json_each(?3) AS j
LEFT JOIN key_stats AS k ON k.player_id = ?1 AND k.kind = ?2 AND k.key = j.key
WHERE k.key IS NOT NULL OR j.id IN (
    SELECT n.id FROM json_each(?3) AS n
    WHERE NOT EXISTS (SELECT 1 FROM key_stats AS o
                      WHERE o.player_id = ?1 AND o.kind = ?2 AND o.key = n.key)
    ORDER BY (n.value ->> 0) + (n.value ->> 1) DESC, n.key
    LIMIT max(0, ?4 - (SELECT COUNT(*) FROM key_stats WHERE player_id = ?1 AND kind = ?2)))
ON CONFLICT(player_id, kind, key) DO UPDATE SET count = count + excluded.count,
    errors = errors + excluded.errors, ms = ms + excluded.ms
"""


# The same when the player's rows of this kind and the race's entries fit under the cap.
_ADD_ALL = """
INSERT INTO key_stats(player_id, kind, key, count, errors, ms)
SELECT ?1, ?2, j.key, j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(?3) AS j
WHERE ?4 > 0
ON CONFLICT(player_id, kind, key) DO UPDATE SET count = count + excluded.count,
    errors = errors + excluded.errors, ms = ms + excluded.ms
"""


def keep_passage(db, race) -> None:
    """A generated passage kept with its race (a race is saved in steps: once)."""
    if race.passage is not None:
        db.execute("INSERT OR IGNORE INTO passages VALUES (?, ?)", (race.race_id, race.passage))


def keep_key_stats(db, race, r) -> None:
    """Add a clean result's keys and bigrams to its player's rows (inside the transaction
    that writes the result, once: write_result calls it for a result new to the store)."""
    row = None if race.passage is not None else db.execute(
        "SELECT body FROM texts WHERE text_id = ?", (race.text_id,)).fetchone()
    body = race.passage or (row[0] if row else "")      # no text: nothing to tally
    keys, bigrams = tally(body, r.log)
    for kind, table, cap in ((KEY, keys, KEYS_MAX), (BIGRAM, bigrams, BIGRAMS_MAX)):
        have = db.execute("SELECT COUNT(*) FROM key_stats WHERE player_id = ? AND kind = ?",
                          (r.player_id, kind)).fetchone()[0]
        # Room for every entry (nearly always): the plain upsert, at half the cost.
        add = _ADD_ALL if have + len(table) <= cap else _ADD
        db.execute(add, (r.player_id, kind, json.dumps(table), cap))


def read_passage(db, race_id: str) -> str | None:
    row = db.execute("SELECT body FROM passages WHERE race_id = ?", (race_id,)).fetchone()
    return row[0] if row else None


def read_key_stats(db, player_id: str) -> tuple[dict, dict] | None:
    """({key: (count, errors, ms)}, {bigram: (...)}), or None when the player has none."""
    tables: tuple[dict, dict] = ({}, {})
    for kind, key, count, errors, ms in db.execute(
            "SELECT kind, key, count, errors, ms FROM key_stats WHERE player_id = ?",
            (player_id,)):
        tables[kind][key] = (count, errors, ms)
    return tables if tables[0] or tables[1] else None
