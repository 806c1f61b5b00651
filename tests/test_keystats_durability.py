"""Per-key statistics are saved with the result they come from: SIGKILL between two
saves keeps exactly the first race's keys, and the next race adds to them."""

from __future__ import annotations

from client_demo.client import Client
from server.core.keystats import entry, tally
from tests.test_crash_durability import ended, killed, start_server
from tests.test_store_contract_keystats import merged
from tests.typist import type_passage

BODY = "Nothing is lost when the power goes out, not even a key."


async def connect(port: int, token: str | None = None) -> Client:
    client = await Client.connect(f"ws://127.0.0.1:{port}/ws", "json")
    await client.hello("Ann", token)
    return client


async def practise(client, text_id: int | None = None) -> tuple[int, dict]:
    if text_id is None:
        text_id = (await client.request({"type": "submit_text", "title": "Keys",
                                         "body": BODY}))["text"]["text_id"]
    await client.request({"type": "practice", "text_id": text_id})
    await client.expect("countdown")
    await client.expect("room", where=lambda m: m["room"]["state"] == "racing")
    await type_passage(client, BODY, chunk=3, pause_s=0.03)
    results = await client.expect("results", timeout=60)
    return text_id, results


async def shown_and_saved(client, race_ids: list[str]) -> tuple[list, list]:
    """(the keys key_stats shows, the keys these races' saved logs tally to)."""
    tables = []
    for race_id in race_ids:
        [saved] = (await client.request({"type": "replay", "race_id": race_id}))["race"]["results"]
        tables.append(tally(BODY, [tuple(e) for e in saved["log"]]))
    keys = merged(tables)[0]
    shown = (await client.request({"type": "key_stats"}))["keys"]
    return sorted(shown, key=lambda k: k["key"]), [entry("key", k, *keys[k]) for k in sorted(keys)]


async def test_key_stats_survive_sigkill_between_two_saves(tmp_path):
    db = str(tmp_path / "keys.db")
    process, port = await start_server(db)
    try:
        ann = await connect(port)
        text_id, first = await practise(ann)
        await killed(process)                 # right after the first race's results
    finally:
        await ended(process)

    process, port = await start_server(db)
    try:
        again = await connect(port, ann.welcome["token"])
        shown, saved = await shown_and_saved(again, [first["race_id"]])
        assert shown == saved and len(shown) > 10          # the first race, whole
        _, second = await practise(again, text_id)
        shown, saved = await shown_and_saved(again, [first["race_id"], second["race_id"]])
        assert shown == saved                               # and the second added to it
        await killed(process)
    finally:
        await ended(process)
