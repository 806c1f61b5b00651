"""How tests/data/main-v1.db was made: with the SQLite store of `main` before accounts
(schema version 1, commit e696d29), so tests/test_migration.py opens a database exactly
as today's servers left it. To make it again:

    git worktree add /tmp/main-v1 e696d29
    PYTHONPATH=/tmp/main-v1 python tests/data/make_main_v1_db.py tests/data/main-v1.db
"""

import asyncio
import sqlite3
import sys

from server.store import RaceRecord, ResultRecord
from server.store.sqlite import MIGRATIONS, SqliteStore

T0 = 1_790_000_000_000
ANN, BOB, CY = "pann0000000000001", "pbob0000000000002", "pcy00000000000003"


def result(pid, name, slot, place, status="finished", wpm=60.0, flagged=None):
    return ResultRecord(pid, name, slot, place, status, wpm, 0.97, 31_000,
                        44 if status == "finished" else 20, 46, 44,
                        [(900, "The q"), (1300, "x\b"), (1700, "uick")], flagged)


async def make(path: str) -> None:
    assert len(MIGRATIONS) == 1, "run this with main's code before accounts"
    store = SqliteStore(path)
    await store.open()
    await store.set_meta_once("token_secret", "fixture-secret-of-main")
    fox, sea = await store.add_texts([
        {"title": "Fox", "source": "fixture",
         "body": "The quick brown fox jumps over the lazy dog."},
        {"title": "Sea", "source": "fixture",
         "body": "She sells sea shells by the sea shore all day."}], T0)
    for pid, name in [(ANN, "Ann"), (BOB, "Bob"), (CY, "Cy")]:
        await store.touch_player(pid, name, T0)
    mine = await store.submit_text({"title": "Bob's", "source": "",
                                    "body": "Bob wrote these words for his friends to type."},
                                   BOB, "Bob", T0 + 10)
    await store.save_race(RaceRecord("rmain1.1", "rmain1", "quick", fox, T0 + 1000, T0 + 40_000, [
        result(ANN, "Ann", 0, 1, wpm=88.5), result(BOB, "Bob", 1, 2, wpm=71.0),
        result(CY, "Cy", 2, 3, "dnf", wpm=20.0)]))
    await store.save_race(RaceRecord("rmain2.1", "rmain2", "practice", mine.text_id,
                                     T0 + 50_000, T0 + 80_000,
                                     [result(BOB, "Bob", 0, 1, wpm=95.25)]))
    await store.save_race(RaceRecord("rmain3.1", "rmain3", "quick", sea, T0 + 90_000,
                                     T0 + 120_000, [
        result(CY, "Cy", 0, 1, wpm=400.0, flagged="too fast: 400 WPM over the race (the "
               "limit is 300)"),
        result(ANN, "Ann", 1, 2, wpm=64.0)]))
    await store.close()
    db = sqlite3.connect(path)          # one self-contained file: no WAL beside it
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("VACUUM")
    db.close()


if __name__ == "__main__":
    asyncio.run(make(sys.argv[1]))
