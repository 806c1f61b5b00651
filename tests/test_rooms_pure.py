"""The pure parts behind private rooms and reconnection, driven with a fake clock."""

from __future__ import annotations

import itertools

import pytest

from protocol.messages import ProtocolError
from server.core.joinguard import FailedJoins
from server.core.ratelimit import address_key
from server.core.lobby import PLAYERS, SPECTATORS, Lobby, LobbyConfig
from server.core.race import Race
from server.core.texts import Text
from tests.rooms import ended, ended_event


TEXT = Text(1, "Cat", "test", "the cat sat on the mat")
OTHER = Text(2, "Dog", "test", "a dog ran in the park")


def make_lobby(**config) -> Lobby:
    ids = itertools.count(1)
    codes = itertools.count(1)
    return Lobby(LobbyConfig(**config), lambda: f"r{next(ids)}",
                 lambda: f"C{next(codes):05d}")


def error_of(call, *args) -> str:
    with pytest.raises(ProtocolError) as caught:
        call(*args)
    return caught.value.code


# ---- failed joins -------------------------------------------------------------------

def test_failed_joins_are_limited_per_connection_and_per_ip_and_refill():
    guard = FailedJoins(per_min=60, conn_burst=2, ip_burst=3)        # one a second back
    a, b = guard.conn_bucket(0.0), guard.conn_bucket(0.0)
    for _ in range(2):
        assert guard.allowed(a, "1.2.3.4", 0.0)
        guard.failed(a, "1.2.3.4", 0.0)
    assert not guard.allowed(a, "1.2.3.4", 0.0)       # this connection is out
    assert guard.allowed(b, "1.2.3.4", 0.0)           # the IP still has one
    guard.failed(b, "1.2.3.4", 0.0)
    assert not guard.allowed(b, "1.2.3.4", 0.0)       # now the IP is out too
    assert guard.allowed(guard.conn_bucket(0.0), "5.6.7.8", 0.0)
    assert guard.allowed(b, "1.2.3.4", 1.0)           # a second later, one more


def test_an_ipv6_guesser_cannot_escape_by_hopping_addresses_in_its_slash_64():
    assert address_key("2001:db8:1:2::5") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::5") != address_key("2001:db8:1:2::5")
    assert address_key("::ffff:10.1.2.3") == address_key("10.1.2.3") == "10.1.2.3"
    guard = FailedJoins(per_min=1, conn_burst=100, ip_burst=3)
    for i in range(3):
        guard.failed(guard.conn_bucket(0.0), f"2001:db8:1:2::{i + 1}", 0.0)
    assert not guard.allowed(guard.conn_bucket(0.0), "2001:db8:1:2::99", 0.0)
    assert guard.allowed(guard.conn_bucket(0.0), "2001:db8:1:3::1", 0.0)


def test_the_ip_table_stays_bounded():
    guard = FailedJoins(per_min=60, conn_burst=5, ip_burst=5, max_ips=100)
    conn = guard.conn_bucket(0.0)
    for i in range(1000):
        guard.failed(conn, f"10.0.{i // 256}.{i % 256}", float(i))
    assert len(guard.by_ip) <= 100
    assert "10.0.3.231" in guard.by_ip                 # the newest is kept


# ---- races with dropped racers -------------------------------------------------------

def test_a_race_nobody_finished_waits_for_its_dropped_racers():
    race = Race("r.1", TEXT, [(0, "p0", "Ann"), (1, "p1", "Bob")], 1000, 1)
    race.advance(1000)
    assert race.set_connected(0, False, 1100) == [] and race.state == "racing"
    race.set_connected(1, False, 1200)
    assert race.state == "racing"                       # both may come back
    race.set_connected(0, True, 1300)
    race.input(0, TEXT.body, 1400)
    assert race.state == "finished"                     # done; Bob is still away
    assert [(r["name"], r["status"]) for r in race.ranking()] == [("Ann", "finished"),
                                                                  ("Bob", "left")]


