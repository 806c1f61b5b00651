"""SQLite adapter of the store port: one file, WAL mode, versioned migrations
(server/store/sqlite_schema.py).

sqlite3 blocks, so no call runs on the event loop. Writes run on one writer thread
that owns the only writing connection (one writer is what SQLite wants anyway), and
reads run on their own threads and connections: in WAL mode a reader sees the last
commit and never waits for the writer, so paging the library or reading statistics
never holds back a race's results, and a slow save never holds back a reader.

Every read is an index range (see migrations 2 and 3): totals and each player's best are
kept as results are saved, so statistics and leaderboards cost the same with a
million results as with ten.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import msgpack

from server.core.results import Result
from server.store import HISTORY, RECENT, RaceRecord, Store, StoreUnusable, TextExists
from server.store import sqlite_open
from server.store.sqlite_results import (keep_player, read_best, read_bests, read_board,
                                         read_rating, rollback, write_race)
from server.store.folding import FOLD_BATCH, FOLD_DELAY_S, Folder, fold_for_read
from server.store.sqlite_fold import fold_keys, fold_points, pending
from server.store.sqlite_keystats import read_key_stats, read_passage
from server.store.sqlite_schema import OVERALL
from server.store.sqlite_competition import SqliteCompetition
from server.store.sqlite_trust import SqliteTrust
from server.core.texts import Text

READERS = 2     # read connections, each on its own thread


class SqliteStore(SqliteTrust, SqliteCompetition, Store):
    def __init__(self, path: str, readers: int = READERS, fold_delay_s: float = FOLD_DELAY_S):
        self.path = path
        self._writer: sqlite3.Connection | None = None
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._connections: list[sqlite3.Connection] = []
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-write")
        self._read_threads = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-read")
        self._reader_count = readers
        # Per-key statistics and points are folded from saved results (sqlite_fold.py):
        # how many are queued for each (this process is the file's only writer), and
        # the folder.
        self._unfolded = {fold_keys: 0, fold_points: 0}
        self._folder = Folder(self._fold_some, fold_delay_s)

    # ---- threads --------------------------------------------------------------

    async def _write(self, work, *args):
        """work(db, *args) on the writer thread, with the writing connection."""
        return await asyncio.get_running_loop().run_in_executor(
            self._write_thread, self._call, work, self._writer, args)

    async def _read(self, work, *args):
        """work(db, *args) on a reader thread, with a connection of its own."""
        return await asyncio.get_running_loop().run_in_executor(
            self._read_threads, self._call_reader, work, args)

    def _call_reader(self, work, args):
        db = self._readers.get()        # as many connections as threads: never waits
        try:
            return self._call(work, db, args)
        finally:
            self._readers.put(db)

    def _call(self, work, db, args):
        try:
            return work(db, *args)
        except sqlite3.Error as exc:
            error = sqlite_open.failure(self.path, exc)
            if error is exc:
                raise                   # not the disk or the file: a bug of ours
            raise error from exc

    # ---- lifecycle ------------------------------------------------------------

    async def open(self) -> None:
        """Raises StoreUnusable (one line naming --db and the trouble) when the file
        can't be used."""
        problem = sqlite_open.path_problem(self.path)
        if problem is not None:
            raise StoreUnusable(problem)
        try:
            await asyncio.get_running_loop().run_in_executor(self._write_thread, self._open)
        except (sqlite3.Error, OSError) as exc:
            await self.close()
            raise sqlite_open.unusable(self.path, exc) from None
        if any(self._unfolded.values()):       # saved before a crash, not folded yet
            self._folder.soon()

    def _open(self) -> None:
        self._writer = sqlite_open.open_writer(self.path)
        self._connections.append(self._writer)
        for _ in range(self._reader_count):
            reader = sqlite_open.open_reader(self.path)
            self._connections.append(reader)
            self._readers.put(reader)
        try:
            self._unfolded[fold_keys], self._unfolded[fold_points] = pending(self._writer)
        except sqlite3.OperationalError:         # a schema before migration 7 (tests)
            pass

    async def close(self) -> None:
        await self._folder.close()
        await asyncio.get_running_loop().run_in_executor(None, self._close)

    def _close(self) -> None:
        # Calls already queued finish first; then the connections close.
        self._write_thread.shutdown(wait=True)
        self._read_threads.shutdown(wait=True)
        while self._connections:
            self._connections.pop().close()
        self._writer = None

    # ---- meta and players -----------------------------------------------------

    async def get_meta(self, key):
        return await self._read(_get_meta, key)

    async def set_meta_once(self, key, value):
        def work(db):
            db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (key, value))
            return _get_meta(db, key)
        return await self._write(work)

    async def rename_player(self, player_id, name, now_ms):
        def known_as(db):
            row = db.execute("SELECT name FROM players WHERE player_id = ?",
                             (player_id,)).fetchone()
            return row[0] if row else None
        # Looked up on a reader: a hello costs the writer nothing unless the name changed.
        if await self._read(known_as) not in (None, name):
            await self._write(lambda db: db.execute(
                "UPDATE players SET name = ?, seen_ms = ? WHERE player_id = ?",
                (name, now_ms, player_id)))

    # ---- texts ----------------------------------------------------------------

    async def add_texts(self, texts, now_ms, author=None, author_name=None):
        def work(db):
            ids = []
            db.execute("BEGIN IMMEDIATE")
            try:
                for t in texts:
                    db.execute(
                        "INSERT OR IGNORE INTO texts(title, source, body, author, author_name,"
                        " created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                        (t["title"], t.get("source") or "", t["body"], author, author_name,
                         now_ms))
                    ids.append(db.execute("SELECT text_id FROM texts WHERE body = ?",
                                          (t["body"],)).fetchone()[0])
                db.execute("COMMIT")
            except BaseException:
                rollback(db)
                raise
            return ids
        return await self._write(work)

    async def submit_text(self, text, author, author_name, now_ms):
        def work(db):
            row = db.execute("SELECT text_id FROM texts WHERE body = ?",
                             (text["body"],)).fetchone()
            if row:
                raise TextExists(row[0])
            db.execute("BEGIN IMMEDIATE")
            try:
                cur = db.execute(
                    "INSERT INTO texts(title, source, body, author, author_name, created_ms)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (text["title"], text.get("source") or "", text["body"], author,
                     author_name, now_ms))
                keep_player(db, author, author_name, now_ms)   # a guest is kept from now
                db.execute("COMMIT")
            except BaseException:
                rollback(db)
                raise
            return _get_text(db, cur.lastrowid)
        return await self._write(work)

    async def get_text(self, text_id):
        return await self._read(_get_text, text_id)

    async def library_text_ids(self):
        def work(db):
            return [r[0] for r in db.execute(
                "SELECT text_id FROM texts WHERE author IS NULL ORDER BY text_id")]
        return await self._read(work)

    async def list_texts(self, offset, limit, author=None):
        return await self._read(_list_texts, max(0, offset), max(0, limit), author)

    # ---- results and statistics -----------------------------------------------

    async def save_race(self, race: RaceRecord) -> None:
        queued = await self._write(write_race, race)
        if queued:
            for fold in self._unfolded:
                self._unfolded[fold] += queued
            self._folder.soon()

    async def _fold(self, fold, *args) -> int:
        """fold_keys or fold_points on the writer; how many results it folded."""
        if not self._unfolded[fold]:
            return 0
        folded = await self._write(fold, *args)
        self._unfolded[fold] = max(0, self._unfolded[fold] - folded)
        return folded

    async def _fold_some(self, most: int) -> int:
        """The folder's batch: up to `most` results' points and keys (the most of both)."""
        return max(await self._fold(fold_points, most),
                   await self._fold(fold_keys, None, most))

    async def get_race(self, race_id):
        def work(db):
            race = db.execute("SELECT * FROM races WHERE race_id = ?", (race_id,)).fetchone()
            if race is None:
                return None
            record = RaceRecord(race["race_id"], race["room_id"], race["kind"], race["text_id"],
                                race["started_ms"], race["ended_ms"], racers=race["racers"],
                                passage=read_passage(db, race_id))
            for r in db.execute("SELECT * FROM results WHERE race_id = ? ORDER BY place",
                                (race_id,)):
                record.results.append(Result(
                    r["player_id"], r["name"], r["slot"], r["place"], r["status"], r["wpm"],
                    r["accuracy"], r["race_ms"], r["pos"], r["keystrokes"],
                    r["correct_keystrokes"],
                    [(t, keys) for t, keys in msgpack.unpackb(r["log"], raw=False)],
                    r["flagged"]))
            return record
        return await self._read(work)

    async def player_stats(self, player_id):
        def work(db):
            p = db.execute("SELECT * FROM players WHERE player_id = ?",
                           (player_id,)).fetchone()
            if p is None:
                return None
            history = db.execute(
                f"SELECT race_id, text_id, wpm, accuracy, at_ms FROM results"
                f" WHERE player_id = ? AND clean = 1 ORDER BY at_ms DESC LIMIT {HISTORY}",
                (player_id,)).fetchall()
            recent = db.execute(
                "SELECT r.race_id, g.kind, r.text_id, t.title, r.wpm, r.accuracy, r.place,"
                " r.racers, r.status, r.race_ms, r.at_ms, r.flagged FROM results r"
                " JOIN races g ON g.race_id = r.race_id"
                " LEFT JOIN texts t ON t.text_id = r.text_id"
                f" WHERE r.player_id = ? ORDER BY r.at_ms DESC LIMIT {RECENT}",
                (player_id,)).fetchall()
            clean = p["clean"]
            return {
                "player_id": player_id, "name": p["name"],
                "races": p["races"], "wins": p["wins"],
                "best_wpm": round(p["best_wpm"], 2),
                "avg_wpm": round(p["wpm_sum"] / clean, 2) if clean else 0.0,
                "avg_wpm_last_10": round(read_rating(db, player_id) or 0.0, 2),
                "avg_accuracy": round(p["acc_sum"] / clean, 4) if clean else 0.0,
                "recent": [dict(r) for r in recent],
                "history": [dict(r) for r in reversed(history)],
            }
        return await self._read(work)

    async def key_stats(self, player_id):
        # What is pending folded first (for a board, every player's points; here, this
        # player's keys), so the read sees every result saved before it.
        await fold_for_read(lambda: self._fold(fold_keys, player_id, FOLD_BATCH))
        return await self._read(read_key_stats, player_id)

    async def rating(self, player_id):
        return await self._read(read_rating, player_id)

    async def personal_best(self, player_id, text_id):
        return await self._read(read_best, text_id, player_id)

    async def bests_of(self, player_ids, text_id):
        return await self._read(read_bests, list(player_ids), text_id)

    async def text_stats(self, text_id):
        def work(db):
            row = db.execute("SELECT * FROM texts WHERE text_id = ?", (text_id,)).fetchone()
            if row is None or row["hidden"]:
                return None
            text = _text(row)
            n = text.completions
            return {"text": text.listing(), "completions": n,
                    "avg_wpm": round(row["wpm_sum"] / n, 2) if n else 0.0,
                    "top": read_board(db, text_id, 10)}
        return await self._read(work)

    async def leaderboard(self, text_id, limit=20):
        return await self._read(read_board, text_id or OVERALL, limit)


