"""The lag credit, pure (server/core/race.py) and the rule that picks the measure
(server/net/lag.py): what a racer's measured delay earns, and what it cannot."""

from __future__ import annotations

import socket

import pytest

from protocol import scoring
from server.core.race import RACING, Race, lag_credit_ms
from server.core.texts import Text
from server.config import load_config
from server.net.lag import PROBES_PER_RACE, PROXY_HOP_MS, Delay, Schedule, kernel_rtt_ms

BODY = "the quick fox"
START = 1_700_000_003_000


def make_race(cap_ms: int = 250) -> Race:
    text = Text(1, "T", "src", BODY)
    return Race("r1.1", text, [(0, "pa", "Ann"), (1, "pb", "Bob")], START, 3, lag_cap_ms=cap_ms)


def test_a_finisher_is_credited_half_its_smallest_round_trip():
    race = make_race()
    race.measured(1, 320)                  # in the countdown
    race.advance(START)
    race.measured(1, 300)
    race.measured(1, 900)                  # a stall later on earns nothing
    [finish, *_] = race.input(1, BODY, START + 4150)
    assert (finish["server_race_ms"], finish["lag_credit_ms"], finish["race_ms"]) == (
        4150, 150, 4000)
    assert finish["wpm"] == round(scoring.wpm(len(BODY), 4000), 2)


def test_the_credit_is_capped_and_never_reaches_zero_time():
    assert lag_credit_ms(1500, 10_000, 250) == 250
    assert lag_credit_ms(None, 10_000, 250) == 0
    assert lag_credit_ms(300, 100, 250) == 99
    assert lag_credit_ms(300, 10_000, 0) == 0


def test_ranking_points_and_wpm_follow_the_credited_time():
    race = make_race()
    race.advance(START)
    race.measured(0, 400)                  # Ann is 400 ms of round trip away
    race.input(0, BODY, START + 4000)      # Ann's keys arrive first: 3800 credited
    race.input(1, BODY, START + 4100)
    first, second = race.results(max_wpm=300)
    assert (first.player_id, first.race_ms, first.server_race_ms, first.place) == (
        "pa", 3800, 4000, 1)
    assert first.entry()["lag_credit_ms"] == 200
    assert first.wpm == round(scoring.wpm(len(BODY), 3800), 2)
    # The key log keeps the server's times (what the integrity rules read).
    assert first.log[-1][0] == 4000


def test_a_later_arrival_is_credited_at_most_level_with_an_earlier_finisher():
    """A finish is saved and shown as final with its place: a racer whose keys arrive
    after another's finish can be credited up to a tie, never past it."""
    race = make_race()
    race.advance(START)
    race.measured(1, 400)                  # Bob is 400 ms of round trip away
    race.input(0, BODY, START + 4000)      # Ann finishes first, at 4000
    [bob_finish, *_] = race.input(1, BODY, START + 4100)    # 200 ms of credit would be 3900
    assert (bob_finish["race_ms"], bob_finish["lag_credit_ms"], bob_finish["place"]) == (
        4000, 100, 2)
    ann, bob = race.results(max_wpm=300)
    assert (ann.player_id, ann.place, bob.player_id, bob.place) == ("pa", 1, "pb", 2)
    assert ann.race_ms == bob.race_ms == 4000


def test_measures_after_finishing_or_of_a_ghost_change_nothing():
    race = make_race()
    race.advance(START)
    race.input(0, BODY, START + 3000)
    race.measured(0, 10)
    race.measured(7, 10)                   # no such slot
    assert race.racers[0].min_rtt_ms is None


def test_the_kernels_round_trip_counts_on_a_direct_path_and_the_pongs_behind_a_proxy():
    direct = Delay()
    direct.kernel_ms, direct.ping_ms = 80.0, 600.0      # pongs held back: ignored
    assert direct.rtt_ms() == 80.0 and not direct.wants_ping
    proxied = Delay()
    proxied.kernel_ms, proxied.ping_ms = 0.05, 300.0    # the kernel sees only the proxy
    assert proxied.rtt_ms() == 300.0 and proxied.wants_ping
    unknown = Delay()
    assert unknown.rtt_ms() is None and unknown.wants_ping
    unknown.kernel_ms = PROXY_HOP_MS
    assert unknown.rtt_ms() == PROXY_HOP_MS


def test_tcp_info_is_read_from_a_real_connection():
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server_side, _ = listener.accept()
    try:
        client.sendall(b"x" * 1000)
        server_side.recv(1000)
        server_side.sendall(b"y" * 1000)       # acknowledged: the kernel has a round trip
        client.recv(1000)
        measured = kernel_rtt_ms(server_side)
        assert measured is not None
        rtt, min_rtt = measured
        assert 0 < min_rtt <= rtt < 1000       # loopback: microseconds, not garbage
    finally:
        for s in (client, server_side, listener):
            s.close()
    assert kernel_rtt_ms(None) is None
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert kernel_rtt_ms(udp) is None
    finally:
        udp.close()


def test_a_seated_player_is_measured_a_few_times_a_race_and_again_in_the_next():
    """The schedule the owner of a room keeps for each racer, local or connected to
    another process (whose edge it asks)."""
    schedule = Schedule()
    assert [schedule.due(None) for _ in range(PROBES_PER_RACE + 2)] == \
        [True] * PROBES_PER_RACE + [False, False]           # waiting for a race
    assert [schedule.due("r1.1") for _ in range(PROBES_PER_RACE + 1)] == \
        [True] * PROBES_PER_RACE + [False]
    assert schedule.due("r1.2")                                # the next race


def test_measuring_is_off_only_by_the_internal_switch():
    assert load_config([], environ={}).measure_delay
    with pytest.raises(SystemExit):
        load_config(["--measure-delay", "0"], environ={})      # never a flag


async def test_a_server_with_measuring_off_runs_no_probe(make_server):
    on, off = await make_server(), await make_server(measure_delay=False)
    assert on.lag._task is not None and off.lag._task is None
