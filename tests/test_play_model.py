"""The terminal client's pure model: protocol messages and keys in, requests and a
screen out, with a fake clock (plain now_ms ints)."""

from __future__ import annotations

import pytest

from client_demo.play_model import (BACKSPACE_KEY, CODE, ENTER, ESCAPE, MENU, QUIT, ROOM,
                                    PlayModel)
from client_demo.play_view import best_line, render, wrap_points

BODY = "hello world again"
T0 = 1_000_000          # local clock at the start of each test
START = T0 + 3_000      # server clock of the race start (offset 0: welcome at T0)


def text_of(model: PlayModel, now_ms: int = T0, width: int = 80) -> str:
    return "".join(t for _, t in render(model, now_ms, width))


def styled(model: PlayModel, style: str, now_ms: int) -> str:
    return "".join(t for s, t in render(model, now_ms) if s == "class:" + style)


def room(state="waiting", kind="private", host=0, players=("Ann", "Bob"), **extra):
    view = {"room_id": "r1", "public": kind == "quick", "kind": kind, "state": state,
            "host": host, "spectators": 0, "settings": {"max_players": 5, "countdown_s": 3},
            "players": [{"slot": i, "player_id": f"p{i}", "name": n, "connected": True}
                        for i, n in enumerate(players)]}
    view.update(extra)
    return view


def racing_model(slot=0, host=0, kind="private") -> PlayModel:
    model = PlayModel("Ann")
    model.on_message({"type": "welcome", "player_id": "p0", "name": "Ann", "token": "t",
                      "server_ms": T0, "protocol": 1}, T0)
    model.on_message({"type": "joined", "slot": slot, "room": room(host=host, kind=kind,
                                                                   code="ABC234")}, T0)
    model.on_message({"type": "countdown", "race_id": "r1.1", "start_server_ms": START,
                      "seconds": 3, "text": {"text_id": 1, "title": "Greeting", "body": BODY,
                                             "words": 3, "chars": len(BODY)}}, T0)
    model.on_message({"type": "room", "room": room("countdown", host=host, kind=kind)}, T0)
    return model


def test_menu_keys_ask_for_races_or_open_code_entry():
    model = PlayModel("Ann")
    assert model.on_key("r", T0) == [{"type": "quick_race"}]
    assert model.on_key("p", T0) == [{"type": "practice"}]
    assert model.on_key("j", T0) == [] and model.mode == CODE
    for key in "ab2x":
        model.on_key(key, T0)
    model.on_key(BACKSPACE_KEY, T0)
    assert "Join code: ab2" in text_of(model)
    assert model.on_key(ENTER, T0) == [{"type": "join_room", "code": "ab2"}]
    model.on_key(ESCAPE, T0)
    assert model.mode == MENU
    model.on_key("w", T0)
    model.on_key("Q", T0)
    assert model.on_key(ENTER, T0) == [{"type": "watch", "code": "Q"}]
    model.on_key(QUIT, T0)
    assert model.quit


def test_keys_before_the_start_are_ignored_then_typing_marks_the_passage():
    model = racing_model()
    assert model.mode == ROOM and not model.can_type(START - 1)
    model.on_key("h", START - 1)
    assert model.take_input() is None
    assert "Starts in 1" in text_of(model, START - 1)

    for key in "hellp":
        model.on_key(key, START + 500)
    assert styled(model, "done", START + 500) == "hell"
    assert styled(model, "wrong", START + 500) == "o"      # the passage char, marked wrong
    assert styled(model, "caret", START + 500) == " "
    model.on_key(BACKSPACE_KEY, START + 600)
    model.on_key("o", START + 600)
    assert model.take_input() == {"type": "input", "keys": "hellp\bo"}
    assert model.take_input() is None
    # 5 correct chars in 6 s on the server's clock: (5 / 5) / 0.1 min = 10 wpm.
    assert model.live_wpm(START + 6_000) == pytest.approx(10)
    assert model.live_accuracy() == pytest.approx(5 / 6)
    assert "Go!" in text_of(model, START + 6_000)


