"""The costs of the longest passage (protocol.messages.BODY_MAX characters).

    .venv/bin/python -m bench.long_text [--racers 50] [--wpm 60]

Prints:
- memory per racer of a race on the longest text, typed to the end by bots' keystroke
  plans (typos and corrections included) in 100 ms inputs, key log included
  (tracemalloc: what the race holds once typed, over its racers; the text is shared);
- the size of the `countdown` frame that carries the text, per codec, for Latin,
  Cyrillic and Chinese text (UTF-8 takes 1, 2 and 3 bytes a character);
- the size of a `texts` page of 100 such texts (list_texts' largest page);
- the server's time to apply one input at the end of the longest text (ASCII keys, and
  keys that need folding), and the terminal client's time to handle one key (model and
  a render of the screen).
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from client_demo.bot import batches, plan_keystrokes
from client_demo.play_model import PlayModel
from client_demo.play_view import render
from protocol.codec import JSON, MSGPACK
from protocol.messages import BODY_MAX
from server.core.race import Race
from server.core.texts import Text, normalize_body

WORDS = {
    "latin": "the quick brown fox jumps over lazy dogs while typing long passages".split(),
    "cyrillic": "съешь же ещё этих мягких французских булок да выпей чаю".split(),
    "chinese": ["我们", "今天", "去", "公园", "天气", "很好", "学习", "打字"],
}


def passage(kind: str, rng: random.Random) -> str:
    sep = "" if kind == "chinese" else " "
    words: list[str] = []
    length = 0
    while length < BODY_MAX:
        word = rng.choice(WORDS[kind])
        words.append(word)
        length += len(word) + len(sep)
    paragraphs = [sep.join(words[i:i + 120]) for i in range(0, len(words), 120)]
    return normalize_body("\n".join(paragraphs))[:BODY_MAX].rstrip()


def memory_per_racer(body: str, racers: int, wpm: float) -> tuple[float, int, int]:
    """(bytes per racer, inputs per racer, key log bytes per racer)."""
    rng = random.Random(1)
    plans = [batches(plan_keystrokes(body, wpm, 0.95, rng)) for _ in range(racers)]
    text = Text(1, "Longest", "bench", body)
    seats = [(slot, f"p{slot}", f"Racer {slot}") for slot in range(racers)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    race = Race("r.1", text, seats, 0, 0)       # the text is shared, not counted
    race.advance(0)
    for slot, plan in enumerate(plans):
        for send_at, keys in plan:
            race.input(slot, keys, send_at)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    finished = sum(r.status == "finished" for r in race.racers.values())
    assert finished == racers, f"only {finished} of {racers} finished"
    log = race.racers[0].keylog
    log_bytes = (log.gaps.itemsize * len(log.gaps) + len(log.sizes) + len(log.keys))
    return (after - before) / racers, len(plans[0]), log_bytes


def frame_sizes(body: str) -> dict[str, int]:
    text = Text(1, "The longest passage a player may write", "bench", body)
    message = Race("r1a2b3c4d5e6f7a8b.1", text, [(0, "p0", "Ann")], 1_795_000_000_000,
                   5).countdown_message()
    return {"json": len(JSON.encode(message).encode()), "msgpack": len(MSGPACK.encode(message))}


def page_size(body: str) -> dict[str, int]:
    page = {"type": "texts", "texts": [Text(i, f"Text {i}", "bench", body + str(i)).listing()
                                       for i in range(100)], "total": 100}
    return {"json": len(JSON.encode(page).encode()), "msgpack": len(MSGPACK.encode(page))}


def per_input_us(body: str, keys: str, repeat: int = 20_000) -> float:
    """One input of `keys` (wrong, then deleted) at the end of the passage."""
    race = Race("r.1", Text(1, "T", "", body), [(0, "p0", "Ann")], 0, 0)
    race.advance(0)
    race.input(0, body[:-1], 1)
    started = time.perf_counter()
    for i in range(repeat):
        race.input(0, keys, 2 + i)
        race.input(0, "\b" * len(keys), 2 + i)
    return (time.perf_counter() - started) / (2 * repeat) * 1e6


def terminal_key_us(body: str, repeat: int = 2_000) -> float:
    model = PlayModel("Ann")
    model.on_message({"type": "joined", "slot": 0, "room": {
        "room_id": "r", "kind": "practice", "state": "racing", "players": []}}, 0)
    model.on_message({"type": "countdown", "race_id": "r.1", "start_server_ms": 0,
                      "text": {"body": body, "title": "T"}}, 0)
    model._type(body[:-200], 1)
    keys = body[-200:]
    started = time.perf_counter()
    for i in range(repeat):
        model.on_key(keys[i % 150], 2)
        render(model, 2, 100, 40)
    return (time.perf_counter() - started) / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--racers", type=int, default=50)
    parser.add_argument("--wpm", type=float, default=60.0)
    args = parser.parse_args()
    rng = random.Random(7)
    bodies = {kind: passage(kind, rng) for kind in WORDS}
    latin = bodies["latin"]
    per_racer, inputs, log_bytes = memory_per_racer(latin, args.racers, args.wpm)
    print(f"passage: {len(latin)} characters, {Text(1, '', '', latin).words} words")
    print(f"memory per racer, typed to the end at {args.wpm:g} WPM with typos "
          f"({inputs} inputs): {per_racer / 1024:.1f} KiB (key log {log_bytes / 1024:.1f} KiB)")
    for kind, body in bodies.items():
        sizes = frame_sizes(body)
        print(f"countdown frame, {kind} ({len(body)} characters): "
              f"json {sizes['json']:,} B, msgpack {sizes['msgpack']:,} B")
    sizes = page_size(latin)
    print(f"texts page of 100 longest texts: json {sizes['json']:,} B, "
          f"msgpack {sizes['msgpack']:,} B")
    print(f"server, one input at the end of the passage: "
          f"{per_input_us(latin, 'x'):.2f} µs (ASCII key), "
          f"{per_input_us(latin, 'é'):.2f} µs (key to fold)")
    print(f"terminal client, one key (model + render, 100x40): "
          f"{terminal_key_us(latin):.0f} µs")


if __name__ == "__main__":
    main()
