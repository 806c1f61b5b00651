"""Text Practice Mode for real passages, over real sockets: a player's 3,300-character
passage from a word processor is stored typeable and typed to the end; the limit is
refused clearly; accents typed composed or decomposed, a phone's curly apostrophe, and
the joiners of Persian all work."""

from __future__ import annotations

import asyncio
import unicodedata

import pytest

from client_demo.bot import Bot
from client_demo.client import ServerError
from protocol.messages import BODY_MAX, BODY_RAW_MAX
from protocol.typeable import FOLDS
from tests.passages import PARAGRAPHS, TYPOGRAPHIC
from tests.stepping import until_start
from tests.typist import practise


def typeable(body: str) -> bool:
    """Every character is a keyboard's: printable ASCII, a letter, or a paragraph break."""
    return all((ch.isascii() and ch.isprintable()) or ch.isalpha() or ch == "\n"
               for ch in body)


@pytest.mark.parametrize("codec", ["json", "msgpack"])
async def test_a_word_processor_passage_is_stored_typeable_and_typed_to_the_end(
        make_server, connect, codec):
    server = await make_server(practice_countdown_s=0, max_wpm=10000)
    ann = await connect("Ann", codec, target=server)
    created = (await ann.request({"type": "submit_text", "title": "Mara\u2019s \u201clibrary\u201d",
                                  "body": TYPOGRAPHIC, "source": "a novel \u2014 ch. 1"}))["text"]
    body = created["body"]
    # Stored as it is typed, and the reply shows it so.
    assert len(body) >= 3000 and typeable(body)
    assert not any(ch in body for ch in FOLDS)
    assert body == unicodedata.normalize("NFC", body)
    assert body.count("\n") == len(PARAGRAPHS) - 1           # paragraphs kept for display
    assert "pigeons -- same as always" in body and "You're early again,\" said" in body
    assert "then crossed out \"problem\"" not in body and "above it... then" in body
    assert "ten o'clock" in body and "metronome" in body and "a caf\u00e9 in Lisbon" in body
    assert created["title"] == "Mara's \"library\"" and created["source"] == "a novel -- ch. 1"
    assert created["chars"] == len(body) and created["words"] == 597
    listed = await ann.request({"type": "list_texts", "author": ann.player_id})
    assert listed["texts"][0]["body"] == body

    bot = Bot(f"ws://127.0.0.1:{server.port}/ws", "Typist", wpm=30_000, accuracy=0.97,
              practice=created["text_id"], codec=codec, out=lambda line: None)
    (results,) = await asyncio.wait_for(bot.run(), 120)
    (mine,) = results["ranking"]
    assert mine["status"] == "finished" and mine["pos"] == len(body)
    assert mine["accuracy"] < 1                            # it made typos and fixed them


@pytest.mark.parametrize("codec", ["json", "msgpack"])
async def test_a_text_over_the_limit_is_refused_saying_the_limit(connect, codec):
    ann = await connect("Ann", codec)
    for body, says in [
        ("y" * (BODY_MAX + 1),
         f"the text must be 20-{BODY_MAX} characters after whitespace is normalized "
         f"(it has {BODY_MAX + 1})"),
        ("word " * (BODY_RAW_MAX // 5 + 1),
         f"field 'body' is far too long (a text is at most {BODY_MAX} characters; "
         f"it has {BODY_RAW_MAX + 5})"),
    ]:
        with pytest.raises(ServerError) as refused:
            await ann.request({"type": "submit_text", "title": "Too long", "body": body})
        assert refused.value.code == "text_invalid"
        assert refused.value.error["message"] == says
    assert (await ann.request({"type": "list_texts", "author": ann.player_id}))["total"] == 0
    # The limit itself is fine.
    created = await ann.request({"type": "submit_text", "title": "Longest",
                                 "body": ("word " * BODY_MAX)[:BODY_MAX]})
    assert created["text"]["chars"] == BODY_MAX - 1        # the trailing space trimmed


async def test_nfd_and_nfc_forms_of_a_passage_are_one_text(connect):
    ann = await connect("Ann")
    nfc = "Un caf\u00e9 cr\u00e8me \u00e0 Z\u00fcrich, na\u00efve fa\u00e7ade."
    first = (await ann.request({"type": "submit_text", "title": "NFD",
                                "body": unicodedata.normalize("NFD", nfc)}))["text"]
    assert first["body"] == nfc
    with pytest.raises(ServerError) as refused:
        await ann.request({"type": "submit_text", "title": "NFC", "body": nfc})
    assert refused.value.code == "text_invalid"
    assert f"already in the library (text {first['text_id']})" in str(refused.value)


@pytest.mark.parametrize("codec", ["json", "msgpack"])
async def test_composed_decomposed_and_smart_keys_type_the_passage(make_stepped_server,
                                                                     connect, codec):
    server = await make_stepped_server(practice_countdown_s=0, max_wpm=10000)
    ann = await connect("Ann", codec, target=server)
    text = (await ann.request({"type": "submit_text", "title": "Caf\u00e9",
                               "body": "Cafe\u0301 au lait, it\u2019s \u201cgood\u201d."}))["text"]
    assert text["body"] == "Caf\u00e9 au lait, it's \"good\"."
    await ann.request({"type": "practice", "text_id": text["text_id"]})
    await until_start(server, ann)
    # A keyboard sending the composed accent, then one sending it decomposed (deleted
    # and typed again), then a phone's smart apostrophe and quotes.
    for keys in ["Caf\u00e9", "\b", "e\u0301 au lait, ", "it\u2019s \u201cgood\u201d."]:
        await ann.send({"type": "input", "keys": keys})
    results = await ann.expect("results", timeout=30)
    (mine,) = results["ranking"]
    assert mine["status"] == "finished" and mine["pos"] == len(text["body"])


async def test_persian_and_hindi_texts_with_joiners_are_accepted_and_typed(
        make_stepped_server, connect):
    server = await make_stepped_server(practice_countdown_s=0, max_wpm=10000)
    ann = await connect("Ann", "msgpack", target=server)
    persian = ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u0627\u06cc\u0646 "
               "\u0645\u062a\u0646 \u0631\u0627 \u0628\u0646\u0648\u06cc\u0633\u0645")
    hindi = "\u0915\u094d\u200d\u0937 \u0939\u093f\u0928\u094d\u0926\u0940 \u092e\u0947\u0902 \u0932\u093f\u0916\u093e"
    for body in (persian, hindi):
        text = (await ann.request({"type": "submit_text", "title": "T", "body": body}))["text"]
        assert text["body"] == body
        ann.drop_unread()                      # the last race's messages
        countdown, results = await practise(ann, text["text_id"], server=server)
        assert countdown["text"]["body"] == body
        assert results["ranking"][0]["status"] == "finished"