def test_the_clock_follows_the_server_not_the_local_clock():
    model = racing_model()
    # The server's clock is 2 s ahead of ours: the race started 2 s earlier for us.
    model.on_message({"type": "pong", "server_ms": T0 + 2_000}, T0)
    assert model.server_now(T0) == T0 + 2_000
    assert model.can_type(START - 2_000)


def test_other_racers_move_with_ticks_and_our_lane_follows_our_typing():
    model = racing_model()
    for key in "hello":
        model.on_key(key, START + 100)
    model.on_message({"type": "tick", "race_ms": 1000, "p": [[0, 2, 24, 0], [1, 10, 120, 0]]},
                     START + 1000)
    assert model.lanes[1].pos == 10 and model.lanes[1].wpm == 120
    screen = text_of(model, START + 1000)
    ann, bob = [line for line in screen.splitlines() if line.startswith(("Ann ", "Bob "))]
    assert ann.count("█") == round(30 * 5 / len(BODY))          # local prediction, not 2
    assert bob.count("█") == round(30 * 10 / len(BODY)) and "120 wpm" in bob


def test_finish_results_and_rematch_for_the_host():
    model = racing_model()
    for key in BODY:
        model.on_key(key, START + 2_000)
    assert not model.can_type(START + 2_000)                  # done: further keys go nowhere
    model.on_key("x", START + 2_000)
    assert model.take_input() == {"type": "input", "keys": BODY}
    model.on_message({"type": "finish", "slot": 0, "place": 1, "wpm": 102.0, "accuracy": 1.0,
                      "race_ms": 2000}, START + 2_100)
    assert "Finished 1st! 102.0 wpm" in text_of(model, START + 2_100)
    assert model.on_key(ENTER, START + 2_200) == []            # no rematch before results
    model.on_message({"type": "results", "race_id": "r1.1", "ranking": [
        {"slot": 0, "player_id": "p0", "name": "Ann", "place": 1, "wpm": 102.0,
         "accuracy": 1.0, "race_ms": 2000, "status": "finished", "points": 3},
        {"slot": 1, "player_id": "p1", "name": "Bob", "place": 2, "wpm": 30.5,
         "accuracy": 0.9, "race_ms": 9000, "status": "dnf", "points": 0}]}, START + 9_000)
    model.on_message({"type": "room", "room": room("finished")}, START + 9_000)
    screen = text_of(model, START + 9_000)
    assert "Race over" in screen and "Results" in screen
    rows = [line.split() for line in screen.splitlines() if line.strip()[:1].isdigit()]
    assert rows == [["1", "Ann", "102.0", "100.0%", "2.00s", "3", "finished"],
                    ["2", "Bob", "30.5", "90.0%", "9.00s", "0", "dnf"]]
    assert "Enter rematch" in screen
    assert model.on_key(ENTER, START + 9_100) == [{"type": "rematch"}]
    # The rematch's countdown starts a fresh race in the same room.
    model.on_message({"type": "countdown", "race_id": "r1.2", "start_server_ms": START + 20_000,
                      "seconds": 3, "text": {"title": "Again", "body": "again and again"}},
                     START + 17_000)
    assert model.results is None and model.typing.pos == 0 and model.body == "again and again"


def test_only_the_host_of_a_private_room_starts_it():
    model = racing_model(slot=1, host=0)
    model.on_message({"type": "joined", "slot": 1, "room": room(host=0)}, T0)
    assert "Enter start" not in text_of(model)
    assert model.on_key(ENTER, T0) == []
    host = PlayModel("Ann")
    host.on_message({"type": "joined", "slot": 0, "room": room(host=0, code="ABC234",
                                                               watch_code="WAT234")}, T0)
    screen = text_of(host)
    assert "join code ABC234" in screen and "watch code WAT234" in screen
    assert "Enter start the race" in screen
    assert host.on_key(ENTER, T0) == [{"type": "start"}]
    quick = PlayModel("Ann")
    quick.on_message({"type": "joined", "slot": 0, "room": room(kind="quick", host=None)}, T0)
    assert quick.on_key(ENTER, T0) == []


