"""The lobby's parts, each with its invariant: Rooms (codes name one open room; a
closed room leaves every map), Seats (one room per player, seated xor watching,
agreeing with each Room), Outbox (every item out once, in order). Pure, fake clock.

The last test drives the whole Lobby through random walks of actions as the shell
would ask them, and checks every part's invariant after each step."""

from __future__ import annotations

import itertools
import random

import pytest

from protocol.messages import ProtocolError
from server.core.lobby import Lobby, LobbyConfig
from server.core.outbox import ALL, PLAYERS, SPECTATORS, Outbox
from server.core.results import RaceEnded, RaceInfo, RacerFinished
from server.core.room import PRIVATE, QUICK
from server.core.rooms import Rooms
from server.core.seats import Seats
from server.core.texts import Text

TEXT = Text(1, "Cat", "test", "the cat sat")
SETTINGS = {"max_players": 3, "countdown_s": 1, "text_id": None}


def make_rooms(codes=None) -> Rooms:
    ids = itertools.count(1)
    codes = iter(codes) if codes is not None else (f"C{n}" for n in itertools.count(1))
    return Rooms(lambda: f"r{next(ids)}", lambda: next(codes))


# ---- Rooms --------------------------------------------------------------------------

def test_a_private_room_gets_a_join_and_a_watch_code_never_taken_and_a_quick_room_none():
    rooms = make_rooms(["A", "A", "B", "A", "B", "C", "D"])   # the generator repeats itself
    first = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    second = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    quick = rooms.open(QUICK, dict(SETTINGS), TEXT, 0)
    assert (first.code, first.watch_code, second.code, second.watch_code) == ("A", "B", "C", "D")
    assert quick.code is quick.watch_code is None
    assert [first.phase, second.phase, quick.phase] == [1, 2, 3]
    assert rooms.problems() == []


def test_codes_are_found_however_typed_and_a_room_id_watches_public_rooms_only():
    rooms = make_rooms(["AB2C", "XY3Z"])
    private = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    quick = rooms.open(QUICK, dict(SETTINGS), TEXT, 0)
    assert rooms.joinable("ab-2c ") is private and rooms.joinable("XY3Z") is None
    assert rooms.watchable("xy3z") is private and rooms.watchable("ab2c") is private
    assert rooms.watchable(quick.room_id) is quick
    assert rooms.watchable(private.room_id) is None
    assert rooms.has_code("ab2c") and not rooms.has_code("XY3Z")
    assert rooms.has_code("XY3Z", watch=True) and rooms.has_code(quick.room_id, watch=True)


def test_a_closed_room_leaves_every_map_and_closing_twice_is_harmless():
    rooms = make_rooms()
    room = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    kept = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    rooms.close(room)
    rooms.close(room)
    assert room.room_id not in rooms and rooms.get(room.room_id) is None and len(rooms) == 1
    assert rooms.all() == [kept] and rooms.ids() == [kept.room_id]
    for code in (room.code, room.watch_code):
        assert rooms.watchable(code) is None and not rooms.has_code(code, watch=True)
    assert rooms.problems() == []


def test_rooms_problems_name_a_code_left_behind_and_a_room_without_its_codes():
    """The check itself can fail."""
    rooms = make_rooms()
    room = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    other = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    del rooms.by_id[room.room_id]                # closed by hand, its codes forgotten
    del rooms._watch_codes[other.watch_code]
    assert rooms.problems() == [f"{other.room_id}'s codes don't lead to it",
                                f"code {room.code} names closed room {room.room_id}",
                                f"watch code {room.watch_code} names closed room {room.room_id}"]


# ---- Seats --------------------------------------------------------------------------

def test_seats_keep_one_room_per_player_seated_or_watching():
    rooms, seats = make_rooms(), Seats()
    a = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    b = rooms.open(QUICK, dict(SETTINGS), TEXT, 0)
    seat = seats.sit(a, "p1", "Ann", 0)
    seats.watch(b, "p2")
    assert seats.room_of("p1") is seats.seated.get("p1") is a and seats.watching.get("p1") is None
    assert seats.room_of("p2") is seats.watching.get("p2") is b and seats.seated.get("p2") is None
    assert a.seat_of("p1") is seat and "p2" in b.spectators and seats.counts() == (1, 1)
    for player_id, room in (("p1", b), ("p2", a)):
        with pytest.raises(RuntimeError):
            seats.sit(room, player_id, "X", 0)
        with pytest.raises(RuntimeError):
            seats.watch(room, player_id)
    assert seats.problems(rooms.all()) == []
    assert seats.unwatch("p2") is b and "p2" not in b.spectators and seats.unwatch("p2") is None
    assert seats.unseat("p1") == (a, seat) and not a.seats and seats.unseat("p1") is None
    assert seats.counts() == (0, 0) and seats.problems(rooms.all()) == []


