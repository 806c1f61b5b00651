"""A guest is stored only once it has something to keep (a result or a text): hellos
alone once added 19,477 permanent player rows in 15 s. Real servers on port 0, real
clients, on both stores."""

from __future__ import annotations

import sqlite3

import pytest

from client_demo.client import ServerError
from server.store.redis import RedisStore
from tests.redis_fixture import redis_server  # noqa: F401
from tests.typist import practise


# Which players the store keeps is a store rule: the default transport is enough.
pytestmark = pytest.mark.default_transport


@pytest.fixture(params=["sqlite", "redis"])
async def backend(request, tmp_path):
    """(server overrides, count_players()) for one store."""
    if request.param == "sqlite":
        db = str(tmp_path / "players.db")

        async def count_players() -> int:
            with sqlite3.connect(db) as conn:
                return conn.execute("SELECT COUNT(*) FROM players").fetchone()[0]
        return {"db": db}, count_players
    url = request.getfixturevalue("redis_server").url

    async def count_players() -> int:
        store = RedisStore(url)
        await store.open()
        try:
            return len(await store.redis.execute("KEYS", "tr:player:*"))
        finally:
            await store.close()
    return {"redis_url": url}, count_players


async def test_hellos_keep_nothing_until_a_result_or_a_text(make_server, connect, backend):
    overrides, count_players = backend
    server = await make_server(practice_countdown_s=0, max_wpm=10000, **overrides)
    guests = [await connect(f"Guest {i}", target=server) for i in range(20)]
    assert await count_players() == 0

    # A guest asking for its own statistics gets zeros under its name; anyone else
    # asking for a guest with nothing kept, or for an id nobody has, gets not found.
    own = await guests[0].request({"type": "player_stats"})
    assert (own["name"], own["races"], own["wins"], own["best_wpm"], own["recent"]) == (
        "Guest 0", 0, 0, 0.0, [])
    for unknown in (guests[0].player_id, "p" + "0" * 31):
        with pytest.raises(ServerError) as missing:
            await guests[1].request({"type": "player_stats", "player_id": unknown})
        assert missing.value.code == "player_not_found"

    # A result keeps the racer; a text keeps its writer.
    _, results = await practise(guests[0])
    await guests[1].request({"type": "submit_text", "title": "Kept",
                             "body": "Writing a text is something to keep."})
    assert await count_players() == 2
    ann = await guests[2].request({"type": "player_stats", "player_id": guests[0].player_id})
    assert ann["name"] == "Guest 0" and ann["races"] == 1
    assert ann["recent"][0]["race_id"] == results["race_id"]
    bob = await guests[2].request({"type": "player_stats", "player_id": guests[1].player_id})
    assert bob["name"] == "Guest 1" and bob["races"] == 0


async def test_a_returning_player_is_shown_under_its_new_name(make_server, connect, backend):
    overrides, count_players = backend
    server = await make_server(practice_countdown_s=0, max_wpm=10000, **overrides)
    ann = await connect("Ann", target=server)
    short = await ann.request({"type": "submit_text", "title": "Short",
                               "body": "Short enough to type in a test."})
    await practise(ann, short["text"]["text_id"])     # a clean result: on the board
    await ann.close()
    annie = await connect("Annie", target=server, token=ann.welcome["token"])
    assert annie.player_id == ann.player_id
    board = await annie.request({"type": "leaderboard"})
    assert [(e["player_id"], e["name"]) for e in board["entries"]] == [
        (ann.player_id, "Annie")]
    assert (await annie.request({"type": "player_stats"}))["name"] == "Annie"
    # A returning guest with nothing kept is still not stored by its hello.
    guest = await connect("Guest", target=server)
    await guest.close()
    await connect("Guest again", target=server, token=guest.welcome["token"])
    assert await count_players() == 1
