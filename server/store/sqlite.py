"""SQLite adapter of the store port: one file, WAL mode, versioned migrations.

sqlite3 blocks, so every call runs on one dedicated worker thread that owns the
connection; the event loop only awaits the result. One thread also serialises
writes, which is what SQLite wants anyway.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import msgpack

from server.core.results import Result
from server.store import RaceRecord, Store, TextExists
from server.store.sqlite_trust import SqliteTrust
from server.core.texts import Text

# Each entry migrates the schema from version i to i+1. Never edit a shipped one.
MIGRATIONS = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE players (
        player_id TEXT PRIMARY KEY, name TEXT NOT NULL,
        created_ms INTEGER NOT NULL, seen_ms INTEGER NOT NULL);
    CREATE TABLE texts (
        text_id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, source TEXT NOT NULL,
        body TEXT NOT NULL UNIQUE, author TEXT, author_name TEXT,
        created_ms INTEGER NOT NULL, completions INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX texts_author ON texts(author, created_ms);
    CREATE TABLE races (
        race_id TEXT PRIMARY KEY, room_id TEXT NOT NULL, kind TEXT NOT NULL,
        text_id INTEGER NOT NULL, started_ms INTEGER NOT NULL, ended_ms INTEGER NOT NULL,
        racers INTEGER NOT NULL);
    CREATE TABLE results (
        race_id TEXT NOT NULL, player_id TEXT NOT NULL, name TEXT NOT NULL,
        text_id INTEGER NOT NULL, slot INTEGER NOT NULL, place INTEGER NOT NULL,
        racers INTEGER NOT NULL, status TEXT NOT NULL, wpm REAL NOT NULL,
        accuracy REAL NOT NULL, race_ms INTEGER NOT NULL, pos INTEGER NOT NULL,
        keystrokes INTEGER NOT NULL, correct_keystrokes INTEGER NOT NULL,
        flagged TEXT, at_ms INTEGER NOT NULL, log BLOB NOT NULL,
        PRIMARY KEY (race_id, player_id));
    CREATE INDEX results_player ON results(player_id, at_ms);
    CREATE INDEX results_text ON results(text_id, wpm);
    """,
    # 2: accounts, token generations and bans; reports and hidden texts.
    """
    ALTER TABLE players ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE players ADD COLUMN banned INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE accounts (
        player_id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL, created_ms INTEGER NOT NULL);
    ALTER TABLE texts ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE texts ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX texts_hidden ON texts(text_id) WHERE hidden = 1;
    CREATE TABLE reports (
        text_id INTEGER NOT NULL, player_id TEXT NOT NULL, reason TEXT NOT NULL,
        at_ms INTEGER NOT NULL, PRIMARY KEY (text_id, player_id));
    """,
]

RECENT = 10
# A result counts for averages and boards when it was finished and not flagged.
CLEAN = "status = 'finished' AND flagged IS NULL"


