"""Quick-race matchmaking in the pure lobby, driven with a fake clock."""

import itertools

import pytest

from protocol.messages import ProtocolError
from server.core.lobby import ALL, Lobby, LobbyConfig
from server.core.texts import Text
from tests.rooms import ended, ended_event


TEXT = Text(1, "Short", "test", "tiny text")


def make_lobby(**config):
    ids = itertools.count(1)
    codes = itertools.count(1)
    defaults = dict(max_players=3, countdown_s=5, lobby_wait_s=10, late_join_ms=2000)
    defaults.update(config)
    return Lobby(LobbyConfig(**defaults), lambda: f"r{next(ids)}", lambda: f"C{next(codes)}")


def sent(lobby, kind):
    """Messages of one type put in the outbox, then the outbox emptied."""
    found = [(room, msg) for room, _, msg in lobby.outbox.room_messages if msg["type"] == kind]
    lobby.outbox.room_messages.clear()
    return found


def test_quick_race_fills_a_room_up_to_max_players_then_opens_a_new_one():
    lobby = make_lobby(max_players=3)
    rooms = [lobby.quick_race(f"p{i}", f"P{i}", TEXT, 0)[0] for i in range(4)]
    assert rooms[0] is rooms[1] is rooms[2]
    assert rooms[3] is not rooms[0]
    assert [s.slot for s in rooms[0].seats.values()] == [0, 1, 2]
    assert rooms[0].public and rooms[0].code is None


def test_countdown_starts_once_two_are_seated():
    lobby = make_lobby()
    room, _ = lobby.quick_race("a", "Ann", TEXT, 0)
    lobby.advance(100)
    assert room.state == "waiting"
    lobby.quick_race("b", "Bob", TEXT, 200)
    lobby.outbox.room_messages.clear()
    lobby.advance(300)
    assert room.state == "countdown"
    countdowns = [m for _, m in sent(lobby, "countdown")]
    assert len(countdowns) == 1 and countdowns[0]["start_server_ms"] == 300 + 5000
    assert countdowns[0]["text"]["body"] == TEXT.body
    lobby.advance(5300)
    assert room.state == "racing"
    states = [m["room"]["state"] for _, m in sent(lobby, "room")]
    assert states == ["racing"]


def test_a_lone_player_races_after_lobby_wait():
    lobby = make_lobby(lobby_wait_s=10)
    room, _ = lobby.quick_race("a", "Ann", TEXT, 1000)
    lobby.advance(1000 + 9999)
    assert room.state == "waiting"
    lobby.advance(1000 + 10_000)
    assert room.state == "countdown"
    assert list(room.race.racers) == [0]


def test_while_draining_no_race_starts_but_a_countdown_already_on_goes_on():
    lobby = make_lobby(lobby_wait_s=10)
    lone, _ = lobby.quick_race("a", "Ann", TEXT, 0)
    pair, _ = lobby.quick_race("b", "Bob", TEXT, 0)
    assert pair is lone                         # seated together: counts down at once
    lobby.advance(0)
    assert pair.state == "countdown"
    lobby.drain()
    waiting, _ = lobby.quick_race("c", "Cid", TEXT, 3500)  # (the server refuses it sooner)
    assert waiting is not pair                  # 1.5 s before the pair's start: a new room
    lobby.outbox.room_messages.clear()
    lobby.advance(3500 + 10_000)                # the lone player's wait is over
    assert waiting.state == "waiting" and not sent(lobby, "countdown")
    assert pair.state == "racing"               # announced before the drain: it runs
    private, _ = lobby.create_room("d", "Dan", {}, TEXT, 0)
    for call, args in ((lobby.start, ("d", 0)), (lobby.practice, ("e", "Eve", TEXT, 0))):
        with pytest.raises(ProtocolError) as refused:
            call(*args)
        assert refused.value.code == "shutting_down"
    assert private.state == "waiting" and not lobby.is_seated("e")


def test_late_joiners_enter_the_countdown_until_shortly_before_the_start():
    lobby = make_lobby(max_players=5, countdown_s=5, late_join_ms=2000)
    room, _ = lobby.quick_race("a", "Ann", TEXT, 0)
    lobby.quick_race("b", "Bob", TEXT, 0)
    lobby.advance(0)                                   # start at 5000
    late, seat = lobby.quick_race("c", "Cy", TEXT, 2999)
    assert late is room and seat.slot in room.race.racers
    too_late, _ = lobby.quick_race("d", "Di", TEXT, 3000)
    assert too_late is not room
    assert "d" not in [r.player_id for r in room.race.racers.values()]


