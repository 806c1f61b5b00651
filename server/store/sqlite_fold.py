"""The SQLite adapter's view of the saved results (server/store/folding.py says why and
how): per-key statistics, points per period and the histogram a place is counted
from, folded from the queue `unfolded` (migration 7). write_result queues a clean result with
`queue`; fold_points applies queued results' points and fold_keys their keys, in the
order they were saved, and each marks its rows done in the same transaction; a row
both are done with is deleted. What a race adds to the key tables and the caps are the core's
(server/core/keystats.py); the periods and buckets too (server/core/competition.py)."""

from __future__ import annotations

import json

import msgpack

from server.core import competition
from server.core.keystats import BIGRAMS_MAX, KEYS_MAX, tally
from server.store.folding import FOLD_BATCH
from server.store.sqlite_keystats import read_passage

KEY, BIGRAM = 0, 1          # key_stats.kind

# One statement a kind and player: every entry of a tally (a JSON object {key: [count,
# errors, ms]}) is added to the row of that key; a key the player has no row for yet
# gets one only while the player has fewer than ?4 rows of this kind (the most typed
# first), so a hostile text with thousands of characters can't grow it.
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

# The same when the player's rows of this kind and the entries fit under the cap.
_ADD_ALL = """
INSERT INTO key_stats(player_id, kind, key, count, errors, ms)
SELECT ?1, ?2, j.key, j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(?3) AS j
WHERE ?4 > 0
ON CONFLICT(player_id, kind, key) DO UPDATE SET count = count + excluded.count,
    errors = errors + excluded.errors, ms = ms + excluded.ms
"""

_ADD_POINTS = (
    "INSERT INTO points VALUES (?, ?, ?, ?, ?) ON CONFLICT(period, player_id) DO UPDATE"
    " SET points = points + excluded.points, races = races + excluded.races,"
    " reached_ms = excluded.reached_ms RETURNING points, races")

_ADD_TO_BUCKET = (
    "INSERT INTO points_hist VALUES (?, ?, ?) ON CONFLICT(period, bucket) DO UPDATE"
    " SET players = players + excluded.players")


def queue(db, race_id: str, player_id: str, points: int, at_ms: int) -> None:
    """Mark a clean result just written as not folded yet (in the save's transaction):
    one row of `unfolded`, for both folds (a board read folds only points, which are
    cheap to fold; a player's statistics only that player's keys)."""
    db.execute("INSERT INTO unfolded(race_id, player_id, points, at_ms) VALUES (?, ?, ?, ?)",
               (race_id, player_id, points, at_ms))


def pending(db) -> tuple[int, int]:
    """(results whose keys are not folded, results whose points are not folded)."""
    keys, points = db.execute("SELECT TOTAL(keys_done = 0), TOTAL(points_done = 0)"
                              " FROM unfolded").fetchone()
    return int(keys), int(points)


def fold_points(db, most: int = FOLD_BATCH) -> int:
    """Fold the oldest `most` queued results' points into the periods and their
    histogram and mark them done, in one transaction; returns how many."""
    return _in_transaction(db, _fold_points, most)


def fold_keys(db, player_id: str | None = None, most: int = FOLD_BATCH) -> int:
    """Fold the oldest `most` queued results' keys (one player's, or anyone's) into
    key_stats and mark them done, in one transaction; returns how many. Each player's
    results are folded in the order they were saved."""
    return _in_transaction(db, _fold_keys, player_id, most)


def _in_transaction(db, work, *args) -> int:
    db.execute("BEGIN IMMEDIATE")
    try:
        done = work(db, *args)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return done


def _fold_points(db, most: int) -> int:
    rows = db.execute("SELECT seq, player_id, points, at_ms FROM unfolded"
                      " WHERE points_done = 0 ORDER BY seq LIMIT ?", (most,)).fetchall()
    by_player: dict[str, list] = {}
    for row in rows:
        by_player.setdefault(row["player_id"], []).append(row)
    buckets: dict[tuple[str, int], int] = {}
    for pid, mine in by_player.items():
        _add_points(db, pid, mine, buckets)
    db.executemany(_ADD_TO_BUCKET, [(*k, n) for k, n in buckets.items() if n])
    _done(db, "points_done", "keys_done", rows)
    return len(rows)


