"""The one scoring module, checked against vectors computed by hand."""

import pytest

from protocol import scoring
from protocol.scoring import accuracy, rank, wpm


@pytest.mark.parametrize("chars, ms, expected", [
    (300, 60_000, 60.0),        # 60 words in a minute
    (250, 30_000, 100.0),       # 50 words in half a minute
    (5, 1_000, 60.0),           # one word a second
    (123, 45_000, 32.8),        # 24.6 words / 0.75 min
    (100, 0, 1_200_000.0),      # under a millisecond counts as one: not 0 WPM
    (66, 0, 792_000.0),         # a 66-character passage finished at the start instant
    (0, 10_000, 0.0),
    (0, 0, 0.0),                # nothing typed
    (100, -5, 1_200_000.0),
])
def test_wpm(chars, ms, expected):
    assert wpm(chars, ms) == pytest.approx(expected)


@pytest.mark.parametrize("correct, total, expected", [
    (97, 100, 0.97),
    (10, 10, 1.0),
    (0, 4, 0.0),
    (2, 3, 2 / 3),
    (0, 0, 1.0),                # nothing typed: no mistakes either
])
def test_accuracy(correct, total, expected):
    assert accuracy(correct, total) == pytest.approx(expected)
    assert 0.0 <= accuracy(correct, total) <= 1.0


def entry(name, status, pos, race_ms=0):
    return {"name": name, "status": status, "pos": pos, "race_ms": race_ms}


def test_finishers_rank_by_time_then_others_by_position_larger_first():
    ranked = rank([
        entry("slow-finisher", "finished", 100, 50_000),
        entry("far-dnf", "dnf", 90, 60_000),
        entry("near-dnf", "dnf", 10, 60_000),
        entry("fast-finisher", "finished", 100, 40_000),
        entry("left-far", "left", 95, 60_000),
    ])
    assert [e["name"] for e in ranked] == [
        "fast-finisher", "slow-finisher", "left-far", "far-dnf", "near-dnf"]
    assert [e["place"] for e in ranked] == [1, 2, 3, 4, 5]


def test_at_equal_position_a_racer_still_present_ranks_above_one_who_left():
    ranked = rank([entry("gone", "left", 40), entry("stayed", "dnf", 40)])
    assert [e["name"] for e in ranked] == ["stayed", "gone"]


def test_empty_ranking():
    assert rank([]) == []


def test_finishers_with_equal_times_keep_the_order_they_finished_in():
    second = dict(entry("second", "finished", 10, 500), place=2)
    first = dict(entry("first", "finished", 10, 500), place=1)
    assert [e["name"] for e in rank([second, first])] == ["first", "second"]


def test_points_are_words_times_wpm_over_60_times_accuracy_rounded_half_up():
    # A 60-word passage (300 characters) at 60 WPM, all correct: 60 points.
    assert scoring.points(300, 60.0, 1.0) == 60
    # Twice as long, or twice as fast: twice the points; a sloppy race earns less.
    assert scoring.points(600, 60.0, 1.0) == scoring.points(300, 120.0, 1.0) == 120
    assert scoring.points(300, 60.0, 0.9) == 54
    assert scoring.points(15, 60.0, 0.5) == 2          # 1.5 rounds up, as in JS
    assert scoring.points(5, 60.0, 0.5) == 1           # 0.5 too (round() would give 0)
    assert scoring.points(0, 90.0, 1.0) == scoring.points(100, 0.0, 1.0) == 0
