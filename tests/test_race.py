"""The race state machine, driven with a fake clock (plain ms integers)."""

import pytest

from protocol import scoring
from protocol.messages import BODY_MAX, ProtocolError
from server.core.race import COUNTDOWN, FINISHED, RACING, Race, time_limit_ms
from server.core.texts import Text

BODY = "the quick fox"
T0 = 1_000_000          # server ms when the race was created
START = T0 + 3000       # countdown of 3 s


def make_race(players=("Ann", "Bob"), body=BODY):
    text = Text(7, "Fox", "test", body)
    racers = [(slot, f"p{slot}", name) for slot, name in enumerate(players)]
    return Race("r1.1", text, racers, START, 3)


def test_countdown_turns_into_racing_at_start_ms():
    race = make_race()
    assert race.state == COUNTDOWN
    race.advance(START - 1)
    assert race.state == COUNTDOWN
    race.advance(START)
    assert race.state == RACING
    assert race.countdown_message()["start_server_ms"] == START
    assert race.countdown_message()["text"]["body"] == BODY


def test_input_before_the_start_is_not_racing():
    race = make_race()
    with pytest.raises(ProtocolError) as err:
        race.input(0, "t", START - 1)
    assert err.value.code == "not_racing"
    assert race.racers[0].typing.pos == 0


def test_input_at_the_start_time_is_accepted_even_before_a_tick_noticed():
    race = make_race()
    race.input(0, "the", START)
    assert race.state == RACING and race.racers[0].typing.pos == 3


def test_finish_places_and_times_are_the_servers():
    race = make_race(("Ann", "Bob", "Cy"))
    race.advance(START)
    events = race.input(1, BODY, START + 4000)
    assert events == [{"type": "finish", "slot": 1, "place": 1, "wpm": pytest.approx(39.0),
                       "accuracy": 1.0, "race_ms": 4000, "server_race_ms": 4000,
                       "lag_credit_ms": 0}]
    events = race.input(0, BODY, START + 5200)
    assert events[0]["place"] == 2 and events[0]["race_ms"] == 5200
    assert race.state == RACING          # Cy is still typing


def test_input_after_finishing_or_after_the_race_is_not_racing():
    race = make_race()
    race.advance(START)
    race.input(0, BODY, START + 1000)
    with pytest.raises(ProtocolError) as err:
        race.input(0, "x", START + 1100)
    assert err.value.code == "not_racing"
    race.input(1, BODY, START + 2000)
    assert race.state == FINISHED
    with pytest.raises(ProtocolError):
        race.input(1, "x", START + 2100)


def test_all_connected_racers_finished_ends_the_race():
    race = make_race()
    race.advance(START)
    race.input(0, BODY, START + 1000)
    race.set_connected(1, False, START + 1500)        # Bob dropped mid-race
    assert race.state == FINISHED
    ranking = race.ranking()
    assert [(r["name"], r["status"], r["place"]) for r in ranking] == [
        ("Ann", "finished", 1), ("Bob", "left", 2)]


def test_time_limit_rule():
    assert time_limit_ms(0) == 30_000
    assert time_limit_ms(100) == 30_000 + 80_000
    assert time_limit_ms(10_000) == 7_200_000         # the default cap: two hours
    assert time_limit_ms(10_000, 3_600_000) == 3_600_000   # an operator's cap


def test_a_30_wpm_typist_has_time_to_finish_the_longest_text():
    needed_ms = BODY_MAX * 60_000 // (30 * scoring.CHARS_PER_WORD)
    assert needed_ms == 4_000_000                        # 67 minutes
    assert time_limit_ms(BODY_MAX) >= needed_ms
    race = make_race()
    limit = 30_000 + 800 * len(BODY)
    assert race.limit_ms == limit
    race.advance(START)
    race.input(0, "the q", START + 1000)
    race.advance(START + limit - 1)
    assert race.state == RACING
    race.advance(START + limit + 80)                  # noticed a little late
    assert race.state == FINISHED and race.final_race_ms == limit
    ranking = race.ranking()
    assert [(r["name"], r["status"], r["pos"]) for r in ranking] == [
        ("Ann", "dnf", 5), ("Bob", "dnf", 0)]
    assert ranking[0]["race_ms"] == limit


def test_input_past_the_time_limit_ends_the_race_and_is_refused():
    race = make_race()
    race.advance(START)
    with pytest.raises(ProtocolError) as err:
        race.input(0, BODY, START + race.limit_ms)
    assert err.value.code == "not_racing"
    assert race.state == FINISHED and race.racers[0].status == "dnf"


def test_leaving_during_the_countdown_frees_the_seat():
    race = make_race()
    race.leave(1, START - 1000)
    assert list(race.racers) == [0]
    race.advance(START)
    assert race.state == RACING
    race.leave(0, START + 10)                         # nobody left: the race ends
    assert race.state == FINISHED


def test_leaving_during_the_race_is_left_and_the_others_race_on():
    race = make_race(("Ann", "Bob", "Cy"))
    race.advance(START)
    race.input(2, "the quick", START + 500)
    race.leave(2, START + 600)
    assert race.state == RACING and race.racers[2].status == "left"
    race.input(0, BODY, START + 1000)
    race.input(1, BODY, START + 2000)
    assert race.state == FINISHED
    assert [(r["name"], r["status"]) for r in race.ranking()] == [
        ("Ann", "finished"), ("Bob", "finished"), ("Cy", "left")]


