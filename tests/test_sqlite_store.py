"""What only the SQLite adapter promises: WAL, versioned migrations, a free event loop."""

from __future__ import annotations

import sqlite3
import threading

from server.store import sqlite as sqlite_store
from server.store.sqlite import SqliteStore


async def test_the_file_is_in_wal_mode_at_the_latest_schema_version(tmp_path):
    path = str(tmp_path / "t.db")
    store = SqliteStore(path)
    await store.open()
    await store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(sqlite_store.MIGRATIONS)


async def test_a_newer_migration_upgrades_an_old_file_and_keeps_its_data(tmp_path, monkeypatch):
    path = str(tmp_path / "t.db")
    store = SqliteStore(path)
    await store.open()
    await store.touch_player("p1", "Ann", 1)
    await store.close()
    shipped = len(sqlite_store.MIGRATIONS)
    monkeypatch.setattr(sqlite_store, "MIGRATIONS", sqlite_store.MIGRATIONS +
                        ["ALTER TABLE players ADD COLUMN country TEXT NOT NULL DEFAULT '';"
                         "CREATE INDEX players_country ON players(country)"])
    for _ in range(2):               # the second open finds nothing left to migrate
        store = SqliteStore(path)
        await store.open()
        assert (await store.player_stats("p1"))["name"] == "Ann"
        await store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == shipped + 1
    assert db.execute("SELECT country FROM players").fetchall() == [("",)]


async def test_store_calls_run_off_the_event_loop_thread(tmp_path):
    store = SqliteStore(str(tmp_path / "t.db"))
    await store.open()
    seen = []
    original = store._get_meta

    def spy(key):
        seen.append(threading.current_thread())
        return original(key)

    store._get_meta = spy
    await store.get_meta("x")
    await store.close()
    assert seen and seen[0] is not threading.current_thread()
