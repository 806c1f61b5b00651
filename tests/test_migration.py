"""A database made by the server before accounts (tests/data/main-v1.db, schema 1, made by
main's own store: see tests/data/make_main_v1_db.py) opens, migrates, and keeps every
result, token and statistic; its players can then register and log in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import sqlite3
from pathlib import Path

import pytest

from client_demo.client import Client
from server.store.sqlite import SqliteStore
from server.store.sqlite_schema import MIGRATIONS

FIXTURE = Path(__file__).parent / "data" / "main-v1.db"
ANN, BOB, CY = "pann0000000000001", "pbob0000000000002", "pcy00000000000003"


@pytest.fixture
def old_db(tmp_path) -> str:
    path = tmp_path / "typerace.db"
    shutil.copyfile(FIXTURE, path)
    return str(path)


def rows(path: str, query: str) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def v1_token(secret: str, player_id: str) -> str:
    """A token as main signed it ("v1.<id>.<HMAC of 'v1.<id>'>")."""
    digest = hmac.new(secret.encode(), f"v1.{player_id}".encode(), hashlib.sha256).digest()
    return f"v1.{player_id}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


async def test_the_old_database_migrates_and_keeps_every_row(old_db):
    assert rows(old_db, "PRAGMA user_version") == [(1,)]
    before = {table: rows(old_db, f"SELECT * FROM {table} ORDER BY 1, 2")
              for table in ("players", "texts", "races", "results", "meta")}
    store = SqliteStore(old_db)
    await store.open()
    try:
        assert len((await store.get_race("rmain1.1")).results) == 3
        assert [e["player_id"] for e in await store.leaderboard(None)] == [BOB, ANN]
        assert [t.title for t in (await store.list_texts(0, 10))[0]] == ["Bob's", "Sea", "Fox"]
    finally:
        await store.close()
    assert rows(old_db, "PRAGMA user_version") == [(len(MIGRATIONS),)]
    for table, old in before.items():
        # Every old row is there with the same values (new columns come after them).
        now = rows(old_db, f"SELECT * FROM {table} ORDER BY 1, 2")
        assert [row[:len(old[0])] for row in now] == old, table
    assert rows(old_db, "SELECT token_generation, banned FROM players") == [(0, 0)] * 3
    assert rows(old_db, "SELECT COUNT(*) FROM texts WHERE hidden = 0") == [(3,)]
    # Old results carry the verdict the rule gave when they were saved.
    verdicts = rows(old_db, "SELECT status, flagged, clean FROM results")
    assert {(status == "finished" and flagged is None) == bool(clean)
            for status, flagged, clean in verdicts} == {True}
    assert {clean for _, _, clean in verdicts} == {0, 1}


async def test_old_players_keep_their_tokens_and_statistics_and_can_register(
        make_server, old_db):
    server = await make_server(db=old_db)
    url = f"ws://127.0.0.1:{server.port}/ws"
    assert server.live.secret == "fixture-secret-of-main"      # kept, so old tokens still verify
    ann = await Client.connect(url)
    welcome = await ann.hello("Ann", v1_token(server.live.secret, ANN))
    assert (welcome["player_id"], welcome["account"]) == (ANN, None)
    stats = await ann.request({"type": "player_stats"})
    assert (stats["races"], stats["wins"], stats["best_wpm"]) == (2, 1, 88.5)
    assert [r["race_id"] for r in stats["recent"]] == ["rmain3.1", "rmain1.1"]
    cy = await ann.request({"type": "player_stats", "player_id": CY})
    assert cy["races"] == 2 and cy["recent"][0]["flagged"].startswith("too fast")
    replay = await ann.request({"type": "replay", "race_id": "rmain1.1"})
    assert replay["race"]["results"][0]["log"] == [[900, "The q"], [1300, "x\b"], [1700, "uick"]]

    await ann.request({"type": "register", "name": "Ann", "password": "kept my scores"})
    phone = await Client.connect(url, "msgpack")
    assert (await phone.login("ANN", "kept my scores"))["player_id"] == ANN
    assert (await phone.request({"type": "player_stats"}))["races"] == 2
    board = await phone.request({"type": "leaderboard"})
    assert [(e["player_id"], e["wpm"]) for e in board["entries"]] == [(BOB, 95.25), (ANN, 88.5)]
    for client in (ann, phone):
        await client.close()
