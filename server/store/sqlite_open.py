"""Opening the SQLite file, and what its failures mean.

At start, anything wrong with `--db` (a missing folder, a directory, a device, a
read-only mount, a file that is not a database or is damaged, a lock held by another
process) becomes StoreUnusable: one line naming the flag, the path and the trouble.
While running, a full disk, a lock held too long or an I/O error becomes
StoreUnavailable (a player is told `unavailable`, a save is retried); a damaged file
becomes StoreUnusable.
"""

from __future__ import annotations

import os
import sqlite3
import stat

from server.core import competition
from server.store import StoreError, StoreUnavailable, StoreUnusable
from server.store import sqlite_schema

# How long a statement waits for another process's write lock before giving up.
BUSY_TIMEOUT_MS = 5000

# What each SQLite result code means to an operator.
REASONS = {
    sqlite3.SQLITE_PERM: "permission denied",
    sqlite3.SQLITE_BUSY: f"the database is locked by another process (waited "
                         f"{BUSY_TIMEOUT_MS // 1000} s)",
    sqlite3.SQLITE_LOCKED: "the database is locked",
    sqlite3.SQLITE_NOMEM: "out of memory",
    sqlite3.SQLITE_READONLY: "read-only: SQLite must write the file and its -wal and -shm "
                             "files beside it",
    sqlite3.SQLITE_IOERR: "disk I/O error",
    sqlite3.SQLITE_CORRUPT: "the file is damaged (truncated or overwritten?)",
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_CANTOPEN: "can't open or create the file (is its folder writable?)",
    sqlite3.SQLITE_PROTOCOL: "the database is locked (lock protocol error)",
    sqlite3.SQLITE_NOTADB: "not a SQLite database",
}
# Failures that pass (space freed, lock released, disk back): answered `unavailable`.
TRANSIENT = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM,
             sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
             sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_PERM}
DAMAGED = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


def _code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF        # the primary code of an extended one


def describe(exc: BaseException) -> str:
    """What went wrong, in words, followed by SQLite's (or the OS's) own."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    reason = REASONS.get(_code(exc))
    return f"{reason} ({exc})" if reason else str(exc)


def failure(path: str, exc: sqlite3.Error) -> Exception:
    """The store error a failed statement means, or the error itself (a bug of ours)."""
    code = _code(exc)
    if code in TRANSIENT:
        return StoreUnavailable(f"--db {path}: {describe(exc)}")
    if code in DAMAGED:
        return StoreUnusable(f"--db {path}: {describe(exc)}")
    return exc


def path_problem(path: str) -> str | None:
    """Why `path` can't be the database, when that is clear before SQLite tries: the
    whole line for the operator, naming the flag."""
    if path in ("", ":memory:"):
        return (f"--db {path or 'is empty'}: SQLite would keep the database in a temporary "
                "place, and every score and player token would be gone at the next start; "
                "name a file, e.g. --db ./typerace.db")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return f"--db {path}: {exc.strerror or exc}"
    if mode is None and not os.path.isdir(folder):
        return f"--db {path}: the folder {folder} does not exist"
    if mode is not None and stat.S_ISDIR(mode):
        return f"--db {path}: is a directory, not a database file"
    if mode is not None and not stat.S_ISREG(mode):
        return f"--db {path}: not a regular file (a device or a pipe can't hold a database)"
    if not os.access(folder, os.W_OK):
        readonly = os.statvfs(folder).f_flag & os.ST_RDONLY
        return (f"--db {path}: read-only: can't write in {folder}"
                f"{' (a read-only file system)' if readonly else ''}; the database needs "
                "its file and the -wal and -shm files beside it writable")
    if mode is not None and not os.access(path, os.W_OK):
        return f"--db {path}: read-only: the file is not writable"
    return None


def _connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")   # first: the next ones may wait
    return db


def open_writer(path: str) -> sqlite3.Connection:
    """The one connection that writes: WAL, durable commits, the schema migrated.
    Raises sqlite3.Error (see `unusable`)."""
    db = _connect(path)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")   # a saved result survives power loss
        db.execute("PRAGMA foreign_keys=ON")
        # (migration 7 fills the points histogram with it)
        db.create_function("points_bucket", 1, competition.bucket, deterministic=True)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(sqlite_schema.MIGRATIONS[version:], start=version + 1):
            db.execute("BEGIN IMMEDIATE")
            for statement in filter(str.strip, script.split(";")):
                db.execute(statement)
            db.execute(f"PRAGMA user_version={number}")
            db.execute("COMMIT")
        # Writable and not locked: found now rather than at the first save.
        db.execute("BEGIN IMMEDIATE")
        db.execute("COMMIT")
    except BaseException:
        db.close()
        raise
    return db


def open_reader(path: str) -> sqlite3.Connection:
    """A connection that only reads: in WAL mode it never waits for the writer."""
    db = _connect(path)
    db.execute("PRAGMA query_only=1")
    return db


def unusable(path: str, exc: BaseException) -> StoreError:
    """A failure to open `path`, as the one line the operator reads."""
    return StoreUnusable(f"--db {path}: {describe(exc)}")