def test_emptying_a_room_removes_its_members_only_spectators_first():
    rooms, seats = make_rooms(), Seats()
    room = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    other = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    seats.sit(room, "p1", "Ann", 0)
    seats.sit(room, "p2", "Bob", 0)
    seats.watch(room, "w1")
    seats.sit(other, "p3", "Cid", 0)
    assert seats.empty(room) == ["w1", "p1", "p2"]
    assert not (room.seats or room.by_player or room.spectators)
    rooms.close(room)
    assert seats.seated_players() == [("p3", other)] and seats.problems(rooms.all()) == []


def test_forgetting_a_room_drops_every_entry_naming_it():
    rooms, seats = make_rooms(), Seats()
    room = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    seats.sit(room, "p1", "Ann", 0)
    seats.watch(room, "w1")
    rooms.close(room)
    assert seats.problems(rooms.all()) == [
        "p1 seated in closed room r1", "w1 watches closed room r1",
        "rooms hold 0 players and 0 spectators, the index (1, 1)"]
    seats.forget(room)
    assert seats.room_of("p1") is seats.room_of("w1") is None
    assert seats.problems(rooms.all()) == []


def test_seats_problems_name_members_the_index_does_not_know():
    """The check itself can fail: a Room changed behind the index's back."""
    rooms, seats = make_rooms(), Seats()
    room = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    seats.sit(room, "p1", "Ann", 0)
    room.spectators.add("w1")
    room.seat("p2", "Bob", 0)
    assert seats.problems(rooms.all()) == [
        "p2 sits in r1, the index says otherwise", "w1 watches r1, the index says otherwise",
        "rooms hold 2 players and 1 spectators, the index (1, 0)"]
    del room.by_player["p2"]
    assert f"{room.room_id}: seats and by_player differ" in seats.problems(rooms.all())


# ---- Outbox -------------------------------------------------------------------------

def info(room_id: str) -> RaceInfo:
    return RaceInfo(f"{room_id}.1", room_id, QUICK, 1, 0, ())


def test_the_outbox_hands_out_every_item_once_each_stream_in_order():
    rooms, outbox = make_rooms(), Outbox()
    room = rooms.open(QUICK, dict(SETTINGS), TEXT, 0)
    assert outbox.take() == ([], [], [])
    outbox.to_room(room, ALL, {"n": 1})
    outbox.to_player("p1", {"n": 2})
    outbox.broadcast(room, [{"n": 3}, {"n": 4}])
    ended = RaceEnded(info(room.room_id), 10, 10, ())
    outbox.to_save(ended)
    outbox.to_player("p2", {"n": 5})
    assert outbox.take() == ([(room, ALL, {"n": 1}), (room, ALL, {"n": 3}), (room, ALL, {"n": 4})],
                             [("p1", {"n": 2}), ("p2", {"n": 5})], [ended])
    assert outbox.take() == ([], [], [])


def test_a_room_update_shows_codes_to_players_only_and_reaches_spectators_when_there_are_some():
    rooms, seats, outbox = make_rooms(), Seats(), Outbox()
    private = rooms.open(PRIVATE, dict(SETTINGS), TEXT, 0)
    quick = rooms.open(QUICK, dict(SETTINGS), TEXT, 0)
    outbox.announce(private)
    outbox.announce(quick)
    seats.watch(private, "w1")
    outbox.announce(private)
    sent = [(room, audience, "code" in m["room"]) for room, audience, m in outbox.take()[0]]
    assert sent == [(private, PLAYERS, True), (quick, ALL, False),
                    (private, PLAYERS, True), (private, SPECTATORS, False)]


def test_dropping_a_rooms_saves_keeps_every_other_rooms_in_order():
    outbox = Outbox()
    events = [RaceEnded(info(room_id), 0, 0, ()) for room_id in ("r1", "r2", "r1", "r3")]
    for event in events:
        outbox.to_save(event)
    outbox.drop_saves("r1")
    assert outbox.take()[2] == [events[1], events[3]]


# ---- the whole lobby, any sequence of actions ---------------------------------------