def test_finishers_on_the_same_millisecond_keep_their_finish_order():
    race = Race("r.1", TEXT, [(0, "p0", "Ann"), (1, "p1", "Bob")], 0, 0)
    race.advance(0)
    assert race.input(1, TEXT.body, 500)[0]["place"] == 1
    race.input(0, TEXT.body, 500)
    assert [r["name"] for r in race.ranking()] == ["Bob", "Ann"]


# ---- lobby ---------------------------------------------------------------------------

def test_codes_go_to_players_only_and_a_watch_code_never_seats():
    lobby = make_lobby()
    room, _ = lobby.create_room("p0", "Ann", {}, TEXT, 0)
    assert room.code != room.watch_code
    assert error_of(lobby.join_room, "p1", "Bob", room.watch_code, 0) == "room_not_found"
    lobby.watch("p1", room.watch_code, 0)
    lobby.join_room("p2", "Cid", room.code.lower(), 0)
    for _, audience, message in lobby.outbox.room_messages:
        if message["type"] == "room":
            assert ("code" in message["room"]) == (audience == PLAYERS)
    assert any(audience == SPECTATORS for _, audience, _ in lobby.outbox.room_messages)


def test_a_player_cannot_watch_the_room_it_sits_in():
    lobby = make_lobby()
    room, _ = lobby.create_room("p0", "Ann", {}, TEXT, 0)
    for code in (room.watch_code, room.code):
        assert error_of(lobby.watch, "p0", code, 0) == "already_in_room"
    # Nothing changed: Ann still sits there alone, the room and its codes live on.
    assert lobby.is_seated("p0") and lobby.room_of("p0") is room and not room.spectators
    assert lobby.has_code(room.code) and lobby.all_rooms() == [room]
    quick, _ = lobby.quick_race("p1", "Bob", TEXT, 0)
    assert error_of(lobby.watch, "p1", quick.room_id, 0) == "already_in_room"
    assert lobby.room(quick.room_id) is quick and lobby.room_of("p1") is quick
    # A player seated elsewhere may watch: it leaves its seat for the other room.
    assert lobby.watch("p1", room.watch_code, 0) is room and not lobby.is_seated("p1")


def test_a_kicked_player_cannot_watch_the_room_either():
    lobby = make_lobby()
    room, _ = lobby.create_room("p0", "Ann", {}, TEXT, 0)
    _, bob = lobby.join_room("p1", "Bob", room.code, 0)
    lobby.kick("p0", bob.slot, 0)
    for code in (room.code, room.watch_code):
        assert error_of(lobby.watch, "p1", code, 0) == "kicked"
    assert not room.spectators


def test_host_hand_over_prefers_a_connected_player_then_seating_order():
    lobby = make_lobby()
    room, ann = lobby.create_room("p0", "Ann", {}, TEXT, 0)
    lobby.join_room("p1", "Bob", room.code, 1)
    _, cid = lobby.join_room("p2", "Cid", room.code, 2)
    lobby.join_room("p3", "Dan", room.code, 3)
    lobby.disconnect("p1", 4)                           # Bob's seat is only held
    lobby.leave("p0", 5)
    assert room.host == cid.slot
    lobby.leave("p2", 6)
    assert room.seats[room.host].name == "Dan"


def test_a_seat_is_held_for_the_grace_period_then_the_player_has_left():
    lobby = make_lobby(reconnect_grace_s=10)
    room, _ = lobby.create_room("p0", "Ann", {}, TEXT, 0)
    _, bob = lobby.join_room("p1", "Bob", room.code, 0)
    lobby.disconnect("p1", 1000)
    assert room.seats[bob.slot].connected is False
    lobby.advance(10_999)
    assert lobby.reconnect("p1", 10_999) is not None    # just in time
    lobby.disconnect("p1", 20_000)
    lobby.advance(30_000)
    assert bob.slot not in room.seats and lobby.reconnect("p1", 30_001) is None