def test_a_racing_room_takes_nobody_new():
    lobby = make_lobby(max_players=5, countdown_s=1)
    room, _ = lobby.quick_race("a", "Ann", TEXT, 0)
    lobby.quick_race("b", "Bob", TEXT, 0)
    lobby.advance(0)
    lobby.advance(1000)
    assert room.state == "racing"
    assert lobby.quick_race("c", "Cy", TEXT, 1500)[0] is not room


def test_a_player_in_a_waiting_public_room_who_disconnects_is_gone():
    lobby = make_lobby()
    room, _ = lobby.quick_race("a", "Ann", TEXT, 0)
    lobby.disconnect("a", 10)
    assert room.room_id not in lobby.rooms and lobby.room_of("a") is None


def test_a_race_ended_by_its_time_limit_inside_input_is_still_published():
    lobby = make_lobby(countdown_s=1)
    room, _ = lobby.quick_race("a", "Ann", TEXT, 0)
    lobby.quick_race("b", "Bob", TEXT, 0)
    lobby.advance(0)
    lobby.advance(1000)
    late = 1000 + room.race.limit_ms + 50
    with pytest.raises(ProtocolError) as err:
        lobby.input("a", "tiny", late)               # arrives before the tick noticed
    assert err.value.code == "not_racing"
    assert ended(lobby) == [room.room_id]
    lobby.publish_results(ended_event(lobby, room), late)
    results = [m for _, m in sent(lobby, "results")]
    assert [r["status"] for r in results[0]["ranking"]] == ["dnf", "dnf"]


def test_spectators_get_not_a_player_and_outsiders_not_in_room():
    lobby = make_lobby()
    room, _ = lobby.quick_race("a", "Ann", TEXT, 0)
    lobby.watch("w", room.room_id, 0)
    for call in (lambda: lobby.input("w", "x", 0), lambda: lobby.input("nobody", "x", 0)):
        with pytest.raises(ProtocolError) as err:
            call()
        assert err.value.code in ("not_a_player", "not_in_room")
    with pytest.raises(ProtocolError) as err:
        lobby.input("w", "x", 0)
    assert err.value.code == "not_a_player"
    with pytest.raises(ProtocolError) as err:
        lobby.input("a", "t", 0)                      # seated, but the room is waiting
    assert err.value.code == "not_racing"


def test_room_messages_go_to_everyone_in_a_public_room():
    lobby = make_lobby()
    room, _ = lobby.quick_race("a", "Ann", TEXT, 0)
    lobby.watch("w", room.room_id, 0)
    audiences = {aud for r, aud, m in lobby.outbox.room_messages if m["type"] == "room"}
    assert audiences == {ALL}
    assert lobby.outbox.room_messages[-1][2]["room"]["spectators"] == 1


def test_ticks_go_out_per_racing_room_only_when_it_changed():
    lobby = make_lobby(countdown_s=1, max_players=2)
    busy, _ = lobby.quick_race("a", "Ann", TEXT, 0)
    lobby.quick_race("b", "Bob", TEXT, 0)
    quiet, _ = lobby.quick_race("c", "Cy", TEXT, 0)
    lobby.quick_race("d", "Di", TEXT, 0)
    waiting, _ = lobby.quick_race("e", "Ed", TEXT, 0)
    lobby.advance(0)
    lobby.advance(1000)
    lobby.outbox.room_messages.clear()
    lobby.ticks(1000)                                  # the start: both racing rooms
    assert {room.room_id for room, _ in sent(lobby, "tick")} == {busy.room_id, quiet.room_id}
    lobby.input("a", "ti", 1050)
    lobby.ticks(1100)
    assert [room.room_id for room, _ in sent(lobby, "tick")] == [busy.room_id]
    lobby.ticks(1200)
    assert sent(lobby, "tick") == []
    assert waiting.state == "waiting"


def test_ticks_by_phase_tick_each_racing_room_once_per_round_of_phases():
    lobby = make_lobby(countdown_s=1, max_players=2)
    rooms = []
    for i in range(3):
        room, _ = lobby.quick_race(f"a{i}", "Ann", TEXT, 0)
        lobby.quick_race(f"b{i}", "Bob", TEXT, 0)
        rooms.append(room)
    lobby.advance(0)
    lobby.advance(1000)
    lobby.outbox.room_messages.clear()
    everyone = {room.room_id for room in rooms}
    lobby.ticks(1000, 0, 2)                  # a race's first tick goes out at once
    assert {room.room_id for room, _ in sent(lobby, "tick")} == everyone
    for i in range(3):
        lobby.input(f"a{i}", "t", 1050)          # every room changed
    ticked = []
    for phase in range(2):                             # one interval cut in two slices
        lobby.ticks(1100 + phase * 50, phase, 2)
        ticked.append({room.room_id for room, _ in sent(lobby, "tick")})
    assert ticked[0] and ticked[1] and not ticked[0] & ticked[1]     # spread, no room twice
    assert ticked[0] | ticked[1] == everyone                          # none left out
