"""The bot: its pure typing plan, and bots racing each other on a real server."""

from __future__ import annotations

import asyncio
import random
import sys

import pytest

from client_demo.bot import BACKSPACE, batches, plan_keystrokes, run_bots
from protocol import scoring
from protocol.typing_model import TypingState

from .helpers import write_texts

PASSAGE = ("Typing races reward a steady rhythm more than bursts of speed, and careful "
           "hands beat hasty ones over any passage longer than a line or two. ") * 4


def replay(plan):
    state = TypingState(PASSAGE)
    for _, key in plan:
        state.feed(key)
    return state


def test_the_plan_types_the_passage_exactly_at_about_the_asked_speed():
    plan = plan_keystrokes(PASSAGE, 90, 1.0, random.Random(1))
    assert "".join(k for _, k in plan) == PASSAGE           # no typos at accuracy 1
    times = [t for t, _ in plan]
    assert times == sorted(times)
    assert scoring.wpm(len(PASSAGE), times[-1]) == pytest.approx(90, rel=0.1)
    intervals = {b - a for a, b in zip(times, times[1:])}
    assert len(intervals) > 20                               # jittered, not a metronome


@pytest.mark.parametrize("accuracy", [0.97, 0.9, 0.8])
def test_typos_are_corrected_and_as_frequent_as_the_accuracy_asks(accuracy):
    measured = []
    for seed in range(5):
        plan = plan_keystrokes(PASSAGE, 60, accuracy, random.Random(seed))
        state = replay(plan)
        assert state.finished and state.wrong == []          # every typo was corrected
        assert any(k == BACKSPACE for _, k in plan)
        measured.append(scoring.accuracy(state.correct_keystrokes, state.keystrokes))
    assert sum(measured) / len(measured) == pytest.approx(accuracy, abs=0.02)


def test_the_same_seed_gives_the_same_plan_and_bad_arguments_are_refused():
    assert plan_keystrokes(PASSAGE, 70, 0.95, random.Random(3)) == \
        plan_keystrokes(PASSAGE, 70, 0.95, random.Random(3))
    assert plan_keystrokes(PASSAGE, 70, 0.95, random.Random(3)) != \
        plan_keystrokes(PASSAGE, 70, 0.95, random.Random(4))
    assert plan_keystrokes("", 70, 0.95, random.Random(1)) == []
    for wpm, accuracy in [(0, 0.9), (-5, 0.9), (60, 0.2), (60, 1.5)]:
        with pytest.raises(ValueError):
            plan_keystrokes(PASSAGE, wpm, accuracy, random.Random(1))


def test_a_paragraph_break_is_typed_as_a_space_or_enter_like_people_do():
    passage = "\n".join(["A short paragraph of a longer passage."] * 20)
    plan = plan_keystrokes(passage, 90, 1.0, random.Random(4))
    keys = "".join(k for _, k in plan)
    at_breaks = {keys[i] for i, ch in enumerate(passage) if ch == "\n"}
    assert at_breaks == {" ", "\n"}
    state = TypingState(passage)
    state.feed(keys)
    assert state.finished and state.correct_keystrokes == len(passage)


def test_keys_are_batched_every_100_ms_in_order():
    plan = plan_keystrokes(PASSAGE, 120, 0.95, random.Random(2))
    sent = batches(plan, 100)
    assert "".join(keys for _, keys in sent) == "".join(k for _, k in plan)
    assert all(t % 100 == 0 for t, _ in sent)
    assert [t for t, _ in sent] == sorted({t for t, _ in sent})
    # No key is sent before the bot "typed" it, nor more than one batch later.
    i = 0
    for send_at, keys in sent:
        for _ in keys:
            assert send_at - 100 < plan[i][0] <= send_at
            i += 1


