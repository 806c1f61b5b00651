"""`race_analysis` over real sockets: a finished race's analysis from the server's own
key log, for its racer and for anyone who may replay it; clear errors; hidden texts
shown as `replay` shows them; a quota on analyses computed."""

from __future__ import annotations

import pytest

from client_demo.client import ServerError
from server.net.analyses import BURST
from tests.stepping import step, synced, until_start

BODY = "Results are saved before anyone sees them."


async def race_with_a_typo(server, client) -> dict:
    """Practise BODY on a text of the client's own, typing "Resux" for "Resu" once and
    correcting it; returns the results."""
    text_id = (await client.request({"type": "submit_text", "title": "Typo",
                                     "body": BODY}))["text"]["text_id"]
    await client.request({"type": "practice", "text_id": text_id})
    await until_start(server, client)
    inputs = ["Re", "su", "x", "\b", "lt", "s "] + [BODY[i:i + 3] for i in range(8, len(BODY), 3)]
    for keys in inputs:
        await step(server, 150)
        await client.send({"type": "input", "keys": keys})
        await synced(client)            # logged at this time, not after the next step
    return await client.expect("results", timeout=30)


async def test_a_finished_race_is_analysed_for_its_racer_and_for_anyone(
        make_stepped_server, connect):
    server = await make_stepped_server(practice_countdown_s=0, max_wpm=10_000)
    ann = await connect("Ann", target=server)
    results = await race_with_a_typo(server, ann)
    request = {"type": "race_analysis", "race_id": results["race_id"], "slot": 0}
    analysis = await ann.request(request)
    assert (analysis["race_id"], analysis["slot"], analysis["player_id"]) == (
        results["race_id"], 0, ann.player_id)
    assert analysis["mistakes"] == [{"word": "Results", "at": 0, "typed": "Resux"}]
    # 20 inputs 150 ms apart: the race lasted 3 s; each second has its entry.
    assert [s["t"] for s in analysis["seconds"]] == [1, 2, 3]
    assert sum(s["errors"] for s in analysis["seconds"]) == 1
    assert all(s["raw_wpm"] >= s["wpm"] > 0 for s in analysis["seconds"])
    assert analysis["correction_ms"] == 150           # "x" stood until the next input
    assert 0 < analysis["consistency"] <= 100
    slowest = analysis["slowest_words"]
    assert 0 < len(slowest) <= 10 and slowest == sorted(slowest, key=lambda w: w["wpm"])
    assert all(BODY[w["at"]:w["at"] + len(w["word"])] == w["word"] for w in slowest)

    bob = await connect("Bob", target=server)          # anyone may see what replay shows
    assert (await bob.request(request))["mistakes"] == analysis["mistakes"]


async def test_an_unknown_race_or_slot_is_a_clear_error_and_the_connection_lives_on(
        make_stepped_server, connect):
    server = await make_stepped_server(practice_countdown_s=0, max_wpm=10_000)
    ann = await connect("Ann", target=server)
    results = await race_with_a_typo(server, ann)
    for request, code in [({"race_id": "nope", "slot": 0}, "race_not_found"),
                          ({"race_id": results["race_id"], "slot": 3}, "race_not_found"),
                          ({"race_id": results["race_id"]}, "bad_message"),
                          ({"race_id": results["race_id"], "slot": "0"}, "bad_message")]:
        with pytest.raises(ServerError) as refused:
            await ann.request({"type": "race_analysis", **request})
        assert refused.value.code == code
    assert (await ann.request({"type": "race_analysis", "race_id": results["race_id"],
                               "slot": 0}))["slot"] == 0


async def test_a_race_on_a_hidden_text_is_refused_as_replay_refuses_it(make_stepped_server,
                                                                        connect):
    server = await make_stepped_server(practice_countdown_s=0, max_wpm=10_000)
    ann = await connect("Ann", target=server)
    results = await race_with_a_typo(server, ann)
    request = {"type": "race_analysis", "race_id": results["race_id"], "slot": 0}
    assert (await ann.request(request))["mistakes"]              # cached now
    race = await server.store.get_race(results["race_id"])
    await server.store.set_text_hidden(race.text_id, True)
    server.library.hidden_now(race.text_id)
    for asked in (request, {"type": "replay", "race_id": results["race_id"]}):
        with pytest.raises(ServerError) as refused:
            await ann.request(asked)
        assert refused.value.code == "text_not_found"


async def test_analyses_computed_are_held_to_a_quota_per_player(make_stepped_server, connect):
    server = await make_stepped_server()
    ann = await connect("Ann", target=server)
    for n in range(BURST):
        with pytest.raises(ServerError) as missing:
            await ann.request({"type": "race_analysis", "race_id": f"r{n}", "slot": 0})
        assert missing.value.code == "race_not_found"
    with pytest.raises(ServerError) as refused:
        await ann.request({"type": "race_analysis", "race_id": "one-more", "slot": 0})
    assert refused.value.code == "rate_limited"
    await step(server, 60_000)                   # a minute later there is room again
    with pytest.raises(ServerError) as missing:
        await ann.request({"type": "race_analysis", "race_id": "later", "slot": 0})
    assert missing.value.code == "race_not_found"


async def test_key_stats_show_a_players_keys_and_weakest_bigrams(make_stepped_server, connect):
    server = await make_stepped_server(practice_countdown_s=0, max_wpm=10_000)
    ann = await connect("Ann", target=server)
    none_yet = await ann.request({"type": "key_stats"})
    assert (none_yet["player_id"], none_yet["keys"], none_yet["bigrams"]) == (
        ann.player_id, [], [])
    await race_with_a_typo(server, ann)
    mine = await ann.request({"type": "key_stats"})
    keys = {k["key"]: k for k in mine["keys"]}
    assert keys["l"] == {"key": "l", "count": 1, "errors": 1, "mean_ms": 75.0}  # "x" for "l"
    assert [k["count"] for k in mine["keys"]] == sorted((k["count"] for k in mine["keys"]),
                                                        reverse=True)
    assert all(b["count"] >= 3 for b in mine["bigrams"]) and len(mine["bigrams"]) <= 20
    bob = await connect("Bob", target=server)
    theirs = await bob.request({"type": "key_stats", "player_id": ann.player_id})
    assert theirs["keys"] == mine["keys"]
    with pytest.raises(ServerError) as unknown:
        await bob.request({"type": "key_stats", "player_id": "p-nobody"})
    assert unknown.value.code == "player_not_found"