class SqliteStore(SqliteTrust, Store):
    def __init__(self, path: str):
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def _write(self, work):
        """work(db) in one write transaction on the store's thread, undone if it raises."""
        def transaction():
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result
        return await self._run(transaction)

    # ---- lifecycle ------------------------------------------------------------

    async def open(self) -> None:
        await self._run(self._open)

    def _open(self) -> None:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")   # a saved result survives power loss
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=5000")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            db.execute("BEGIN IMMEDIATE")
            for statement in filter(str.strip, script.split(";")):
                db.execute(statement)
            db.execute(f"PRAGMA user_version={number}")
            db.execute("COMMIT")
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._thread.shutdown(wait=True)

    # ---- meta and players -----------------------------------------------------

    async def get_meta(self, key):
        return await self._run(self._get_meta, key)

    def _get_meta(self, key):
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    async def set_meta_once(self, key, value):
        def work():
            self._db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (key, value))
            return self._get_meta(key)
        return await self._run(work)

    async def touch_player(self, player_id, name, now_ms):
        await self._run(self._db.execute, """
            INSERT INTO players(player_id, name, created_ms, seen_ms) VALUES (?, ?, ?, ?)
            ON CONFLICT(player_id) DO UPDATE SET name = excluded.name, seen_ms = excluded.seen_ms
            """, (player_id, name, now_ms, now_ms))

    # ---- texts ----------------------------------------------------------------

    @staticmethod
    def _text(row) -> Text:
        return Text(row["text_id"], row["title"], row["source"], row["body"], row["author"],
                    row["author_name"], row["created_ms"], row["completions"],
                    bool(row["hidden"]))

    async def add_texts(self, texts, now_ms, author=None, author_name=None):
        def work():
            ids = []
            self._db.execute("BEGIN IMMEDIATE")
            for t in texts:
                self._db.execute(
                    "INSERT OR IGNORE INTO texts(title, source, body, author, author_name,"
                    " created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                    (t["title"], t.get("source") or "", t["body"], author, author_name, now_ms))
                ids.append(self._db.execute("SELECT text_id FROM texts WHERE body = ?",
                                            (t["body"],)).fetchone()[0])
            self._db.execute("COMMIT")
            return ids
        return await self._run(work)

    async def submit_text(self, text, author, author_name, now_ms):
        def work():
            row = self._db.execute("SELECT text_id FROM texts WHERE body = ?",
                                   (text["body"],)).fetchone()
            if row:
                raise TextExists(row[0])
            cur = self._db.execute(
                "INSERT INTO texts(title, source, body, author, author_name, created_ms)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (text["title"], text.get("source") or "", text["body"], author, author_name,
                 now_ms))
            return self._get_text(cur.lastrowid)
        return await self._run(work)

    def _get_text(self, text_id):
        row = self._db.execute("SELECT * FROM texts WHERE text_id = ?", (text_id,)).fetchone()
        return self._text(row) if row else None

    async def get_text(self, text_id):
        return await self._run(self._get_text, text_id)

    async def library_text_ids(self):
        def work():
            return [r[0] for r in self._db.execute(
                "SELECT text_id FROM texts WHERE author IS NULL ORDER BY text_id")]
        return await self._run(work)

    async def list_texts(self, offset, limit, author=None):
        def work():
            where, args = ("WHERE hidden = 0 AND author = ?", [author]) if author else (
                "WHERE hidden = 0", [])
            total = self._db.execute(f"SELECT COUNT(*) FROM texts {where}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM texts {where} ORDER BY created_ms DESC, text_id DESC"
                " LIMIT ? OFFSET ?", args + [limit, offset]).fetchall()
            return [self._text(r) for r in rows], total
        return await self._run(work)

    # ---- results and statistics -----------------------------------------------

    async def save_race(self, race: RaceRecord) -> None:
        def work():
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("SELECT 1 FROM races WHERE race_id = ?",
                              (race.race_id,)).fetchone():
                    db.execute("ROLLBACK")          # saved already (a retry): keep counts
                    return
                db.execute("INSERT INTO races VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (race.race_id, race.room_id, race.kind, race.text_id,
                            race.started_ms, race.ended_ms, len(race.results)))
                for r in race.results:
                    db.execute(
                        "INSERT INTO results VALUES"
                        " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (race.race_id, r.player_id, r.name, race.text_id, r.slot, r.place,
                         len(race.results), r.status, r.wpm, r.accuracy, r.race_ms, r.pos,
                         r.keystrokes, r.correct_keystrokes, r.flagged, race.ended_ms,
                         msgpack.packb([list(e) for e in r.log], use_bin_type=True)))
                clean = sum(1 for r in race.results if r.clean)
                db.execute("UPDATE texts SET completions = completions + ? WHERE text_id = ?",
                           (clean, race.text_id))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        await self._run(work)

    async def get_race(self, race_id):
        def work():
            race = self._db.execute("SELECT * FROM races WHERE race_id = ?",
                                    (race_id,)).fetchone()
            if race is None:
                return None
            record = RaceRecord(race["race_id"], race["room_id"], race["kind"], race["text_id"],
                                race["started_ms"], race["ended_ms"])
            for r in self._db.execute("SELECT * FROM results WHERE race_id = ? ORDER BY place",
                                      (race_id,)):
                record.results.append(Result(
                    r["player_id"], r["name"], r["slot"], r["place"], r["status"], r["wpm"],
                    r["accuracy"], r["race_ms"], r["pos"], r["keystrokes"],
                    r["correct_keystrokes"],
                    [(t, keys) for t, keys in msgpack.unpackb(r["log"], raw=False)],
                    r["flagged"]))
            return record
        return await self._run(work)

    async def player_stats(self, player_id):
        def work():
            db = self._db
            player = db.execute("SELECT * FROM players WHERE player_id = ?",
                                (player_id,)).fetchone()
            if player is None:
                return None
            totals = db.execute(
                "SELECT COUNT(*) AS races,"
                " SUM(CASE WHEN place = 1 AND status = 'finished' AND racers > 1"
                "     AND flagged IS NULL THEN 1 ELSE 0 END) AS wins"
                " FROM results WHERE player_id = ?", (player_id,)).fetchone()
            clean = db.execute(
                f"SELECT MAX(wpm), AVG(wpm), AVG(accuracy) FROM results"
                f" WHERE player_id = ? AND {CLEAN}", (player_id,)).fetchone()
            last = db.execute(
                f"SELECT AVG(wpm) FROM (SELECT wpm FROM results WHERE player_id = ? AND {CLEAN}"
                f" ORDER BY at_ms DESC LIMIT {RECENT})", (player_id,)).fetchone()
            recent = db.execute(
                "SELECT r.race_id, g.kind, r.text_id, t.title, r.wpm, r.accuracy, r.place,"
                " r.racers, r.status, r.race_ms, r.at_ms, r.flagged FROM results r"
                " JOIN races g ON g.race_id = r.race_id"
                " LEFT JOIN texts t ON t.text_id = r.text_id"
                f" WHERE r.player_id = ? ORDER BY r.at_ms DESC LIMIT {RECENT}",
                (player_id,)).fetchall()
            return {
                "player_id": player_id, "name": player["name"],
                "races": totals["races"], "wins": totals["wins"] or 0,
                "best_wpm": round(clean[0] or 0.0, 2), "avg_wpm": round(clean[1] or 0.0, 2),
                "avg_wpm_last_10": round(last[0] or 0.0, 2),
                "avg_accuracy": round(clean[2] or 0.0, 4),
                "recent": [dict(r) for r in recent],
            }
        return await self._run(work)

    def _best_per_player(self, text_id, limit):
        where, args = (f"{CLEAN} AND text_id = ?", [text_id]) if text_id else (CLEAN, [])
        # The best result of each player: highest wpm, then the earliest; shown under
        # the player's current name.
        rows = self._db.execute(
            f"SELECT b.player_id, COALESCE(p.name, b.name) AS name, b.wpm, b.accuracy,"
            f" b.race_ms, b.at_ms, b.text_id, b.race_id FROM ("
            f" SELECT *, ROW_NUMBER() OVER (PARTITION BY player_id"
            f"  ORDER BY wpm DESC, at_ms ASC, race_id ASC) AS n FROM results WHERE {where}) b"
            f" LEFT JOIN players p ON p.player_id = b.player_id"
            f" WHERE b.n = 1 AND COALESCE(p.banned, 0) = 0 ORDER BY b.wpm DESC, b.at_ms ASC, b.race_id ASC LIMIT ?",
            args + [limit]).fetchall()
        return [dict(r) for r in rows]

    async def text_stats(self, text_id):
        def work():
            text = self._get_text(text_id)
            if text is None or text.hidden:
                return None
            avg = self._db.execute(f"SELECT AVG(wpm) FROM results WHERE text_id = ? AND {CLEAN}",
                                   (text_id,)).fetchone()[0]
            return {"text": text.listing(), "completions": text.completions,
                    "avg_wpm": round(avg or 0.0, 2), "top": self._best_per_player(text_id, 10)}
        return await self._run(work)

    async def leaderboard(self, text_id, limit=20):
        return await self._run(self._best_per_player, text_id, limit)