def test_a_spectator_sees_lanes_but_cannot_type():
    model = PlayModel("Eve")
    model.on_message({"type": "watching", "room": room("racing")}, T0)
    model.on_message({"type": "countdown", "race_id": "r1.1", "start_server_ms": T0,
                      "seconds": 3, "text": {"title": "Greeting", "body": BODY}}, T0)
    model.on_message({"type": "tick", "race_ms": 500, "p": [[0, 3, 40, 0], [1, 6, 80, 0]]},
                     T0 + 500)
    model.on_key("h", T0 + 600)
    assert model.take_input() is None
    assert styled(model, "done", T0 + 600) == "" and styled(model, "rest", T0 + 600) == BODY
    assert "(watching)" in text_of(model, T0 + 600)
    assert {lane.name: lane.pos for lane in model.lanes.values()} == {"Ann": 3, "Bob": 6}


def test_resume_restores_our_progress_after_a_reconnect():
    model = racing_model()
    model.on_key("z", START + 10)                       # unsent: the server's state wins
    model.on_message({"type": "resume", "race_id": "r1.1", "slot": 0, "pos": 6, "wrong": "xy",
                      "status": "racing"}, START + 20)
    assert model.take_input() is None
    assert styled(model, "done", START + 20) == "hello "
    assert styled(model, "wrong", START + 20) == "wo"


def test_leaving_kicks_and_errors_come_back_to_the_menu_with_a_notice():
    model = racing_model()
    assert model.on_key(ESCAPE, START + 10) == [{"type": "leave"}]
    assert model.mode == MENU and model.typing is None
    model = racing_model()
    model.on_message({"type": "kicked", "room_id": "r1"}, T0)
    assert model.mode == MENU and "removed you" in text_of(model)
    model.on_message({"type": "error", "code": "room_not_found", "message": "no room"}, T0)
    assert "no room (room_not_found)" in text_of(model)
    model.on_message({"type": "error", "code": "not_racing", "message": "late keys"}, T0)
    assert "late keys" not in text_of(model)


def test_control_characters_from_the_server_never_reach_the_terminal():
    model = racing_model()
    model.on_message({"type": "room", "room": room("countdown", players=("\x1b[2JAnn", "Bob"))},
                     T0)
    screen = text_of(model)
    assert "\x1b" not in screen and "?[2JAnn" in screen


@pytest.mark.parametrize("width", [10, 12, 25, 80])
def test_the_passage_wraps_at_spaces_and_shows_every_character_once(width):
    body = "The quick brown fox jumps over the lazy dog. Supercalifragilisticexpialidocious!"
    lines = wrap_points(body, width)
    assert "".join(body[a:b] for a, b in lines) == body
    assert all(b - a <= width for a, b in lines)
    assert all(body[b - 1] == " " or b == len(body) or b - a == width for a, b in lines)


def long_model(body: str) -> PlayModel:
    model = PlayModel("Ann")
    model.on_message({"type": "welcome", "player_id": "p0", "name": "Ann", "token": "t",
                      "server_ms": T0, "protocol": 1}, T0)
    model.on_message({"type": "joined", "slot": 0, "room": room(kind="practice")}, T0)
    model.on_message({"type": "countdown", "race_id": "r1.1", "start_server_ms": START,
                      "seconds": 3, "text": {"text_id": 1, "title": "Long", "body": body,
                                             "words": 0, "chars": len(body)}}, T0)
    return model