async def test_two_bots_race_each_other_to_the_finish_twice(make_server, tmp_path):
    server = await make_server(texts=write_texts(tmp_path), countdown_s=0)
    url = f"ws://127.0.0.1:{server.port}/ws"
    lines = []
    bot1, bot2 = await asyncio.wait_for(
        run_bots(url, count=2, seed=7, wpm=1500, accuracy=0.95, races=2, codec="msgpack",
                 out=lines.append), 60)
    assert len(bot1) == len(bot2) == 2
    for results in bot1 + bot2:
        ranking = results["ranking"]
        assert sorted(r["name"] for r in ranking) == ["Bot-1", "Bot-2"]
        assert all(r["status"] == "finished" for r in ranking)
    assert [r["race_id"] for r in bot1] == [r["race_id"] for r in bot2]
    assert bot1[0]["race_id"] != bot1[1]["race_id"]
    assert len(lines) == 4 and all("finished" in line for line in lines)


async def bot_command(*args):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client_demo", "bot", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_the_bot_command_races_while_a_spectator_bot_watches(make_server, tmp_path,
                                                                   connect):
    server = await make_server(texts=write_texts(tmp_path), lobby_wait_s=600, countdown_s=0)
    url = f"ws://127.0.0.1:{server.port}/ws"
    ann = await connect("Ann", target=server)
    room_id = (await ann.request({"type": "quick_race"}))["room"]["room_id"]
    watcher = await bot_command("--url", url, "--watch", room_id, "--name", "Eye")
    await ann.expect("room", timeout=30, where=lambda m: m["room"]["spectators"] == 1)
    racer = await bot_command("--url", url, "--wpm", "1500", "--name", "Zed",
                              "--codec", "msgpack", "--accuracy", "0.9")
    body = (await ann.expect("countdown", timeout=30))["text"]["body"]
    await ann.expect("room", timeout=30, where=lambda m: m["room"]["state"] == "racing")
    await ann.send({"type": "input", "keys": body})
    out, err = await asyncio.wait_for(racer.communicate(), 60)
    assert racer.returncode == 0, err.decode()
    assert out.decode().startswith("Zed: place ") and ", finished, " in out.decode()
    out, err = await asyncio.wait_for(watcher.communicate(), 60)
    assert watcher.returncode == 0, err.decode()
    line = out.decode().strip()
    assert line.startswith(f"race {room_id}.1: ")
    assert "Ann" in line and "Zed" in line and line.count("finished") == 2


async def test_the_bot_command_fails_clearly_on_bad_flags_and_no_server():
    for args, message in [(["--wpm", "0"], "--wpm: must be above 0"),
                          (["--wpm", "fast"], "--wpm: expected a number"),
                          (["--accuracy", "2"], "between 0.5 and 1"),
                          (["--room", "ABC", "--watch", "DEF"], "not allowed with"),
                          (["--url", "ws://127.0.0.1:1/ws"], "can't reach")]:
        proc = await bot_command(*args)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode != 0 and message in err.decode(), (args, err.decode())


async def test_a_bot_joins_a_private_room_by_code_and_races_when_the_host_starts(
        make_server, tmp_path, connect):
    server = await make_server(texts=write_texts(tmp_path), countdown_s=0)
    host = await connect("Host", target=server)
    code = (await host.request({"type": "create_room"}))["room"]["code"]
    bot = asyncio.create_task(run_bots(f"ws://127.0.0.1:{server.port}/ws", name="Robo",
                                       room=code.lower(), wpm=1500, out=lambda line: None))
    await host.expect("room", timeout=30, where=lambda m: len(m["room"]["players"]) == 2)
    await host.send({"type": "start"})
    body = (await host.expect("countdown", timeout=30))["text"]["body"]
    await host.expect("room", timeout=30, where=lambda m: m["room"]["state"] == "racing")
    await host.send({"type": "input", "keys": body[:3]})
    await host.expect("finish", timeout=30)              # the bot's
    await host.send({"type": "input", "keys": body[3:]})
    [[results]] = await asyncio.wait_for(bot, 60)
    ranking = results["ranking"]
    assert [(r["name"], r["status"]) for r in ranking] == [("Robo", "finished"),
                                                           ("Host", "finished")]