def test_ticks_go_out_only_when_something_changed():
    race = make_race()
    assert race.tick(START - 10) is None              # no ticks in the countdown
    race.advance(START)
    first = race.tick(START)
    assert first == {"type": "tick", "race_ms": 0, "p": [[0, 0, 0, 0], [1, 0, 0, 0]]}
    assert race.tick(START + 100) is None             # nothing happened since
    race.input(0, "the", START + 150)
    tick = race.tick(START + 200)
    assert tick["race_ms"] == 200 and tick["p"][0][:2] == [0, 3]
    assert race.tick(START + 300) is None
    race.input(1, "x", START + 350)                   # a wrong key changes the state too
    assert race.tick(START + 400) is not None
    race.input(1, "\b", START + 450)
    race.input(1, "", START + 460)
    assert race.tick(START + 500) is not None         # the backspace
    race.input(1, "", START + 550)                    # empty input: nothing changed
    assert race.tick(START + 600) is None


def test_tick_positions_places_and_wpm():
    race = make_race()
    race.advance(START)
    race.input(0, BODY, START + 6000)                 # 13 chars in 6 s = 26 wpm
    race.input(1, "the ", START + 6000)
    tick = race.tick(START + 6000)
    assert tick["p"] == [[0, 13, 26, 0], [1, 4, 8, 0]]     # Ann's place: once saved
    race.finish_shown(0)                                 # her finish was saved and sent
    tick = race.tick(START + 6100)
    assert tick["p"] == [[0, 13, 26, 1], [1, 4, 8, 0]]


def test_racers_finishing_in_the_same_millisecond_rank_in_finish_order():
    race = make_race()
    race.advance(START)
    assert race.input(1, BODY, START + 700)[0]["place"] == 1
    assert race.input(0, BODY, START + 700)[0]["place"] == 2
    assert [(r["name"], r["place"]) for r in race.ranking()] == [("Bob", 1), ("Ann", 2)]


def test_a_racer_who_left_is_scored_up_to_the_moment_it_left():
    race = make_race(("Ann", "Bob", "Cy"))
    race.advance(START)
    race.input(2, "the q", START + 3000)
    race.leave(2, START + 6000)                        # 5 chars in 6 s = 10 wpm
    race.input(1, "the quick", START + 9000)
    race.set_connected(1, False, START + 12_000)      # 9 chars in 12 s = 9 wpm
    race.input(0, BODY, START + 30_000)                # the race ends here
    ranking = {r["name"]: r for r in race.ranking()}
    assert (ranking["Cy"]["status"], ranking["Cy"]["race_ms"]) == ("left", 6000)
    assert ranking["Cy"]["wpm"] == pytest.approx(10.0)
    assert (ranking["Bob"]["status"], ranking["Bob"]["race_ms"]) == ("left", 12_000)
    assert ranking["Bob"]["wpm"] == pytest.approx(9.0)
    assert [r["name"] for r in race.ranking()] == ["Ann", "Bob", "Cy"]


def test_a_racer_who_reconnects_races_on_and_ends_dnf_at_the_race_end():
    race = make_race(("Ann", "Bob"))
    race.advance(START)
    race.input(1, "the ", START + 1000)
    race.set_connected(1, False, START + 2000)
    race.set_connected(1, True, START + 3000)
    race.input(0, BODY, START + 6000)
    assert race.state == RACING                        # Bob is back and still typing
    race.advance(START + race.limit_ms)
    bob = [r for r in race.ranking() if r["name"] == "Bob"][0]
    assert (bob["status"], bob["race_ms"]) == ("dnf", race.limit_ms)


def test_the_race_makes_frozen_results_with_their_integrity_verdicts():
    """The core owns results: the race ranks them and judges them; a paste is flagged
    there, kept with its reason, and is neither clean nor a win."""
    body = "a passage long enough that typing it all in one input is a paste, " * 2
    race = make_race(body=body)
    race.advance(START)
    race.input(1, body, START + 20_000)               # Bob pastes the whole passage
    for i, ch in enumerate(body):                      # Ann types it, a key at a time
        race.input(0, ch, START + 21_000 + 200 * i)
    results = race.results(max_wpm=250)
    assert [(r.name, r.place) for r in results] == [("Bob", 1), ("Ann", 2)]
    bob, ann = results
    assert bob.flagged.startswith("pasted") and not bob.clean and not bob.won(2)
    assert ann.flagged is None and ann.clean and not ann.won(2)
    assert ann.log[0] == (21_000, body[0]) and ann.keystrokes == len(body)
    with pytest.raises(AttributeError):
        ann.place = 1                                   # frozen: nobody edits a result


def test_a_win_is_a_clean_first_place_against_someone():
    from server.core.results import Result
    first = Result("p", "P", 0, 1, "finished", 80.0, 1.0, 10_000, 40, 40, 40, [], None)
    assert first.won(2) and not first.won(1)
    assert not Result("p", "P", 0, 1, "finished", 80.0, 1.0, 10_000, 40, 40, 40, [],
                      "pasted").won(2)
    assert not Result("p", "P", 0, 1, "dnf", 80.0, 1.0, 10_000, 40, 40, 40, [], None).won(2)
