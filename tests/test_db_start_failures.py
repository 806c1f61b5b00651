"""An unusable --db stops `python -m server` with ONE line naming the flag, the path
and the trouble, and exit status 2; never a traceback, never a temporary database."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3

import pytest

from server.store.sqlite import SqliteStore
from tests.helpers import remount_readonly, tmpfs
from tests.test_server_cli import run_server


async def a_real_database(path) -> None:
    store = SqliteStore(str(path))
    await store.open()
    await store.add_texts([{"title": f"T{i}", "body": f"Passage {i} to fill some pages. " * 20}
                           for i in range(50)], 1)
    await store.close()


async def refused(db: str, *, env_db: bool = False) -> str:
    """Start the server on `db`; it must refuse with one line and exit 2: that line."""
    env = None
    args = ["--port", "0", "--db", db]
    if env_db:
        env = {**os.environ, "TYPERACE_DB": db}
        args = ["--port", "0"]
    proc = await run_server(*args, env=env)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2, err.decode()
    assert len(lines) == 1 and "Traceback" not in err.decode(), err.decode()
    assert b"listening" not in out
    return lines[0]


async def test_an_empty_db_is_refused_not_made_temporary():
    line = await refused("", env_db=True)            # TYPERACE_DB=""
    assert line.startswith("python -m server: error: --db is empty")
    assert "would be gone at the next start" in line


async def test_a_folder_a_device_or_a_missing_folder_is_named(tmp_path):
    for db, says in [(str(tmp_path), "is a directory"),
                     ("/dev/null", "not a regular file"),
                     (str(tmp_path / "nope" / "t.db"), f"the folder {tmp_path / 'nope'} "
                                                      "does not exist")]:
        assert f"--db {db}: {says}" in await refused(db)
    assert not os.path.exists("/dev/null-journal") and not os.path.exists("/dev/null-wal")


async def test_a_file_that_is_no_database_or_is_damaged_is_named(tmp_path):
    noise = tmp_path / "noise.db"
    noise.write_bytes(os.urandom(100_000))
    good = tmp_path / "good.db"
    await a_real_database(good)
    cut = tmp_path / "cut.db"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert f"--db {noise}: not a SQLite database" in await refused(str(noise))
    assert f"--db {cut}: the file is damaged" in await refused(str(cut))


async def test_a_read_only_mount_is_named(tmp_path):
    with tmpfs(tmp_path / "ro", "4m") as mount:
        await a_real_database(mount / "existing.db")
        for suffix in ("-wal", "-shm"):
            (mount / f"existing.db{suffix}").unlink(missing_ok=True)
        remount_readonly(mount)
        assert f"--db {mount / 'existing.db'}: read-only" in await refused(
            str(mount / "existing.db"))
        assert f"--db {mount / 'new.db'}: read-only" in await refused(
            str(mount / "new.db"))


async def test_a_database_locked_by_another_process_is_named(tmp_path):
    path = tmp_path / "locked.db"
    await a_real_database(path)
    other = sqlite3.connect(path, isolation_level=None)     # this test is the other process
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    try:
        assert f"--db {path}: the database is locked by another process" in await refused(
            str(path))
    finally:
        other.close()