PLAYER_IDS = [f"p{n}" for n in range(5)]
# How often each action comes: what a race needs to get to its end (inputs, the clock,
# the saver publishing) often, what ends rooms by force rarely, so walks reach results,
# rematches, kicks and rooms closing on their own.
ACTIONS = {"quick_race": 4, "create_room": 2, "join_room": 4, "watch": 2, "watch_id": 1,
           "leave": 2, "disconnect": 2, "reconnect": 2, "kick": 1, "start": 3, "rematch": 2,
           "input": 16, "advance": 8, "ticks": 3, "publish": 4, "abort": 0.3, "drop": 0.2}


def make_lobby() -> Lobby:
    ids, codes = itertools.count(1), itertools.count(1)
    return Lobby(LobbyConfig(max_players=3, countdown_s=1, lobby_wait_s=2,
                             reconnect_grace_s=3, late_join_ms=500, practice_countdown_s=1,
                             idle_room_s=5, finished_room_s=4),
                 lambda: f"r{next(ids)}", lambda: f"C{next(codes)}")


def act(lobby: Lobby, name: str, player_id: str, pick: int, now: int, held: list) -> None:
    """One action as a client or the ticker would ask it; refusals are part of the game."""
    rooms = lobby.all_rooms()
    room = rooms[pick % len(rooms)] if rooms else None
    if pick < 7:        # mostly, a player who may do it (else, a refusal)
        player_id = able(lobby, name, pick) or player_id
    code = (room.code or room.room_id) if room else "NONE"
    calls = {
        "quick_race": lambda: lobby.quick_race(player_id, player_id, TEXT, now),
        "create_room": lambda: lobby.create_room(player_id, player_id, {}, TEXT, now),
        "join_room": lambda: lobby.join_room(player_id, player_id, code, now),
        "watch": lambda: lobby.watch(player_id, (room.watch_code or code) if room else code, now),
        "watch_id": lambda: lobby.watch(player_id, room.room_id if room else code, now),
        "leave": lambda: lobby.leave(player_id, now),
        "disconnect": lambda: lobby.disconnect(player_id, now),
        "reconnect": lambda: lobby.reconnect(player_id, now),
        "kick": lambda: lobby.kick(player_id, pick % 3, now),
        "start": lambda: lobby.start(player_id, now),
        "rematch": lambda: lobby.rematch(player_id, TEXT, now),
        "input": lambda: lobby.input(player_id, next_keys(lobby, player_id, 1 + pick), now),
        "advance": lambda: lobby.advance(now),
        "ticks": lambda: lobby.ticks(now, pick % 2, 2),
        "publish": lambda: publish(lobby, held, now),
        "abort": lambda: room and lobby.abort(room),
        "drop": lambda: room and lobby.drop(room.room_id),
    }
    try:
        calls[name]()
    except ProtocolError:
        pass
    held.extend(lobby.take_events()[2])      # saved later, at a "publish", as the saver would


def able(lobby: Lobby, name: str, pick: int) -> str | None:
    """A player who may do `name` now (a racer types, a host starts), if any."""
    if name == "input":
        found = [p for p, room in lobby.seated_players() if room.state == "racing"]
    elif name in ("start", "rematch", "kick"):
        found = [p for p, room in lobby.seated_players() if room.host == room.seat_of(p).slot]
    else:
        return None
    return found[pick % len(found)] if found else None


def next_keys(lobby: Lobby, player_id: str, count: int) -> str:
    """The next `count` characters of the text for a racer, else some text."""
    room = lobby.room_of(player_id)
    seat = room.seat_of(player_id) if room else None
    racer = room.race.racers.get(seat.slot) if seat and room.race else None
    pos = racer.typing.pos if racer else 0
    return TEXT.body[pos:pos + count] or "x"


def publish(lobby: Lobby, held: list, now: int) -> None:
    for event in held:
        if isinstance(event, RacerFinished):
            lobby.publish_finish(event)
        else:
            lobby.publish_results(event, now)
    held.clear()


@pytest.mark.parametrize("seed", range(30))
def test_every_part_keeps_its_invariant_whatever_the_players_do(seed):
    """A random walk of 300 actions (seeded: a failure names its seed and step)."""
    rng = random.Random(seed)
    lobby, held, now = make_lobby(), [], 0
    names, weights = list(ACTIONS), list(ACTIONS.values())
    for step in range(300):
        name, player_id = rng.choices(names, weights)[0], rng.choice(PLAYER_IDS)
        now += rng.randrange(5) * 200
        act(lobby, name, player_id, rng.randrange(10), now, held)
        assert lobby.problems() == [], (seed, step, name, player_id)
        _, seated, _ = lobby.counts()
        assert seated == len(lobby.seated_players())
        for player_id in PLAYER_IDS:
            room = lobby.room_of(player_id)
            assert room is None or lobby.room(room.room_id) is room