# ---- the statements (each runs on a store thread with its connection) --------------

def _get_meta(db, key):
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _text(row) -> Text:
    return Text(row["text_id"], row["title"], row["source"], row["body"], row["author"],
                row["author_name"], row["created_ms"], row["completions"], bool(row["hidden"]))


def _get_text(db, text_id):
    row = db.execute("SELECT * FROM texts WHERE text_id = ?", (text_id,)).fetchone()
    return _text(row) if row else None


def _list_texts(db, offset: int, limit: int, author: str | None):
    """A page of the texts not hidden, newest first, and their total. The page's ids
    come from an index alone (texts_shown, or texts_author_shown for one author: both
    lead with `hidden` and end in the id), walked from whichever end is nearer; only
    the page's rows are read. No sort, no scan of the table: a page deep in 20,000
    texts costs about a tenth of a millisecond more than the first."""
    where, args = ("WHERE hidden = 0 AND author = ?", [author]) if author else (
        "WHERE hidden = 0", [])
    db.execute("BEGIN")                   # one snapshot for the count and the page
    try:
        if author:
            total = db.execute(f"SELECT COUNT(*) FROM texts {where}", args).fetchone()[0]
        else:
            # All texts less the few hidden: a plain COUNT(*) is SQLite's quick count,
            # while COUNT(*) WHERE hidden = 0 steps through every entry of texts_shown
            # (2 ms of CPU on 20,000 texts, four times the rest of the page).
            total = (db.execute("SELECT COUNT(*) FROM texts").fetchone()[0]
                     - db.execute("SELECT COUNT(*) FROM texts WHERE hidden = 1").fetchone()[0])
        limit = max(0, min(limit, total - offset))
        from_end = offset + limit > total - offset     # nearer the oldest end
        ids = [r[0] for r in db.execute(
            f"SELECT text_id FROM texts {where} ORDER BY created_ms {'ASC' if from_end else 'DESC'},"
            f" text_id {'ASC' if from_end else 'DESC'} LIMIT ? OFFSET ?",
            args + [limit, total - offset - limit if from_end else offset])]
        if from_end:
            ids.reverse()
        rows = {r["text_id"]: r for r in db.execute(
            f"SELECT * FROM texts WHERE text_id IN ({','.join('?' * len(ids))})", ids)}
    finally:
        db.execute("COMMIT")
    return [_text(rows[i]) for i in ids], total
