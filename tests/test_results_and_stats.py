"""Every result saved and replayable; statistics and leaderboards; flagged results."""

from __future__ import annotations

import pytest

from client_demo.client import ServerError
from server.core.replay import replay
from server.net.clock import ManualClock
from tests.stepping import until_start
from tests.typist import practise, type_passage

SHORT = "Results are saved before anyone sees them."


async def own_text(client, body: str = SHORT, title: str = "Test text") -> int:
    reply = await client.request({"type": "submit_text", "title": title, "body": body})
    return reply["text"]["text_id"]


async def test_a_practice_race_is_saved_with_a_replayable_log(make_stepped_server, connect):
    server = await make_stepped_server(practice_countdown_s=0, max_wpm=10000)
    ann = await connect("Ann", target=server)
    text_id = await own_text(ann)
    countdown, results = await practise(ann, text_id, server=server)
    assert countdown["text"]["text_id"] == text_id and countdown["text"]["body"] == SHORT
    [entry] = results["ranking"]
    assert (entry["player_id"], entry["place"], entry["status"], entry["flagged"]) == (
        ann.player_id, 1, "finished", None)

    saved = await server.store.get_race(results["race_id"])
    assert saved.kind == "practice" and saved.text_id == text_id
    [result] = saved.results
    assert (result.wpm, result.accuracy, result.race_ms, result.place, result.status) == (
        entry["wpm"], entry["accuracy"], entry["race_ms"], 1, "finished")
    # The log's server times lie within the race and replay to the same result.
    times = [t for t, _ in result.log]
    assert times == sorted(times) and 0 <= times[0] and times[-1] == result.race_ms
    state = replay(SHORT, result.log)
    assert state.finished and state.keystrokes == result.keystrokes == len(SHORT)

    stats = await ann.request({"type": "player_stats"})
    assert (stats["player_id"], stats["name"], stats["races"], stats["wins"]) == (
        ann.player_id, "Ann", 1, 0)
    assert stats["best_wpm"] == stats["avg_wpm"] == stats["avg_wpm_last_10"] == entry["wpm"]
    assert stats["avg_accuracy"] == 1.0
    [recent] = stats["recent"]
    assert (recent["race_id"], recent["kind"], recent["racers"], recent["text_id"]) == (
        results["race_id"], "practice", 1, text_id)


async def test_practice_on_a_random_or_a_missing_text(make_stepped_server, connect):
    server = await make_stepped_server(practice_countdown_s=0)
    ann = await connect("Ann", target=server)
    joined = await ann.request({"type": "practice"})
    countdown = await ann.expect("countdown")
    assert joined["room"]["kind"] == "practice" and countdown["text"]["text_id"] > 0
    assert countdown["text"]["text_id"] in await server.store.library_text_ids()
    with pytest.raises(ServerError) as missing:
        await ann.request({"type": "practice", "text_id": 10**9})
    assert missing.value.code == "text_not_found"


async def two_player_race(server, ann, bob, text_id):
    """Ann and Bob race in a private room on one text; Bob is slower. Returns results."""
    room = (await ann.request({"type": "create_room",
                               "settings": {"text_id": text_id, "countdown_s": 0}}))["room"]
    await bob.request({"type": "join_room", "code": room["code"]})
    await ann.send({"type": "start"})
    body = (await until_start(server, ann))["text"]["body"]
    await bob.expect("countdown")
    await type_passage(ann, body, chunk=4, pause_s=0.02, server=server)
    await type_passage(bob, body, chunk=2, pause_s=0.02, server=server)
    results = await ann.expect("results", timeout=30)
    await bob.expect("results", timeout=30)
    return results


