"""The terminal client asks for its own race's analysis once the results are in and
shows a compact summary under them (client_demo/play_analysis.py)."""

from __future__ import annotations

from client_demo.play_analysis import sparkline
from tests.test_play_model import BODY, START, racing_model, text_of

RESULTS = {"type": "results", "race_id": "r1.1", "ranking": [
    {"slot": 0, "player_id": "p0", "name": "Ann", "place": 1, "wpm": 60.0, "accuracy": 0.95,
     "race_ms": 3000, "status": "finished"}]}
ANALYSIS = {"type": "race_analysis", "race_id": "r1.1", "slot": 0, "player_id": "p0",
            "name": "Ann", "text_id": 1, "consistency": 81.5, "correction_ms": 450,
            "seconds": [{"t": 1, "wpm": 30.0, "raw_wpm": 40.0, "errors": 1},
                        {"t": 2, "wpm": 60.0, "raw_wpm": 60.0, "errors": 0},
                        {"t": 3, "wpm": 90.0, "raw_wpm": 90.0, "errors": 1}],
            "mistakes": [{"word": "hello", "at": 0, "typed": "hwl"},
                         {"word": "again", "at": 12, "typed": "\x1b[31magx"}],
            "slowest_words": [{"word": "hello", "at": 0, "wpm": 41.2}]}


def test_the_analysis_is_asked_for_after_the_results_and_shown_under_them():
    model = racing_model()
    for key in BODY:
        model.on_key(key, START + 2_000)
    assert model.analysis_request() is None                  # no results yet
    model.on_message(RESULTS, START + 3_000)
    assert {"type": "race_analysis", "race_id": "r1.1", "slot": 0} in model.follow_ups(RESULTS)
    model.on_message(ANALYSIS, START + 3_100)
    screen = text_of(model, START + 3_100)
    assert "consistency 81.5 % · 2 wrong keys · 0.45 s lost to corrections" in screen
    assert "wpm/s ▃▆█ (peak 90)" in screen
    assert "mistyped hello (hwl), again (?[31magx)" in screen     # no escape reaches the tty
    assert "slowest  hello 41" in screen


def test_a_spectator_asks_for_no_analysis_and_another_races_is_ignored():
    model = racing_model(slot=3)
    model.on_message(RESULTS, START + 3_000)
    assert model.analysis_request() is None                  # slot 3 did not race
    assert [m["type"] for m in model.follow_ups(RESULTS)] == ["daily"]
    model.on_message({**ANALYSIS, "race_id": "r0.9"}, START + 3_100)
    assert model.analysis is None


def test_a_sparkline_spans_the_blocks():
    assert sparkline([0, 50, 100]) == "▁▅█" and sparkline([]) == ""