def test_a_long_passage_scrolls_with_the_typing_and_keeps_the_caret_in_view():
    words = [f"word{i}" for i in range(1_500)]
    body = "\n".join(" ".join(words[i:i + 60]) for i in range(0, 1_500, 60))[:10_000]
    assert len(body) == 10_000
    model = long_model(body)
    shown_lines = [line for line in text_of(model, START, 60).split("\n") if "word" in line]
    assert len(shown_lines) == 8                         # a window, not 10,000 characters
    model.on_key("w", START + 10)
    typed = body[:7_000]
    model._type(typed[1:], START + 10)                   # most of the passage typed
    assert model.typing.pos == 7_000
    screen = render(model, START + 20, 60, height=20)
    passage = "".join(t for s, t in screen if s.startswith("class:") and s[6:] in
                      ("done", "wrong", "caret", "rest"))
    assert styled(model, "caret", START + 20) == body[7_000].replace("\n", " ")
    assert len(passage) <= 10 * 60 and body[6_990:7_010].replace("\n", " ") in passage
    assert body[:100].replace("\n", " ") not in passage  # the start scrolled away
    # One line of what was typed stays above the caret's line.
    lines = wrap_points(body, 60)
    caret_line = next(i for i, (a, b) in enumerate(lines) if a <= 7_000 < b)
    a, b = lines[caret_line - 1]
    assert passage.startswith(body[a:b].replace("\n", " "))


def test_enter_or_space_types_a_paragraph_break_shown_as_a_space_at_a_line_end():
    body = "First paragraph.\nSecond one here."
    for key in (ENTER, " "):
        model = long_model(body)
        for k in ["F", *"irst paragraph.", key, *"Second"]:
            model.on_key(k, START + 10)
        assert model.typing.pos == len("First paragraph.\nSecond") and not model.typing.wrong
    screen = text_of(model, START + 10)
    assert "First paragraph. \nSecond one here." in screen
    assert model.take_input()["keys"].startswith("First paragraph." + " " + "Second")


def test_a_smart_apostrophe_key_types_the_folded_passage():
    model = long_model("It's typed right.")
    for key in "It\u2019s":
        model.on_key(key, START + 10)
    assert model.typing.pos == 4 and not model.typing.wrong
    assert model.take_input() == {"type": "input", "keys": "It's"}


@pytest.mark.parametrize("width", [10, 25])
def test_paragraph_breaks_end_lines_and_every_character_is_shown_once(width):
    body = "One short.\nA second paragraph that wraps at spaces.\nEnd"
    lines = wrap_points(body, width)
    assert "".join(body[a:b] for a, b in lines) == body
    assert all(body.find("\n", a, b) in (-1, b - 1) for a, b in lines)


def test_once_synced_the_race_opens_at_the_start_by_the_servers_clock():
    from protocol.clocksync import ClockSync
    model = racing_model()
    assert not model.started(START - 1) and model.started(START)    # stamps: offset 0
    clock = ClockSync()
    clock.sample(T0, T0 + 150 + 400, T0 + 300)     # the server's clock is 400 ms ahead
    model.clock = clock
    assert not model.started(START - 401) and model.started(START - 400)


def test_practice_shows_no_codes_and_enter_after_results_races_again():
    model = racing_model(kind="practice")
    model.on_message({"type": "room", "room": room("countdown", kind="practice",
                                                   players=("Ann",), code="ABC234",
                                                   watch_code="WXY789")}, T0)
    screen = text_of(model, T0)
    assert "Practice" in screen
    assert "ABC234" not in screen and "WXY789" not in screen and "code" not in screen
    assert "watching" not in screen
    for key in BODY:
        model.on_key(key, START + 2_000)
    model.on_message({"type": "results", "race_id": "r1.1", "ranking": [
        {"slot": 0, "player_id": "p0", "name": "Ann", "place": 1, "wpm": 102.0,
         "accuracy": 1.0, "race_ms": 2000, "status": "finished", "new_best": ["text"],
         "previous_best_wpm": 60.5}]}, START + 2_100)
    model.on_message({"type": "room", "room": room("finished", kind="practice",
                                                   players=("Ann",), code="ABC234")}, START)
    screen = text_of(model, START + 2_200)
    assert "New personal best on this text: +41.5 WPM (was 60.5)." in screen
    assert "Enter next text" in screen and "ABC234" not in screen
    assert model.on_key(ENTER, START + 2_300) == [{"type": "practice"}]


