"""Ghosts in the pure race and lobby: a saved key log raced again, with a fake clock."""

from __future__ import annotations

import itertools

import pytest

from protocol import scoring
from server.core.keylog import KeyLog, Playback
from server.core.lobby import Lobby, LobbyConfig
from server.core.room import GhostSpec
from server.core.race import FINISHED, RACING, Race
from server.core.results import RacerFinished
from server.core.texts import Text
from tests.rooms import ended, ended_event

BODY = "the quick brown fox jumps"
TEXT = Text(7, "Fox", "test", BODY)
START = 10_000
# A saved race: typed in 5 inputs with a typo, finished at 6,000 ms.
SAVED = [(1000, "the q"), (2000, "uick x"), (2600, "\bbrown"), (4000, " fox j"),
         (6000, "umps")]


def race_with_ghost(log=SAVED, live=("Ann",)):
    racers = [(slot, f"p{slot}", name) for slot, name in enumerate(live)]
    race = Race("r1.1", TEXT, racers, START, 3)
    race.add_ghost(len(live), "pg", "Ghost", KeyLog.of(log))
    return race


def test_playback_walks_a_log_in_time_order_across_long_pauses_and_big_inputs():
    entries = [(0, "a"), (70_000, "b"), (200_000, "é" * 200), (200_000, "c")]
    playback = Playback(KeyLog.of(entries))
    seen = []
    while playback.next_ms is not None:
        due = playback.next_ms
        seen.append(playback.take())
        assert seen[-1][0] == due
    assert seen == entries


def test_a_ghost_moves_at_its_saved_moments_and_finishes_at_its_saved_time():
    race = race_with_ghost()
    race.advance(START)
    ghost = race.racers[1]
    race.advance(START + 999)
    assert ghost.typing.pos == 0
    race.advance(START + 1000)
    assert ghost.typing.pos == 5
    race.advance(START + 2100)
    assert ghost.typing.pos == 10 and ghost.typing.wrong == ["x"]   # the typo stands
    tick = race.tick(START + 2100)
    assert [1, 10, round(scoring.wpm(10, 2100)), 0] in tick["p"]
    # Noticed by a tick 70 ms late: still finished at its saved 6,000 ms.
    events = race.advance(START + 6070)
    assert events == [{"type": "finish", "slot": 1, "place": 1,
                       "wpm": round(scoring.wpm(len(BODY), 6000), 2),
                       "accuracy": round(scoring.accuracy(25, 26), 4), "race_ms": 6000,
                       "server_race_ms": 6000, "lag_credit_ms": 0}]
    assert race.state == RACING               # Ann still types


def test_a_live_racer_finishing_later_than_the_ghost_places_behind_it_even_between_ticks():
    race = race_with_ghost()
    race.advance(START)
    # No tick since the start: Ann's finishing input arrives after the ghost's saved finish.
    events = race.input(0, BODY, START + 6050)
    assert [(e["slot"], e["place"], e["race_ms"]) for e in events] == [(1, 1, 6000),
                                                                        (0, 2, 6050)]
    assert race.state == FINISHED
    # The results the room sees mark the ghost; it is never checked or saved as new
    # (Ann's paste is flagged, the ghost's finish is not).
    results = race.results(max_wpm=300)
    assert [(r.name, r.place, r.ghost) for r in results] == [("Ghost", 1, True),
                                                              ("Ann", 2, False)]
    assert results[0].flagged is None and results[1].flagged.startswith("pasted")
    assert results[0].entry()["ghost"] is True and "ghost" not in results[1].entry()


def test_the_race_waits_for_the_ghost_after_the_player_finished():
    race = race_with_ghost()
    race.advance(START)
    race.input(0, BODY, START + 3000)
    assert race.state == RACING
    race.advance(START + 5999)
    assert race.state == RACING
    events = race.advance(START + 6000)
    assert events[0]["slot"] == 1 and events[0]["place"] == 2
    assert race.state == FINISHED
    assert [r["status"] for r in race.ranking()] == ["finished", "finished"]


def test_a_ghost_does_not_hold_a_race_whose_player_left():
    race = race_with_ghost()
    race.advance(START)
    race.advance(START + 1500)
    race.leave(0, START + 1500)
    assert race.state == FINISHED
    by_name = {r["name"]: r for r in race.ranking()}
    assert by_name["Ann"]["status"] == "left"
    assert by_name["Ghost"]["status"] == "dnf" and by_name["Ghost"]["pos"] == 5


def test_a_ghost_whose_log_stops_short_types_no_more_and_holds_nobody_up():
    race = race_with_ghost(log=SAVED[:2])
    race.advance(START)
    race.advance(START + 2000)
    assert race.racers[1].status == "dnf"
    race.input(0, BODY, START + 3000)
    assert race.state == FINISHED



def make_lobby():
    ids = itertools.count(1)
    return Lobby(LobbyConfig(practice_countdown_s=3), lambda: f"r{next(ids)}",
                 lambda: f"C{next(ids)}")


def test_a_practice_with_a_ghost_seats_it_ticks_it_and_ranks_it_like_a_racer():
    lobby = make_lobby()
    ghost = GhostSpec("pg", "Fast Ghost", TEXT.text_id, KeyLog.of(SAVED))
    room, seat = lobby.practice("pa", "Ann", TEXT, 0, ghost)
    assert seat.slot == 0
    view = room.view(True)
    assert view["players"] == [
        {"slot": 0, "player_id": "pa", "name": "Ann", "connected": True, "rtt_ms": None},
        {"slot": 1, "player_id": "pg", "name": "Fast Ghost", "connected": True, "rtt_ms": None,
         "ghost": True}]
    start = room.race.start_ms
    lobby.advance(start)
    lobby.take_events()
    lobby.ticks(start + 1000)
    ticks = [m for _, _, m in lobby.outbox.room_messages if m["type"] == "tick"]
    assert ticks and [1, 5, round(scoring.wpm(5, 1000)), 0] in ticks[-1]["p"]
    lobby.input("pa", BODY, start + 4000)
    lobby.take_events()
    lobby.ticks(start + 6000)
    # A finish goes out to be saved first (a ghost's too, to keep the order); shown then.
    assert not [m for _, _, m in lobby.outbox.room_messages if m["type"] == "finish"]
    finishes = [e.message for e in lobby.outbox.saves if isinstance(e, RacerFinished)]
    assert finishes == [{"type": "finish", "slot": 1, "place": 2,
                         "wpm": pytest.approx(scoring.wpm(len(BODY), 6000), abs=0.01),
                         "accuracy": pytest.approx(25 / 26, abs=1e-4), "race_ms": 6000,
                         "server_race_ms": 6000, "lag_credit_ms": 0}]
    assert ended(lobby) == [room.room_id]


def test_a_rematch_on_another_text_drops_the_ghost():
    lobby = make_lobby()
    room, _ = lobby.practice("pa", "Ann", TEXT, 0,
                             GhostSpec("pg", "G", TEXT.text_id, KeyLog.of(SAVED)))
    start = room.race.start_ms
    lobby.advance(start)
    lobby.input("pa", BODY, start + 7000)
    lobby.publish_results(ended_event(lobby, room), start + 7000)
    other = Text(8, "Other", "test", "a different passage")
    lobby.rematch("pa", other, start + 8000)
    assert list(room.race.racers) == [0] and room.ghosts == {}
