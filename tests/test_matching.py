"""Skill-matched quick races in the pure lobby, with a fake clock."""

from __future__ import annotations

import itertools

from server.core import matching
from server.core.lobby import Lobby, LobbyConfig
from server.core.texts import Text

TEXT = Text(1, "Short", "test", "tiny text")
WIDEN = 5000


def make_lobby(**config):
    ids = itertools.count(1)
    defaults = dict(max_players=5, countdown_s=5, lobby_wait_s=60, match_widen_ms=WIDEN)
    defaults.update(config)
    return Lobby(LobbyConfig(**defaults), lambda: f"r{next(ids)}", lambda: f"C{next(ids)}")


def test_players_far_apart_in_rating_get_rooms_of_their_own():
    lobby = make_lobby()
    slow, _ = lobby.quick_race("a", "Slow", TEXT, 0, rating=40.0)
    fast, _ = lobby.quick_race("b", "Fast", TEXT, 100, rating=130.0)
    near, _ = lobby.quick_race("c", "Near", TEXT, 200, rating=59.0)     # 40 x 1.5 = 60
    assert fast is not slow
    assert near is slow
    assert slow.view(False)["rating"] == 49.5 and fast.view(False)["rating"] == 130.0


def test_the_band_holds_for_every_rated_player_of_the_room():
    lobby = make_lobby()
    room, _ = lobby.quick_race("a", "A", TEXT, 0, rating=40.0)
    lobby.quick_race("b", "B", TEXT, 0, rating=60.0)
    # 70 is within 1.5 of 60 but not of 40.
    other, _ = lobby.quick_race("c", "C", TEXT, 0, rating=70.0)
    assert other is not room


def test_unrated_players_fit_anywhere_and_rooms_of_unrated_take_anyone():
    lobby = make_lobby()
    room, _ = lobby.quick_race("a", "Fast", TEXT, 0, rating=130.0)
    assert lobby.quick_race("b", "New", TEXT, 0)[0] is room
    assert room.view(False)["rating"] == 130.0        # the unrated don't count
    fresh = make_lobby()
    first, _ = fresh.quick_race("a", "New", TEXT, 0)
    assert first.view(False)["rating"] is None
    assert fresh.quick_race("b", "Slow", TEXT, 0, rating=40.0)[0] is first
    assert fresh.quick_race("c", "Fast", TEXT, 0, rating=130.0)[0] is not first


def test_the_band_widens_step_by_step_while_the_room_waits():
    lobby = make_lobby()
    room, _ = lobby.quick_race("a", "Slow", TEXT, 0, rating=40.0)
    assert matching.band(WIDEN - 1, WIDEN) == 1.5
    # After one step the band is 2.25: 85 fits, 130 (x3.25) does not yet.
    assert lobby.quick_race("b", "Fast", TEXT, WIDEN - 1, rating=85.0)[0] is not room
    assert lobby.quick_race("b", "Fast", TEXT, WIDEN, rating=130.0)[0] is not room
    assert lobby.quick_race("b", "Fast", TEXT, WIDEN, rating=85.0)[0] is room
    lobby.leave("b", WIDEN)
    # After two steps, 3.375: 130 fits.
    assert lobby.quick_race("b", "Fast", TEXT, 2 * WIDEN - 1, rating=130.0)[0] is not room
    assert lobby.quick_race("b", "Fast", TEXT, 2 * WIDEN, rating=130.0)[0] is room


def test_among_rooms_equally_full_the_closest_rating_wins_and_fuller_rooms_first():
    lobby = make_lobby()
    r60, _ = lobby.quick_race("a", "A", TEXT, 0, rating=60.0)
    r90, _ = lobby.quick_race("b", "B", TEXT, 0, rating=91.0)
    assert r60 is not r90
    assert lobby.quick_race("c", "C", TEXT, 0, rating=80.0)[0] is r90
    # r90 now has 2 players; 70 fits both rooms and goes to the fuller one.
    assert lobby.quick_race("d", "D", TEXT, 0, rating=70.0)[0] is r90


def test_a_claimed_room_that_no_longer_fits_is_passed_over():
    lobby = make_lobby()
    slow, _ = lobby.quick_race("a", "Slow", TEXT, 0, rating=40.0)
    room, _ = lobby.quick_race("b", "Fast", TEXT, 0, prefer=slow.room_id, rating=130.0)
    assert room is not slow
