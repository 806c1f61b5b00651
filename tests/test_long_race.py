"""A long passage is raced to its end: the time limit lets a 30 WPM typist finish the
longest text, and no other timer of the lobby (practice countdown, reconnection grace,
idle rooms) ends the race early. Pure lobby, fake clock stepped a second at a time."""

from __future__ import annotations

import itertools

from protocol.messages import BODY_MAX
from server.core.lobby import Lobby, LobbyConfig
from server.core.texts import Text, normalize_body

PARAGRAPH = ("Players bring book chapters, lecture notes and articles to practise on, "
             "and a long passage takes a patient typist the better part of an hour. ")
LONGEST = Text(1, "Longest", "test", normalize_body(
    "\n".join([PARAGRAPH * 3] * 40))[:BODY_MAX].rstrip())
WPM_30_CHARS_PER_S = 30 * 5 / 60          # 2.5 characters a second
T0 = 1_000_000


def make_lobby(**config) -> Lobby:
    ids, codes = itertools.count(1), itertools.count(1)
    return Lobby(LobbyConfig(**config), lambda: f"r{next(ids)}", lambda: f"C{next(codes)}")


def type_at_30_wpm(lobby: Lobby, room, typists: dict[str, int], now: int,
                   events=None) -> int:
    """Each player in `typists` (player_id -> chars typed) types its next characters
    every second; `events` maps a second of the race to a callable run then. Returns
    the time the race ended at."""
    body = room.text.body
    second = 0
    while room.state != "finished":
        second += 1
        now += 1000
        if events and second in events:
            events[second](now)
        lobby.advance(now)
        if room.state == "finished":
            break
        for player_id, done in typists.items():
            seat = room.seat_of(player_id)
            if seat is None or not seat.connected or done >= len(body):
                continue
            upto = min(len(body), int(second * WPM_30_CHARS_PER_S))
            if upto > done:
                lobby.input(player_id, body[done:upto], now)
                typists[player_id] = upto
        lobby.ticks(now)
        lobby.take_events()
        assert second < 3 * 3600, "the race never ended"
    return now


def test_the_longest_text_is_practised_to_the_end_at_30_wpm():
    assert len(LONGEST.body) == BODY_MAX and "\n" in LONGEST.body
    lobby = make_lobby()                      # the defaults the server starts with
    room, seat = lobby.practice("p1", "Ann", LONGEST, T0)
    race = room.race
    ended = type_at_30_wpm(lobby, room, {"p1": 0}, race.start_ms)
    racer = race.racers[seat.slot]
    assert racer.status == "finished" and racer.typing.finished
    assert 3_990_000 <= racer.finish_ms <= 4_010_000       # 67 minutes of typing
    assert ended - race.start_ms < race.limit_ms


def test_a_private_race_outlasts_grace_and_idle_timers_while_racers_type():
    lobby = make_lobby(reconnect_grace_s=30, idle_room_s=60)
    room, _ = lobby.create_room("p1", "Ann", {}, LONGEST, T0)
    lobby.join_room("p2", "Bob", room.code, T0)
    lobby.start("p1", T0)
    race = room.race
    # Bob's connection drops for 20 s (within the grace) twenty minutes in, and again
    # for good an hour in: the race goes on for Ann, whatever happens to Bob.
    events = {
        1200: lambda now: lobby.disconnect("p2", now),
        1220: lambda now: lobby.reconnect("p2", now),
        3600: lambda now: lobby.disconnect("p2", now),
    }
    type_at_30_wpm(lobby, room, {"p1": 0, "p2": 0}, race.start_ms, events)
    assert race.racers[0].status == "finished"
    assert race.racers[0].finish_ms >= 3_990_000
    assert race.racers[1].status == "left" and race.racers[1].gone_ms == 3_600_000


def test_an_operator_cap_shorter_than_the_typing_ends_the_race_at_the_cap():
    lobby = make_lobby(max_race_s=600)
    room, seat = lobby.practice("p1", "Ann", LONGEST, T0)
    race = room.race
    ended = type_at_30_wpm(lobby, room, {"p1": 0}, race.start_ms)
    assert race.limit_ms == 600_000 and ended - race.start_ms == 600_000
    assert race.racers[seat.slot].status == "dnf"