def _fold_keys(db, player_id: str | None, most: int) -> int:
    where, args = ("AND u.player_id = ?", (player_id, most)) if player_id else ("", (most,))
    rows = db.execute(
        "SELECT u.seq, u.race_id, u.player_id, r.text_id, r.log"
        " FROM unfolded u JOIN results r ON r.race_id = u.race_id"
        f" AND r.player_id = u.player_id WHERE u.keys_done = 0 {where}"
        " ORDER BY u.seq LIMIT ?", args).fetchall()
    by_player: dict[str, list] = {}
    for row in rows:
        by_player.setdefault(row["player_id"], []).append(row)
    bodies: dict[int, str] = {}
    for pid, mine in by_player.items():
        _add_keys(db, pid, [tally(_body(db, bodies, row), msgpack.unpackb(row["log"]))
                            for row in mine])
    _done(db, "keys_done", "points_done", rows)
    return len(rows)


def _done(db, column: str, other: str, rows: list) -> None:
    """Mark the rows folded for `column`; a row the other fold is done with goes."""
    seqs = [(row["seq"],) for row in rows]
    db.executemany(f"DELETE FROM unfolded WHERE seq = ? AND {other} = 1", seqs)
    db.executemany(f"UPDATE unfolded SET {column} = 1 WHERE seq = ?", seqs)


def _body(db, bodies: dict, row) -> str:
    """The passage the result was typed on: its race's generated one, or its text's
    ("" for a text the store does not have: nothing to tally)."""
    passage = read_passage(db, row["race_id"])
    if passage is not None:
        return passage
    text_id = row["text_id"]
    if text_id not in bodies:
        found = db.execute("SELECT body FROM texts WHERE text_id = ?", (text_id,)).fetchone()
        bodies[text_id] = found[0] if found else ""
    return bodies[text_id]


def _add_points(db, player_id: str, rows: list, buckets: dict) -> None:
    """A player's results' points added to their periods (one upsert a period, however
    many results), the period's histogram moved with the total."""
    periods: dict[str, list] = {}
    for row in rows:
        for w in competition.windows(row["at_ms"]):
            kept = periods.setdefault(w.key, [0, 0, 0])
            kept[0] += row["points"]
            kept[1] += 1
            kept[2] = row["at_ms"]          # ties go to who reached the total first
    for period, (points, races, at_ms) in periods.items():
        total, races_now = db.execute(_ADD_POINTS,
                                      (period, player_id, points, races, at_ms)).fetchone()
        new = competition.bucket(total)
        if races_now > races:               # the player was on the board already
            old = competition.bucket(total - points)
            if old == new:
                continue
            buckets[period, old] = buckets.get((period, old), 0) - 1
        buckets[period, new] = buckets.get((period, new), 0) + 1


def _add_keys(db, player_id: str, tallies: list[tuple[dict, dict]]) -> None:
    """A player's results' keys and bigrams added to the player's rows, in the order they
    were saved. When every key of them fits under the cap the order cannot matter, and
    they are added together (one statement a kind); else one result at a time."""
    for kind, cap in ((KEY, KEYS_MAX), (BIGRAM, BIGRAMS_MAX)):
        tables = [t[kind] for t in tallies if t[kind]]
        if not tables:
            continue
        summed = tables[0] if len(tables) == 1 else _summed(tables)
        have = db.execute("SELECT COUNT(*) FROM key_stats WHERE player_id = ? AND kind = ?",
                          (player_id, kind)).fetchone()[0]
        if have + len(summed) <= cap:
            db.execute(_ADD_ALL, (player_id, kind, json.dumps(summed), cap))
            continue
        for table in tables:
            db.execute(_ADD, (player_id, kind, json.dumps(table), cap))


def _summed(tables: list[dict]) -> dict:
    out: dict[str, list] = {}
    for table in tables:
        for key, entry in table.items():
            kept = out.get(key)
            out[key] = list(entry) if kept is None else [a + b for a, b in zip(kept, entry)]
    return out


def place_in_period(db, period: str, points: int) -> tuple[int, int]:
    """(players with a total in a higher bucket, the least total above `points`'s
    bucket): the rest of a place is counted in the bucket itself (a narrow range)."""
    b = competition.bucket(points)
    above = db.execute("SELECT TOTAL(players) FROM points_hist WHERE period = ? AND bucket > ?",
                       (period, b)).fetchone()[0]
    return int(above), competition.bucket_floor(b + 1)