async def test_stats_and_leaderboards_survive_a_restart(make_stepped_server, connect, tmp_path):
    db = str(tmp_path / "stats.db")
    server = await make_stepped_server(db=db, max_wpm=10000, practice_countdown_s=0)
    ann, bob = await connect("Ann", target=server), await connect("Bob", target=server)
    text_id = await own_text(ann)
    other_id = await own_text(bob, "Another passage that is only for Bob.", "Other")
    results = await two_player_race(server, ann, bob, text_id)
    ranking = results["ranking"]
    assert [r["name"] for r in ranking] == ["Ann", "Bob"]
    assert [r["flagged"] for r in ranking] == [None, None]
    _, solo = await practise(bob, other_id, server=server)

    ann_stats = await bob.request({"type": "player_stats", "player_id": ann.player_id})
    assert (ann_stats["races"], ann_stats["wins"], ann_stats["best_wpm"]) == (
        1, 1, ranking[0]["wpm"])
    assert ann_stats["recent"][0]["racers"] == 2 and ann_stats["recent"][0]["place"] == 1
    bob_stats = await bob.request({"type": "player_stats"})
    assert (bob_stats["races"], bob_stats["wins"]) == (2, 0)
    assert [r["kind"] for r in bob_stats["recent"]] == ["practice", "private"]
    assert bob_stats["avg_wpm"] == pytest.approx(
        (ranking[1]["wpm"] + solo["ranking"][0]["wpm"]) / 2, abs=0.01)
    on_text = await ann.request({"type": "leaderboard", "text_id": text_id})
    assert [(e["name"], e["wpm"]) for e in on_text["entries"]] == [
        ("Ann", ranking[0]["wpm"]), ("Bob", ranking[1]["wpm"])]
    overall = await ann.request({"type": "leaderboard"})
    best_bob = max(ranking[1]["wpm"], solo["ranking"][0]["wpm"])
    assert {e["player_id"]: e["wpm"] for e in overall["entries"]} == {
        ann.player_id: ranking[0]["wpm"], bob.player_id: best_bob}
    with pytest.raises(ServerError) as missing:
        await ann.request({"type": "leaderboard", "text_id": 10**9})
    assert missing.value.code == "text_not_found"
    with pytest.raises(ServerError) as nobody:
        await ann.request({"type": "player_stats", "player_id": "nobody"})
    assert nobody.value.code == "player_not_found"
    await server.stop()

    again = await make_stepped_server(db=db)
    ann2 = await connect("Ann", target=again, token=ann.welcome["token"])
    assert ann2.player_id == ann.player_id
    assert await ann2.request({"type": "player_stats"}) == {**ann_stats, "id": 2}
    bob_after = await ann2.request({"type": "player_stats", "player_id": bob.player_id})
    assert bob_after["races"] == 2 and bob_after["recent"] == bob_stats["recent"]
    assert (await ann2.request({"type": "leaderboard"}))["entries"] == overall["entries"]


async def test_implausible_results_are_flagged_and_kept_off_the_boards(make_stepped_server,
                                                                      connect):
    server = await make_stepped_server(practice_countdown_s=0)          # --max-wpm 300
    ann, bob, cat = [await connect(n, target=server) for n in ("Ann", "Bob", "Cat")]
    text_id = await own_text(ann)

    # Ann pastes the whole text in one input.
    await ann.request({"type": "practice", "text_id": text_id})
    await until_start(server, ann)
    await ann.send({"type": "input", "keys": SHORT})
    pasted = (await ann.expect("results"))["ranking"][0]
    assert pasted["status"] == "finished"
    assert pasted["flagged"] == f"pasted: {len(SHORT)} characters arrived in one input"

    # Bob types in small inputs, but far faster than any human.
    _, fast = await practise(bob, text_id, chunk=3, pause_s=0, server=server)
    too_fast = fast["ranking"][0]
    assert too_fast["wpm"] > 300 and too_fast["flagged"].startswith("too fast: ")
    assert "WPM over the race (the limit is 300)" in too_fast["flagged"]

    # Cat types at a human pace (2 characters every 100 ms: at most 240 WPM).
    _, human = await practise(cat, text_id, chunk=2, pause_s=0.1, server=server)
    honest = human["ranking"][0]
    assert honest["flagged"] is None and honest["wpm"] <= 300

    for client, entry in ((ann, pasted), (bob, too_fast)):
        stats = await client.request({"type": "player_stats"})
        assert stats["races"] == 1 and stats["best_wpm"] == 0 and stats["avg_wpm"] == 0
        assert stats["recent"][0]["flagged"] == entry["flagged"]
    board = await cat.request({"type": "leaderboard", "text_id": text_id})
    assert [e["name"] for e in board["entries"]] == ["Cat"]
    assert [e["name"] for e in (await cat.request({"type": "leaderboard"}))["entries"]] == ["Cat"]
    text_stats = await cat.request({"type": "text_stats", "text_id": text_id})
    assert text_stats["completions"] == 1 and text_stats["avg_wpm"] == honest["wpm"]


