"""Quick races matched by rating, over real sockets: bots at 40 and 130 WPM race once
together (unrated), then get rooms of their own until the slow one's room has waited
long enough for the band to take the fast one. One process, then two on one Redis."""

from __future__ import annotations

import asyncio
import random

import pytest

from client_demo.bot import Bot
from server.core import matching
from server.net.clock import Clock
from tests.redis_fixture import redis_server  # noqa: F401
from tests.typist import type_passage

# Ratings and matchmaking are game rules: the default transport is enough.
pytestmark = pytest.mark.default_transport

PASSAGE = "Type this line fast."          # 20 characters: 6 s at 40 WPM
WIDEN_S = 5


class SteppedClock(Clock):
    """Real time, which a test can also move forward instead of waiting (the bots race
    in real time; matchmaking's waits are stepped)."""

    def __init__(self):
        super().__init__()
        self.offset_ms = 0

    def now_ms(self) -> int:
        return super().now_ms() + self.offset_ms


@pytest.fixture
def texts_file(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text(PASSAGE + "\n", encoding="utf-8")
    return str(path)


def options(texts_file):
    # Rooms never start on their own while the test steps the clock (lobby wait 600 s).
    return dict(texts=texts_file, countdown_s=1, lobby_wait_s=600, match_widen_s=WIDEN_S)


async def rate_two_bots(url_slow: str, url_fast: str, watcher) -> tuple[Bot, Bot]:
    """One quick race of a 40 and a 130 WPM bot: unrated, they race together. The
    fast one comes once the slow one's room is listed (`watcher` is on its server)."""
    slow = Bot(url_slow, "Slow", 40, codec="json", rng=random.Random(1), out=lambda _: None)
    fast = Bot(url_fast, "Fast", 130, codec="msgpack", rng=random.Random(2),
               out=lambda _: None)
    slow_run = asyncio.create_task(slow.run())
    deadline = asyncio.get_running_loop().time() + 15
    while not (await watcher.request({"type": "list_races"}))["rooms"]:
        assert asyncio.get_running_loop().time() < deadline, "the slow bot never got a room"
        await asyncio.sleep(0.05)          # polling a condition, not a timed wait
    [slow_results], [fast_results] = await asyncio.wait_for(
        asyncio.gather(slow_run, fast.run()), 60)
    assert slow_results["race_id"] == fast_results["race_id"]
    assert [r["status"] for r in slow_results["ranking"]] == ["finished", "finished"]
    return slow, fast


async def back(connect, bot: Bot, server):
    """The bot's player on a new connection: its rating is read at hello."""
    client = await connect(bot.name, "json", target=server, token=bot.client.welcome["token"])
    stats = await client.request({"type": "player_stats"})
    return client, stats["avg_wpm_last_10"]


async def matched_apart_then_together(clock, slow, fast, slow_rating, fast_rating, watcher,
                                      fast_home):
    """The shared story of both tests, from two rated players on their connections.
    A player matched nowhere gets a new room on its own process, `fast_home` for Fast."""
    assert fast_rating > matching.BAND ** 2 * slow_rating     # apart for a step at least
    x = (await slow.request({"type": "quick_race"}))["room"]
    assert x["rating"] == pytest.approx(slow_rating, abs=0.01)
    y = (await fast.request({"type": "quick_race"}))["room"]
    assert y["room_id"] != x["room_id"] and fast_home.lobby.room(y["room_id"]) is not None
    assert [p["name"] for p in y["players"]] == ["Fast"]
    listed = {r["room_id"]: r["rating"] for r in (await watcher.request(
        {"type": "list_races"}))["rooms"]}
    assert listed[x["room_id"]] == pytest.approx(slow_rating, abs=0.01)
    assert listed[y["room_id"]] == pytest.approx(fast_rating, abs=0.01)

    # The band widens by 1.5 each WIDEN_S the slow player waits: step the clock to
    # 2 s short of the step that takes the fast player in, then past it.
    steps = 0
    while matching.band(steps * WIDEN_S * 1000, WIDEN_S * 1000) * slow_rating < fast_rating:
        steps += 1
    clock.offset_ms = steps * WIDEN_S * 1000 - 2000
    early = (await fast.request({"type": "quick_race"}))["room"]
    assert early["room_id"] != x["room_id"] and fast_home.lobby.room(early["room_id"]) is not None
    clock.offset_ms = steps * WIDEN_S * 1000 + 100
    late = (await fast.request({"type": "quick_race"}))["room"]
    assert late["room_id"] == x["room_id"]
    assert [p["name"] for p in late["players"]] == ["Slow", "Fast"]
    assert late["rating"] == pytest.approx((slow_rating + fast_rating) / 2, abs=0.02)


async def test_bots_at_40_and_130_wpm_race_apart_until_the_band_widens(
        make_server, connect, texts_file):
    clock = SteppedClock()
    server = await make_server(clock=clock, **options(texts_file))
    url = f"ws://127.0.0.1:{server.port}/ws"
    watcher = await connect("Watcher", target=server)
    slow_bot, fast_bot = await rate_two_bots(url, url, watcher)
    slow, slow_rating = await back(connect, slow_bot, server)
    fast, fast_rating = await back(connect, fast_bot, server)
    await matched_apart_then_together(clock, slow, fast, slow_rating, fast_rating, watcher,
                                      server)


async def test_the_same_across_two_processes_sharing_redis(
        make_server, redis_server, connect, texts_file):  # noqa: F811
    clock = SteppedClock()
    a, b = [await make_server(redis_url=redis_server.url, secret="one cluster", clock=clock,
                              **options(texts_file)) for _ in range(2)]
    watcher = await connect("Watcher", target=b)
    slow_bot, fast_bot = await rate_two_bots(f"ws://127.0.0.1:{a.port}/ws",
                                             f"ws://127.0.0.1:{b.port}/ws", watcher)
    slow, slow_rating = await back(connect, slow_bot, a)
    fast, fast_rating = await back(connect, fast_bot, b)
    await matched_apart_then_together(clock, slow, fast, slow_rating, fast_rating, watcher, b)


async def test_a_rating_follows_each_result_on_the_same_connection_across_processes(
        make_server, redis_server, connect, texts_file):  # noqa: F811
    a, b = [await make_server(redis_url=redis_server.url, secret="one cluster",
                              max_wpm=10000, **options(texts_file)) for _ in range(2)]
    ann = await connect("Ann", target=a)
    bob = await connect("Bob", "msgpack", target=b)
    first = (await ann.request({"type": "quick_race"}))["room"]
    assert first["rating"] is None
    assert (await bob.request({"type": "quick_race"}))["room"]["room_id"] == first["room_id"]
    await bob.expect("room", where=lambda m: m["room"]["state"] == "racing")
    await asyncio.gather(type_passage(ann, PASSAGE), type_passage(bob, PASSAGE, chunk=2))
    results = await bob.expect("results", timeout=30)
    wpm = {r["name"]: r["wpm"] for r in results["ranking"]}
    # Bob's result was saved by Ann's process; Bob's own process learnt his rating
    # and matches his next quick race with it.
    again = (await bob.request({"type": "quick_race"}))["room"]
    assert b.lobby.room(again["room_id"]) is not None
    assert again["rating"] == pytest.approx(wpm["Bob"], abs=0.01)
