"""What only the SQLite adapter promises: WAL, versioned migrations, reads that never
wait for the writer, no full-table work per call, and failures that say what they are."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import msgpack
import pytest

from server.store import StoreUnavailable, StoreUnusable, sqlite_schema
from server.store import sqlite as sqlite_store
from server.store import sqlite_open
from server.store.sqlite import SqliteStore
from tests.test_store_contract import PASSAGES, T0, race, result


async def opened(path) -> SqliteStore:
    store = SqliteStore(str(path))
    await store.open()
    return store


async def test_the_file_is_in_wal_mode_at_the_latest_schema_version(tmp_path):
    path = str(tmp_path / "t.db")
    store = await opened(path)
    await store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(sqlite_schema.MIGRATIONS)


async def test_a_newer_migration_upgrades_an_old_file_and_keeps_its_data(tmp_path, monkeypatch):
    path = str(tmp_path / "t.db")
    store = await opened(path)
    await store.submit_text({"title": "Mine", "body": "My very own words to type."},
                            "p1", "Ann", T0)
    await store.close()
    shipped = len(sqlite_schema.MIGRATIONS)
    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", sqlite_schema.MIGRATIONS +
                        ["ALTER TABLE players ADD COLUMN country TEXT NOT NULL DEFAULT '';"
                         "CREATE INDEX players_country ON players(country)"])
    for _ in range(2):               # the second open finds nothing left to migrate
        store = await opened(path)
        assert (await store.player_stats("p1"))["name"] == "Ann"
        await store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == shipped + 1
    assert db.execute("SELECT country FROM players").fetchall() == [("",)]


def _save_as_version_1(db, saved) -> None:
    """What the version-1 adapter wrote for a race (its players said hello first)."""
    racers = len(saved.results)
    db.execute("INSERT INTO races VALUES (?, ?, ?, ?, ?, ?, ?)",
               (saved.race_id, saved.room_id, saved.kind, saved.text_id, saved.started_ms,
                saved.ended_ms, racers))
    for r in saved.results:
        db.execute("INSERT OR IGNORE INTO players VALUES (?, ?, ?, ?)",
                   (r.player_id, r.name, T0, T0))
        db.execute("INSERT INTO results VALUES"
                   " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (saved.race_id, r.player_id, r.name, saved.text_id, r.slot, r.place, racers,
                    r.status, r.wpm, r.accuracy, r.race_ms, r.pos, r.keystrokes,
                    r.correct_keystrokes, r.flagged, saved.ended_ms,
                    msgpack.packb([list(e) for e in r.log], use_bin_type=True)))
    clean = sum(r.status == "finished" and r.flagged is None for r in saved.results)
    db.execute("UPDATE texts SET completions = completions + ? WHERE text_id = ?",
               (clean, saved.text_id))


async def test_a_version_1_file_gives_the_same_statistics_once_migrated(tmp_path, monkeypatch):
    """Migration 2 fills the kept totals and best results from the saved results."""
    races = [
        race("a", 1, [result("p1", 1, wpm=80.0), result("p2", 2, wpm=70.0),
                      result("p3", 3, wpm=900.0, flagged="pasted")], ended_ms=T0 + 1000),
        race("b", 2, [result("p2", 1, wpm=95.0), result("p1", 2, wpm=60.0),
                      result("p3", 3, "dnf", wpm=99.0)], ended_ms=T0 + 2000),
        race("c", 1, [result("p2", 1, wpm=80.0)], ended_ms=T0 + 3000),
        race("d", 1, [result("p1", 1, "left", wpm=10.0)], ended_ms=T0 + 4000),
    ]
    old_path = tmp_path / "old.db"
    with monkeypatch.context() as m:
        m.setattr(sqlite_schema, "MIGRATIONS", sqlite_schema.MIGRATIONS[:1])
        store = await opened(old_path)
        await store.add_texts(PASSAGES[:2], T0)
        await store.close()
    db = sqlite3.connect(old_path, isolation_level=None)
    for saved in races:
        _save_as_version_1(db, saved)
    db.close()

    new = await opened(tmp_path / "new.db")
    await new.add_texts(PASSAGES[:2], T0)
    for saved in races:
        await new.save_race(saved)
    migrated = await opened(old_path)
    try:
        for pid in ("p1", "p2", "p3"):
            assert await migrated.player_stats(pid) == await new.player_stats(pid)
        for text_id in (None, 1, 2):
            assert await migrated.leaderboard(text_id) == await new.leaderboard(text_id)
        for text_id in (1, 2):
            assert await migrated.text_stats(text_id) == await new.text_stats(text_id)
    finally:
        await migrated.close()
        await new.close()


async def test_reads_go_on_while_the_writer_is_busy(tmp_path):
    """A save held up (here: its thread blocked) never holds back a page or a board."""
    store = await opened(tmp_path / "t.db")
    [text_id] = await store.add_texts(PASSAGES[:1], T0)
    await store.save_race(race("a", text_id, [result("p1", 1)]))
    release = threading.Event()
    blocked = store._write(lambda db: release.wait(30))
    try:
        page, total = await asyncio.wait_for(store.list_texts(0, 10), 20)
        assert total == 1 and page[0].text_id == text_id
        assert (await asyncio.wait_for(store.player_stats("p1"), 20))["races"] == 1
        assert len(await asyncio.wait_for(store.leaderboard(None), 20)) == 1
    finally:
        release.set()
        await blocked
        await store.close()


async def test_store_calls_run_off_the_event_loop_thread(tmp_path, monkeypatch):
    store = await opened(tmp_path / "t.db")
    seen = []
    original = sqlite_store._get_meta

    def spy(db, key):
        seen.append(threading.current_thread())
        return original(db, key)

    monkeypatch.setattr(sqlite_store, "_get_meta", spy)
    await store.get_meta("x")
    await store.set_meta_once("x", "1")
    await store.close()
    assert len(seen) == 2 and threading.current_thread() not in seen


# ---- failures ------------------------------------------------------------------------

class Failing:
    """A connection whose next statement fails with `error` (the errors SQLite gives)."""

    def __init__(self, db, error: sqlite3.Error):
        self.db, self.error = db, error

    def execute(self, sql, *args):
        if sql.startswith(("INSERT", "UPDATE", "BEGIN")):
            raise self.error
        return self.db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.db, name)


def sqlite_error(message: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize("message, code, says", [
    ("database or disk is full", sqlite3.SQLITE_FULL, "the disk is full"),
    ("disk I/O error", sqlite3.SQLITE_IOERR_WRITE, "disk I/O error"),
    ("database is locked", sqlite3.SQLITE_BUSY, "locked by another process"),
    ("attempt to write a readonly database", sqlite3.SQLITE_READONLY, "read-only"),
])
async def test_a_failing_disk_makes_writes_unavailable_not_bugs(tmp_path, message, code, says):
    store = await opened(tmp_path / "t.db")
    [text_id] = await store.add_texts(PASSAGES[:1], T0)
    store._writer = Failing(store._writer, sqlite_error(message, code))
    for write in (lambda: store.save_race(race("a", text_id, [result("p1", 1)])),
                  lambda: store.submit_text({"title": "Mine", "body": "My own words."},
                                            "p1", "Ann", T0)):
        with pytest.raises(StoreUnavailable) as failed:
            await write()
        assert str(failed.value).startswith(f"--db {tmp_path / 't.db'}: ")
        assert says in str(failed.value)
    store._writer = store._writer.db
    assert (await store.list_texts(0, 10))[1] == 1      # nothing half-written
    await store.save_race(race("a", text_id, [result("p1", 1)]))
    assert (await store.player_stats("p1"))["races"] == 1
    await store.close()


async def test_a_lock_held_by_another_process_makes_writes_unavailable(tmp_path, monkeypatch):
    # A lock held past the busy timeout is the point, not the 5 s the timeout is.
    monkeypatch.setattr(sqlite_open, "BUSY_TIMEOUT_MS", 200)
    store = await opened(tmp_path / "t.db")
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable, match="locked by another process"):
            await store.submit_text({"title": "Mine", "body": "My own words to type."},
                                    "p1", "Ann", T0)
        assert (await store.list_texts(0, 10)) == ([], 0)      # reads go on meanwhile
    finally:
        other.execute("ROLLBACK")
        other.close()
        await store.close()


@pytest.mark.parametrize("name", ["", ":memory:"])
async def test_a_temporary_database_is_refused(name):
    with pytest.raises(StoreUnusable, match="would be gone at the next start"):
        await SqliteStore(name).open()


async def test_migration_7_counts_the_points_saved_before_into_the_histogram(tmp_path, monkeypatch):
    """Points saved before the histogram existed place their players as points_rank
    would count them."""
    path = tmp_path / "six.db"
    with monkeypatch.context() as m:
        m.setattr(sqlite_schema, "MIGRATIONS", sqlite_schema.MIGRATIONS[:6])
        store = await opened(path)
        await store.close()
    totals = {f"p{i}": (i * 37) % 5000 + 1 for i in range(300)}     # up to 5,000 points
    db = sqlite3.connect(path, isolation_level=None)
    db.executemany("INSERT INTO players(player_id, name, created_ms, seen_ms)"
                   " VALUES (?, ?, 0, 0)", [(pid, pid) for pid in totals])
    db.executemany("INSERT INTO points VALUES ('all', ?, ?, 1, ?)",
                   [(pid, points, int(pid[1:])) for pid, points in totals.items()])
    db.close()
    migrated = await opened(path)
    try:
        ranked = sorted(totals, key=lambda pid: (-totals[pid], int(pid[1:])))
        for place, pid in enumerate(ranked, start=1):
            assert await migrated.points_place("all", pid) == {"points": totals[pid],
                                                               "place": place}
    finally:
        await migrated.close()