async def test_a_saved_race_can_be_fetched_and_replayed_by_anyone(make_stepped_server, connect):
    server = await make_stepped_server(practice_countdown_s=0, max_wpm=10000)
    ann, bob = await connect("Ann", "msgpack", target=server), await connect("Bob", target=server)
    text_id = await own_text(ann)
    await ann.request({"type": "practice", "text_id": text_id})
    await until_start(server, ann)
    # A typo and its correction, then the rest in small inputs.
    await ann.send({"type": "input", "keys": SHORT[:8] + "zz\b\b"})
    await type_passage(ann, SHORT[8:], chunk=4, pause_s=0.02, server=server)
    [entry] = (await ann.expect("results"))["ranking"]
    stats = await bob.request({"type": "player_stats", "player_id": ann.player_id})

    replay_reply = await bob.request({"type": "replay", "race_id": stats["recent"][0]["race_id"]})
    race = replay_reply["race"]
    assert race["kind"] == "practice" and race["text"]["body"] == SHORT
    [saved] = race["results"]
    assert (saved["player_id"], saved["wpm"], saved["race_ms"], saved["flagged"]) == (
        ann.player_id, entry["wpm"], entry["race_ms"], None)
    assert saved["log"][0][1] == SHORT[:8] + "zz\b\b"
    # Re-fed through the typing model, the log gives back the race as it was scored.
    state = replay(race["text"]["body"], saved["log"])
    assert state.finished and state.keystrokes == saved["keystrokes"] == len(SHORT) + 2
    assert round(state.correct_keystrokes / state.keystrokes, 4) == entry["accuracy"]
    with pytest.raises(ServerError) as missing:
        await bob.request({"type": "replay", "race_id": "r0.1"})
    assert missing.value.code == "race_not_found"


async def test_a_finish_at_the_start_instant_is_flagged_and_not_a_clean_win(make_server, connect):
    clock = ManualClock()              # every input lands at the instant the test chose
    server = await make_server(clock=clock, run_ticker=False)     # --max-wpm 300
    cheat, honest = await connect("Cheat", "msgpack", target=server), await connect(
        "Honest", target=server)
    body = "Sixty-six characters of text, typed in three inputs at the start!!"
    assert len(body) == 66
    text_id = await own_text(cheat, body)
    room = (await cheat.request({"type": "create_room",
                                 "settings": {"text_id": text_id}}))["room"]
    await honest.request({"type": "join_room", "code": room["code"]})
    await cheat.send({"type": "start"})
    start = (await cheat.expect("countdown"))["start_server_ms"]
    clock.advance(start - clock.now_ms())
    server.ticker.round()
    await cheat.expect("room", where=lambda m: m["room"]["state"] == "racing")

    # Three inputs of 22 characters (none a paste) all arrive at race_ms 0.
    for i in range(0, 66, 22):
        await cheat.send({"type": "input", "keys": body[i:i + 22]})
    finish = await cheat.expect("finish")
    assert (finish["race_ms"], finish["wpm"]) == (0, 792_000.0)         # was 0 WPM
    clock.advance(22_000)                                               # 36 WPM
    await type_passage(honest, body, chunk=2, pause_s=0)
    ranking = (await honest.expect("results"))["ranking"]
    assert [(r["name"], r["place"]) for r in ranking] == [("Cheat", 1), ("Honest", 2)]
    assert ranking[0]["flagged"] == "too fast: 792000 WPM over the race (the limit is 300)"
    assert ranking[1]["flagged"] is None

    # First place, but not a win, a best or a leaderboard entry.
    stats = await cheat.request({"type": "player_stats"})
    assert (stats["races"], stats["wins"], stats["best_wpm"]) == (1, 0, 0)
    board = await honest.request({"type": "leaderboard", "text_id": text_id})
    assert [e["name"] for e in board["entries"]] == ["Honest"]


async def test_a_text_page_and_a_player_page_have_what_they_show(make_server, connect):
    """text_stats tells the asker their best on the text; player_stats has the WPM
    history (oldest first) for the chart, beside the last 10 races."""
    server = await make_server(practice_countdown_s=0, max_wpm=10000)
    ann, bob = await connect("Ann", target=server), await connect("Bob", target=server)
    text_id = await own_text(ann)
    assert (await ann.request({"type": "text_stats", "text_id": text_id}))["best"] is None
    _, slow = await practise(ann, text_id, chunk=2, pause_s=0.03)
    _, fast = await practise(ann, text_id, chunk=4, pause_s=0.02)
    wpms = [slow["ranking"][0]["wpm"], fast["ranking"][0]["wpm"]]
    page = await ann.request({"type": "text_stats", "text_id": text_id})
    assert page["best"]["wpm"] == max(wpms) and page["best"]["player_id"] == ann.player_id
    assert page["best"]["race_id"] in (slow["race_id"], fast["race_id"])
    assert (await bob.request({"type": "text_stats", "text_id": text_id}))["best"] is None
    stats = await bob.request({"type": "player_stats", "player_id": ann.player_id})
    assert [h["wpm"] for h in stats["history"]] == wpms
    assert [h["race_id"] for h in stats["history"]] == [slow["race_id"], fast["race_id"]]
    assert {h["text_id"] for h in stats["history"]} == {text_id}
