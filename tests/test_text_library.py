"""The text library over real sockets: the starter set, --texts, players' own texts."""

from __future__ import annotations

import pytest

from client_demo.client import Client, ServerError
from protocol.messages import BODY_MAX
from server.core.texts import TextInvalid
from server.net.starter import starter_texts
from tests.typist import practise

LISTING = {"text_id", "title", "source", "author", "author_name", "created_ms", "words",
           "chars", "completions", "body"}


async def all_texts(client, **filters) -> tuple[list[dict], int]:
    texts, offset = [], 0
    while True:
        page = await client.request({"type": "list_texts", "offset": offset, "limit": 7,
                                     **filters})
        texts += page["texts"]
        offset += 7
        if offset >= page["total"]:
            return texts, page["total"]


async def test_the_starter_set_is_imported_once_and_paged_newest_first(make_server, connect,
                                                                       tmp_path):
    db = str(tmp_path / "lib.db")
    server = await make_server(db=db)
    ann = await connect("Ann", target=server)
    texts, total = await all_texts(ann)
    assert total == len(starter_texts()) >= 40 and len(texts) == total
    assert len({t["text_id"] for t in texts}) == total
    assert {t["body"] for t in texts} == {t["body"] for t in starter_texts()}
    for t in texts:
        assert set(t) >= LISTING and t["author"] is None and t["completions"] == 0
        assert t["words"] == len(t["body"].split()) and t["chars"] == len(t["body"])
    # Newest first: later text_ids of the same import come first.
    assert [t["text_id"] for t in texts] == sorted((t["text_id"] for t in texts), reverse=True)
    page = await ann.request({"type": "list_texts", "offset": total - 2, "limit": 5})
    assert len(page["texts"]) == 2 and page["total"] == total and page["offset"] == total - 2
    await server.stop()

    again = await make_server(db=db)
    bob = await connect("Bob", target=again)
    assert (await bob.request({"type": "list_texts"}))["total"] == total


async def test_a_texts_file_is_imported_once_and_races_draw_from_it(make_stepped_server,
                                                                    connect, tmp_path):
    db, path = str(tmp_path / "ops.db"), tmp_path / "club.txt"
    path.write_text("# Club rules\nMembers bring their own\nkeyboards on Fridays.\n\n"
                    "The second passage has no title line at all.\n", encoding="utf-8")
    options = dict(db=db, texts=str(path), practice_countdown_s=0, max_wpm=10000)
    server = await make_stepped_server(**options)
    ann = await connect("Ann", target=server)
    texts, total = await all_texts(ann)
    assert total == len(starter_texts()) + 2
    club = [t for t in texts if t["source"].startswith("club.txt")]
    assert [(t["title"], t["source"], t["author"]) for t in club] == [
        ("The second passage has no title", "club.txt #2", None),
        ("Club rules", "club.txt #1", None)]
    assert club[1]["body"] == "Members bring their own keyboards on Fridays."
    countdown, results = await practise(ann, server=server)
    assert countdown["text"]["text_id"] in {t["text_id"] for t in club}
    assert results["ranking"][0]["status"] == "finished"
    await server.stop()

    again = await make_stepped_server(**options)       # the same file twice adds nothing
    bob = await connect("Bob", target=again)
    assert (await bob.request({"type": "list_texts"}))["total"] == total


