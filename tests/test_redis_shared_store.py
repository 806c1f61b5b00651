"""Two servers on one Redis (--redis-url): one library, one set of results and boards,
one token secret. Real servers on port 0, real WebSocket clients."""

from __future__ import annotations

import subprocess
import sys

import pytest

from client_demo.client import ServerError
from tests.redis_fixture import (RedisServer, _free_port, redis_server,  # noqa: F401
                                 require_redis_server)
from tests.typist import practise, type_passage

OWN = "Two servers, one Redis, and every result shared between them."


@pytest.mark.default_transport         # a store rule: the default transport is enough
async def test_a_result_saved_through_one_server_is_seen_through_another(
        make_server, connect, redis_server):
    # No --secret: the first server to start generates one and keeps it in Redis,
    # so a token issued by one server is accepted by the other.
    a = await make_server(redis_url=redis_server.url, max_wpm=10000,
                          practice_countdown_s=0)
    b = await make_server(redis_url=redis_server.url, max_wpm=10000,
                          practice_countdown_s=0)
    assert a.live.secret == b.live.secret

    ann = await connect("Ann", target=a)
    bob = await connect("Bob", target=b)
    on_a = await ann.request({"type": "list_texts", "limit": 1})
    on_b = await bob.request({"type": "list_texts", "limit": 1})
    assert on_a["total"] == on_b["total"] > 0      # the starter set, imported once

    text_id = (await ann.request({"type": "submit_text", "title": "Shared",
                                  "body": OWN}))["text"]["text_id"]
    countdown, results = await practise(ann, text_id)
    assert countdown["text"]["body"] == OWN
    [mine] = results["ranking"]
    assert mine["status"] == "finished" and mine["wpm"] > 0 and mine["flagged"] is None

    # Ann comes back through server B with her token: same player, same numbers.
    again = await connect("Ann", target=b, token=ann.welcome["token"])
    assert again.player_id == ann.player_id
    stats = await again.request({"type": "player_stats"})
    assert (stats["races"], stats["best_wpm"]) == (1, round(mine["wpm"], 2))
    assert stats["recent"][0]["text_id"] == text_id

    board = await bob.request({"type": "leaderboard", "text_id": text_id})
    assert [(e["player_id"], e["name"]) for e in board["entries"]] == [(ann.player_id, "Ann")]
    overall = await bob.request({"type": "leaderboard"})
    assert ann.player_id in [e["player_id"] for e in overall["entries"]]
    text = await bob.request({"type": "text_stats", "text_id": text_id})
    assert text["completions"] == 1 and text["text"]["author"] == ann.player_id
    mine_on_b = await bob.request({"type": "list_texts", "author": ann.player_id})
    assert [t["text_id"] for t in mine_on_b["texts"]] == [text_id]
    replay = (await bob.request({"type": "replay", "race_id": results["race_id"]}))["race"]
    [saved] = replay["results"]
    assert (saved["player_id"], saved["wpm"]) == (ann.player_id, mine["wpm"])
    assert "".join(keys for _, keys in saved["log"]) == OWN


@pytest.mark.default_transport         # a store rule: the default transport is enough
async def test_a_race_ending_while_redis_restarts_is_saved_once_it_is_back(
        make_server, connect):
    require_redis_server()
    redis = RedisServer(persistent=True)       # a Redis that keeps its data on restart
    redis.start()
    try:
        server = await make_server(redis_url=redis.url, max_wpm=10000,
                                   practice_countdown_s=0)
        ann = await connect("Ann", target=server)
        text_id = (await ann.request({"type": "submit_text", "title": "Outage",
                                      "body": OWN}))["text"]["text_id"]
        _, first = await practise(ann, text_id)

        await ann.request({"type": "practice", "text_id": text_id})
        body = (await ann.expect("countdown"))["text"]["body"]
        await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")
        redis.stop()                           # the race goes on without Redis
        await type_passage(ann, body)
        await ann.expect("finish")
        # Results are told only once saved: not while Redis is away...
        with pytest.raises(TimeoutError):
            await ann.expect("results", timeout=1.0)
        with pytest.raises(ServerError) as away:      # reads fail clearly meanwhile
            await ann.request({"type": "player_stats"})
        assert away.value.code == "unavailable"
        redis.start()
        # ...and as soon as the server's retry gets through after the restart.
        second = await ann.expect("results", timeout=30)
        assert second["race_id"] != first["race_id"]

        stats = await ann.request({"type": "player_stats"})
        assert stats["races"] == 2
        assert [r["race_id"] for r in stats["recent"]] == [second["race_id"], first["race_id"]]
        text = await ann.request({"type": "text_stats", "text_id": text_id})
        assert text["completions"] == 2
    finally:
        redis.close()


@pytest.mark.parametrize("url, says, status", [
    ("redis://127.0.0.1:{free_port}/0", "cannot connect to redis", 1),
    ("http://127.0.0.1:6379/", "--redis-url: only redis:// URLs are supported", 2),
])
def test_a_server_that_cannot_reach_its_redis_says_so_and_exits(url, says, status, tmp_path):
    # The port is picked when the test runs, not in its name: pytest-xdist's workers
    # must collect the same test names.
    url = url.format(free_port=_free_port())
    run = subprocess.run([sys.executable, "-m", "server", "--port", "0", "--redis-url", url],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == status
    assert f"python -m server: error: {says}" in run.stderr
    assert "Traceback" not in run.stderr