def test_the_best_margin_rounds_as_the_web_page_does():
    # 60.25 - 60.0 is exactly 0.25: toFixed(1) says 0.3 (format() would say 0.2).
    line = best_line({"wpm": 60.25, "new_best": ["text"], "previous_best_wpm": 60.0})
    assert line == "New personal best on this text: +0.3 WPM (was 60.0)."


def test_enter_after_a_quick_race_asks_for_another():
    model = racing_model(kind="quick")
    model.on_message({"type": "results", "race_id": "r1.1", "ranking": [
        {"slot": 0, "player_id": "p0", "name": "Ann", "place": 1, "wpm": 80.0,
         "accuracy": 1.0, "race_ms": 2000, "status": "finished", "new_best": [],
         "previous_best_wpm": 90.0}]}, START + 2_100)
    model.on_message({"type": "room", "room": room("finished", kind="quick")}, START)
    screen = text_of(model, START + 2_200)
    assert "Enter race again" in screen and "personal best" not in screen
    assert model.on_key(ENTER, START + 2_300) == [{"type": "quick_race"}]


def test_the_menu_shows_the_text_of_the_day_and_d_races_it():
    model = PlayModel("Ann")
    welcome = {"type": "welcome", "player_id": "p0", "name": "Ann", "token": "t",
               "server_ms": T0, "protocol": 1}
    model.on_message(welcome, T0)
    assert model.follow_ups(welcome) == [{"type": "daily"}]      # asked at the start
    assert model.on_key("d", T0) == []                            # nothing known yet
    daily = {"type": "daily", "date": "2026-12-06", "ends_ms": T0 + 5000, "top": [],
             "you": None, "history": [],
             "text": {"text_id": 7, "title": "Fox\x1b[2J", "body": BODY}}
    model.on_message(daily, T0)
    screen = text_of(model)
    assert "d  text of the day: Fox?[2J" in screen and "(not raced yet)" in screen
    assert model.on_key("d", T0) == [{"type": "practice", "text_id": 7}]
    model.on_message({**daily, "you": {"best_wpm": 87.4, "place": 3}}, T0)
    assert "(you: 3rd, 87 WPM)" in text_of(model)
    assert model.follow_ups({"type": "results", "ranking": []}) == [{"type": "daily"}]
    assert model.follow_ups({"type": "tick"}) == []


def test_results_show_the_points_each_racer_earned():
    model = racing_model()
    model.on_message({"type": "results", "race_id": "r1.1", "ranking": [
        {"slot": 0, "name": "Ann", "place": 1, "wpm": 80.0, "accuracy": 1.0,
         "race_ms": 9000, "status": "finished", "points": 43},
        {"slot": 1, "name": "Bob", "place": 2, "wpm": 0.0, "accuracy": 1.0,
         "race_ms": 9000, "status": "left", "points": 0}]}, START + 9000)
    lines = text_of(model, START + 9000).splitlines()
    assert any(line.split()[:2] == ["1", "Ann"] and " 43  finished" in line for line in lines)
    assert "pts" in text_of(model, START + 9000)


def test_a_returning_guest_renamed_because_an_account_took_the_name_is_told_once():
    model = PlayModel("Carol")
    model.on_message({"type": "welcome", "player_id": "p0", "name": "Carol~ab12", "token": "t",
                      "server_ms": T0, "protocol": 1, "renamed_from": "Carol"}, T0)
    screen = text_of(model)
    assert "\u201cCarol\u201d belongs to an account now" in screen
    assert "race as Carol~ab12" in screen
    plain = PlayModel("Dan")
    plain.on_message({"type": "welcome", "player_id": "p1", "name": "Dan", "token": "t",
                      "server_ms": T0, "protocol": 1}, T0)
    assert "belongs to an account" not in text_of(plain)
