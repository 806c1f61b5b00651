"""`practice` {weak_keys: true} over real sockets: a passage composed for the player's
weakest bigram, raced, scored and saved like practice, on no leaderboard; a new player
gets an ordinary passage and is told why."""

from __future__ import annotations

import pytest

from client_demo.client import ServerError
from server.core.composer import vocabulary
from server.core.results import Result
from server.store import RaceRecord
from tests.stepping import step, synced, until_start

OWN = "quick quiet queens quote quests and squash quilts"


async def slow_at_qu(server, player_id: str, text_id: int) -> None:
    """A saved clean result on OWN where every "u" after a "q" took 600 ms, the rest 100."""
    log, t = [(100, OWN[0])], 100
    for i, ch in enumerate(OWN[1:], 1):
        t += 600 if OWN[i - 1:i + 1] == "qu" else 100
        log.append((t, ch))
    await server.store.save_race(RaceRecord(
        "seed-race", "room", "practice", text_id, 0, t, [Result(
            player_id, "Ann", 0, 1, "finished", 60.0, 1.0, t, len(OWN), len(OWN), len(OWN),
            log)]))


def rate(bigram: str, text: str) -> float:
    return sum(text.startswith(bigram, i) for i in range(len(text))) / len(text)


async def test_a_new_player_gets_an_ordinary_passage_and_is_told_why(make_stepped_server,
                                                                      connect):
    server = await make_stepped_server(practice_countdown_s=0)
    ann = await connect("Ann", target=server)
    joined = await ann.request({"type": "practice", "weak_keys": True})
    assert "no weak keys measured yet" in joined["notice"]
    countdown = await ann.expect("countdown")
    assert countdown["text"]["text_id"] in await server.store.library_text_ids()
    assert "generated" not in countdown["text"]
    for wrong in ({"weak_keys": True, "text_id": 1}, {"weak_keys": True, "ghost": "top"},
                  {"weak_keys": "yes"}, {"weak_keys": 1}):
        with pytest.raises(ServerError) as refused:
            await ann.request({"type": "practice", **wrong})
        assert refused.value.code == "bad_message"


async def test_a_weak_key_passage_drills_the_weakest_bigram_and_is_saved_off_the_boards(
        make_stepped_server, connect):
    server = await make_stepped_server(practice_countdown_s=0, max_wpm=10_000)
    ann = await connect("Ann", target=server)
    text_id = (await ann.request({"type": "submit_text", "title": "Q", "body": OWN}))[
        "text"]["text_id"]
    await slow_at_qu(server, ann.player_id, text_id)
    assert (await ann.request({"type": "key_stats"}))["bigrams"][0]["bigram"] == "qu"

    joined = await ann.request({"type": "practice", "weak_keys": True})
    assert "notice" not in joined and joined["room"]["text"]["text_id"] is None
    countdown = await until_start(server, ann)
    text = countdown["text"]
    assert (text["text_id"], text["generated"]) == (None, True)
    library = [(await server.store.get_text(t)).body
               for t in await server.store.library_text_ids()]
    body = text["body"]
    assert rate("qu", body) >= 3 * rate("qu", " ".join(library))
    assert set(body.split()) <= set(vocabulary(library + [OWN]))   # real words

    for i in range(0, len(body), 5):
        await step(server, 100)
        await ann.send({"type": "input", "keys": body[i:i + 5]})
        await synced(ann)
    results = await ann.expect("results", timeout=30)
    [entry] = results["ranking"]
    assert (entry["status"], entry["flagged"]) == ("finished", None)

    stats = await ann.request({"type": "player_stats"})
    assert stats["races"] == 2 and stats["recent"][0]["race_id"] == results["race_id"]
    board = (await ann.request({"type": "leaderboard"}))["entries"]
    assert [e["race_id"] for e in board] == ["seed-race"]      # not the generated one
    analysis = await ann.request({"type": "race_analysis", "race_id": results["race_id"],
                                  "slot": 0})
    assert analysis["text_id"] is None
    assert analysis["seconds"] and analysis["mistakes"] == []
    replay = (await ann.request({"type": "replay", "race_id": results["race_id"]}))["race"]
    assert (replay["text"]["text_id"], replay["text"]["body"]) == (None, body)
    counted = {b["bigram"]: b["count"] for b in
               (await ann.request({"type": "key_stats"}))["bigrams"]}
    assert counted.get("qu", 0) > OWN.count("qu")      # the practice counted too