async def test_a_bad_passage_in_a_texts_file_stops_the_start(make_server, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("A good passage that is long enough.\n\ntoo short\n", encoding="utf-8")
    with pytest.raises(TextInvalid, match="bad.txt: passage 2"):
        await make_server(texts=str(path))


async def test_players_write_texts_and_find_their_own(connect):
    ann, bob = await connect("Ann"), await connect("Bob")
    created = await ann.request({"type": "submit_text", "title": "  My  first ",
                                 "body": "Ann wrote\tthis  text\n\nfor her   friends.",
                                 "source": "Ann's notebook"})
    mine = created["text"]
    assert set(mine) >= LISTING
    assert (mine["title"], mine["body"], mine["source"]) == (
        "My first", "Ann wrote this text\nfor her friends.", "Ann's notebook")
    assert (mine["author"], mine["author_name"], mine["completions"]) == (
        ann.player_id, "Ann", 0)
    assert (mine["words"], mine["chars"]) == (7, len(mine["body"]))
    theirs = (await bob.request({"type": "submit_text", "title": "Bob's",
                                 "body": "Bob wrote a different text later on."}))["text"]
    assert theirs["source"] == "" and theirs["created_ms"] >= mine["created_ms"]

    newest = await ann.request({"type": "list_texts", "limit": 2})
    assert [t["text_id"] for t in newest["texts"]] == [theirs["text_id"], mine["text_id"]]
    own = await bob.request({"type": "list_texts", "author": ann.player_id})
    assert own["total"] == 1 and [t["text_id"] for t in own["texts"]] == [mine["text_id"]]
    nobody = await bob.request({"type": "list_texts", "author": "nobody"})
    assert nobody["total"] == 0 and nobody["texts"] == []

    # Anyone can practise on a player's text.
    practice = await bob.request({"type": "practice", "text_id": mine["text_id"]})
    assert practice["room"]["text"]["text_id"] == mine["text_id"]


@pytest.mark.parametrize("submission, complaint", [
    ({"title": "T", "body": "too short"}, f"20-{BODY_MAX} characters"),
    ({"title": "T", "body": "y" * (BODY_MAX + 1)}, f"it has {BODY_MAX + 1}"),
    ({"title": "T", "body": "A ring \x07 of the bell can not be typed"}, "U+0007"),
    ({"title": "", "body": "A body that is long enough to be typed."}, "title must be 1-80"),
    ({"title": "t" * 81, "body": "A body that is long enough to be typed."}, "it has 81"),
    ({"body": "A body that is long enough to be typed."}, "needs field 'title'"),
    ({"title": "T", "body": 12345678901234567890}, "'body' must be a string"),
    ({"title": "T", "body": "A body that is long enough.", "source": "s" * 121}, "source"),
])
async def test_a_bad_text_gets_text_invalid_saying_what_is_wrong(connect, submission,
                                                                 complaint):
    ann = await connect("Ann", "msgpack")
    with pytest.raises(ServerError) as refused:
        await ann.request({"type": "submit_text", **submission})
    assert refused.value.code == "text_invalid"
    assert complaint in refused.value.error["message"]
    assert (await ann.request({"type": "list_texts", "author": ann.player_id}))["total"] == 0


async def test_a_text_already_in_the_library_is_refused(connect):
    ann = await connect("Ann")
    starter = (await ann.request({"type": "list_texts", "limit": 1}))["texts"][0]
    with pytest.raises(ServerError) as refused:
        await ann.request({"type": "submit_text", "title": "Mine now",
                           "body": "  " + starter["body"].replace(" ", "   ") + " "})
    assert refused.value.code == "text_invalid"
    assert f"already in the library (text {starter['text_id']})" in str(refused.value)


async def test_text_stats_count_completions_and_the_best_results(make_stepped_server, connect):
    server = await make_stepped_server(practice_countdown_s=0, max_wpm=10000)
    ann, bob = await connect("Ann", target=server), await connect("Bob", target=server)
    text = (await ann.request({"type": "submit_text", "title": "Short one",
                               "body": "A short text for the stats test."}))["text"]
    runs = []
    for client, pause_s in ((ann, 0.02), (bob, 0.02), (ann, 0.04)):
        _, results = await practise(client, text["text_id"], pause_s=pause_s, server=server)
        runs.append(results["ranking"][0])
    stats = await bob.request({"type": "text_stats", "text_id": text["text_id"]})
    assert stats["completions"] == 3 and stats["text"]["text_id"] == text["text_id"]
    assert stats["text"]["completions"] == 3
    best: dict[str, float] = {}
    for run in runs:
        best[run["player_id"]] = max(best.get(run["player_id"], 0), run["wpm"])
    assert [e["player_id"] for e in stats["top"]] == sorted(best, key=best.get, reverse=True)
    assert {e["player_id"]: e["wpm"] for e in stats["top"]} == best
    assert stats["avg_wpm"] == pytest.approx(sum(r["wpm"] for r in runs) / 3, abs=0.01)
    listed = await ann.request({"type": "list_texts", "author": ann.player_id})
    assert listed["texts"][0]["completions"] == 3
    with pytest.raises(ServerError) as missing:
        await ann.request({"type": "text_stats", "text_id": 10**9})
    assert missing.value.code == "text_not_found"


BURST = 10      # --texts-per-hour 30 (the default): a third of them at once


def numbered(i: int) -> dict:
    return {"type": "submit_text", "title": f"Number {i}",
            "body": f"This is text number {i} from a script."}


async def test_a_player_cannot_flood_the_library(connect):
    ann = await connect("Ann")
    for i in range(BURST):
        await ann.request(numbered(i))
    with pytest.raises(ServerError) as refused:
        await ann.request(numbered(BURST))
    assert refused.value.code == "rate_limited" and "30 an hour" in str(refused.value)
    listed = await ann.request({"type": "list_texts", "author": ann.player_id})
    assert listed["total"] == BURST


async def test_new_identities_from_one_address_share_its_text_quota(server, connect):
    """Reconnecting as a new guest every ten texts once filled the disk."""
    ann = await connect("Ann")
    for i in range(BURST):
        await ann.request(numbered(i))
    bob = await connect("Bob")                      # a new identity, the same address
    with pytest.raises(ServerError) as refused:
        await bob.request(numbered(BURST))
    assert refused.value.code == "rate_limited"
    assert "from your address" in str(refused.value)
    total = (await bob.request({"type": "list_texts", "limit": 1}))["total"]
    assert total == len(starter_texts()) + BURST

    # Another address is not held back by this one's quota, and a player is held to
    # its own quota from any address.
    elsewhere = []
    try:
        for name, token, source in [("Cat", None, "127.0.0.2"),
                                    ("Ann", ann.welcome["token"], "127.0.0.3")]:
            client = await Client.connect(f"ws://127.0.0.1:{server.port}/ws", "json",
                                          local_addr=(source, 0))
            elsewhere.append(client)
            await client.hello(name, token)
        cat, ann_elsewhere = elsewhere
        assert (await cat.request(numbered(100)))["type"] == "text_created"
        with pytest.raises(ServerError) as own:
            await ann_elsewhere.request(numbered(101))
        assert own.value.code == "rate_limited" and "you have written" in str(own.value)
    finally:
        for client in elsewhere:
            await client.close()


async def test_the_text_quota_is_a_flag(make_server, connect):
    server = await make_server(texts_per_hour=3)        # one at once
    ann = await connect("Ann", target=server)
    await ann.request(numbered(0))
    with pytest.raises(ServerError) as refused:
        await ann.request(numbered(1))
    assert refused.value.code == "rate_limited" and "3 an hour" in str(refused.value)