def test_an_empty_private_room_closes_after_the_idle_time_and_frees_its_codes():
    lobby = make_lobby(reconnect_grace_s=3600, idle_room_s=60)
    room, _ = lobby.create_room("p0", "Ann", {}, TEXT, 0)
    lobby.advance(120_000)
    assert room.room_id in lobby.rooms                  # Ann is connected: not idle
    lobby.disconnect("p0", 120_000)
    lobby.advance(179_999)
    assert room.room_id in lobby.rooms
    lobby.advance(180_000)
    assert lobby.counts() == (0, 0, 0) and lobby.problems() == []
    assert not (lobby.has_code(room.code, watch=True) or lobby.has_code(room.watch_code, watch=True))


def test_configure_while_waiting_and_rematch_only_after_results():
    lobby = make_lobby()
    room, _ = lobby.create_room("p0", "Ann", {"countdown_s": 0}, TEXT, 0)
    lobby.join_room("p1", "Bob", room.code, 0)
    assert error_of(lobby.configure, "p1", {"countdown_s": 3}, None, 0) == "not_host"
    assert error_of(lobby.rematch, "p0", OTHER, 0) == "race_in_progress"
    lobby.configure("p0", {"max_players": 3}, None, 0)
    lobby.start("p0", 0)
    lobby.advance(0)
    assert error_of(lobby.configure, "p0", {"countdown_s": 3}, None, 0) == "race_in_progress"
    lobby.input("p0", TEXT.body, 100)
    lobby.input("p1", TEXT.body, 200)
    assert ended(lobby) == [room.room_id]
    assert error_of(lobby.rematch, "p0", OTHER, 300) == "race_in_progress"  # not saved yet
    lobby.publish_results(ended_event(lobby, room), 300)
    seats = {s.slot: s.player_id for s in room.seats.values()}
    lobby.rematch("p0", OTHER, 400)
    assert room.state == "countdown" and room.text is OTHER
    assert {s: r.player_id for s, r in room.race.racers.items()} == seats


def test_a_race_started_while_a_seat_is_held_does_not_wait_for_it():
    lobby = make_lobby()
    room, _ = lobby.create_room("p0", "Ann", {"countdown_s": 0}, TEXT, 0)
    lobby.join_room("p1", "Bob", room.code, 0)
    lobby.disconnect("p1", 10)
    lobby.start("p0", 20)
    lobby.advance(20)
    lobby.input("p0", TEXT.body, 500)
    assert room.state == "finished" and ended(lobby) == [room.room_id]
    statuses = {r["name"]: r["status"] for r in room.race.ranking()}
    assert statuses == {"Ann": "finished", "Bob": "left"}


def test_grace_idle_and_join_limits_are_flags_wired_into_the_server(tmp_path):
    from server.net.app import TyperaceServer
    from server.config import load_config
    # (The per-connection burst is no flag: a promise to players, set here as tests do.)
    config = load_config(["--reconnect-grace-s", "7", "--idle-room-s", "9",
                          "--db", str(tmp_path / "x.db")],
                         environ={"TYPERACE_JOIN_FAIL_IP_BURST": "4"}, join_fail_burst=2)
    server = TyperaceServer(config)
    assert (server.lobby.config.reconnect_grace_s, server.lobby.config.idle_room_s) == (7, 9)
    assert (server.failed_joins.conn_burst, server.failed_joins.by_ip.burst) == (2, 4)
    assert load_config([], environ={}).reconnect_grace_s == 30


def test_a_finished_race_goes_out_to_be_saved_once_however_late_inputs_come():
    lobby = make_lobby()
    room, _ = lobby.create_room("p0", "Ann", {"countdown_s": 0}, TEXT, 0)
    lobby.join_room("p1", "Bob", room.code, 0)
    lobby.start("p0", 0)
    lobby.advance(0)
    lobby.input("p0", TEXT.body, 100)
    lobby.input("p1", TEXT.body, 200)
    assert ended(lobby) == [room.room_id]
    lobby.take_events()                  # the shell took it and saves it (app.flush)
    for player_id in ("p0", "p1", "p0"):
        assert error_of(lobby.input, player_id, "x", 250) == "not_racing"
    assert ended(lobby) == []            # not handed out again while it is being saved
