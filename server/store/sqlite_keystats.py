"""The SQLite adapter's per-key and per-bigram statistics (migration 6, table
key_stats), read for `key_stats`, and the passages of races on a generated text
(write_race keeps one with keep_passage). The table is folded from saved results by
server/store/sqlite_fold.py."""

from __future__ import annotations


def keep_passage(db, race) -> None:
    """A generated passage kept with its race (a race is saved in steps: once)."""
    if race.passage is not None:
        db.execute("INSERT OR IGNORE INTO passages VALUES (?, ?)", (race.race_id, race.passage))


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
