"""Replaying keystroke logs, and which logs are flagged as implausible (pure, fake times)."""

from __future__ import annotations

from server.core import integrity
from server.core.integrity import BURST_CHARS, PASTE_CHARS, SUSTAIN_MS
from server.core.race import Race
from server.core.replay import progress, replay
from server.core.texts import Text

BODY = ("The quick brown fox jumps over the lazy dog while the farmer watches from "
        "the porch and wonders how long the dog will let it happen before it wakes. ") * 6


def typed(text: str, cps: float, chunk: int = 2, start_ms: int = 0):
    """A log of `text` typed at `cps` characters a second in batches of `chunk`."""
    return [(start_ms + int((i + chunk) * 1000 / cps), text[i:i + chunk])
            for i in range(0, len(text), chunk)]


def test_replaying_a_race_log_reproduces_the_racer_exactly():
    text = Text(1, "t", "s", "Typing is fun when nobody is watching.")
    race = Race("r.1", text, [(0, "p1", "Ann")], start_ms=1000, countdown_s=0)
    race.advance(1000)
    now = 1000
    for keys in ["Typ", "ung\b\b\b", "\bping", " is", "x", "yz\b\b\b", " fun when",
                 " nobody is watching.extra keys after the end"]:
        now += 150
        race.input(0, keys, now)
    racer = race.racers[0]
    again = replay(text.body, racer.log)
    assert again.finished and racer.typing.finished
    assert (again.pos, again.wrong, again.keystrokes, again.correct_keystrokes) == (
        racer.typing.pos, racer.typing.wrong, racer.typing.keystrokes,
        racer.typing.correct_keystrokes)
    assert (again.keystrokes, again.correct_keystrokes) == (45, 39)
    # The log holds server times and only the keys that were applied.
    assert [t for t, _ in racer.log] == [150 * i for i in range(1, 9)]
    assert racer.log[-1][1] == " nobody is watching."
    steps = progress(text.body, racer.log)
    assert steps[0] == (150, 0, 3) and steps[1] == (300, 3, 3) and steps[2] == (450, 3, 6)
    assert steps[-1][2] == len(text.body)


def test_a_fast_honest_typist_is_not_flagged():
    # 20 characters a second is 240 WPM, for the whole 900-character race.
    log = typed(BODY, cps=20)
    assert integrity.check(BODY, log, result_wpm=240, max_wpm=300) is None


def test_an_honest_typist_whose_network_stalled_is_not_flagged():
    # 100 WPM, but 2.5 s of input arrives at once after a stall (25 messages).
    log = typed(BODY[:300], cps=100 * 5 / 60)
    stalled = [(max(t, 10_000) if 7_500 <= t <= 10_000 else t, keys) for t, keys in log]
    assert stalled[-1][0] > 30_000
    assert integrity.check(BODY, stalled, result_wpm=100, max_wpm=300) is None


def test_one_input_carrying_a_paste_is_flagged():
    log = typed(BODY[:40], cps=6) + [(8000, BODY[40:40 + PASTE_CHARS + 1])]
    reason = integrity.check(BODY, log, result_wpm=60, max_wpm=300)
    assert reason == f"pasted: {PASTE_CHARS + 1} characters arrived in one input"
    # One character less is a fast word, not a paste.
    log = typed(BODY[:40], cps=6) + [(8000, BODY[40:40 + PASTE_CHARS])]
    assert integrity.check(BODY, log, result_wpm=60, max_wpm=300) is None


def test_wrong_characters_never_count_as_a_paste():
    log = [(500, "x" * 200)]
    assert integrity.check(BODY, log, result_wpm=0, max_wpm=300) is None


def test_a_paste_cut_into_small_inputs_is_flagged():
    log = typed(BODY[:50], cps=5)                       # 10 s of honest typing
    chunks = typed(BODY[50:50 + BURST_CHARS + 10], cps=1000, chunk=10, start_ms=12_000)
    reason = integrity.check(BODY, log + chunks, result_wpm=80, max_wpm=300)
    assert reason.startswith(f"pasted: {BURST_CHARS + 10} characters within 0.1 s")


def test_a_sustained_speed_above_the_cap_is_flagged_even_when_the_average_is_low():
    # 60 WPM for a minute, then 400 WPM (33 chars/s) for 12 s: the race average stays
    # under the cap, the last 10 seconds do not.
    slow = typed(BODY[:300], cps=5)
    fast = typed(BODY[300:700], cps=400 * 5 / 60, start_ms=slow[-1][0])
    reason = integrity.check(BODY, slow + fast, result_wpm=150, max_wpm=300)
    assert reason.startswith("too fast: ") and "sustained over 10 s" in reason
    assert integrity.check(BODY, slow + fast, result_wpm=150, max_wpm=450) is None


def test_a_short_race_above_the_cap_is_flagged_by_its_own_speed():
    log = typed(BODY[:60], cps=35)                      # under 2 s: no 10 s window
    assert log[-1][0] < SUSTAIN_MS
    reason = integrity.check(BODY, log, result_wpm=420, max_wpm=300)
    assert reason == "too fast: 420 WPM over the race (the limit is 300)"
    assert integrity.check(BODY, log, result_wpm=420, max_wpm=500) is None


def test_a_finish_sooner_than_max_wpm_allows_is_flagged_whatever_the_clock_says():
    # 66 characters in three inputs of 22 (none a paste, no burst over 100) that all
    # arrive at the start instant: race_ms 0. At 300 WPM they take 2.64 s.
    body = BODY[:66]
    assert integrity.fastest_ms(len(body), 300) == 2640
    log = [(0, body[:22]), (0, body[22:44]), (0, body[44:])]
    reason = integrity.check(body, log, result_wpm=0, max_wpm=300)
    assert reason == "too fast: 66 characters finished at 0 ms; at 300 WPM they take 2.6 s"
    # The same inputs a little later than the cap allows are clean.
    late = [(2700, body[:22]), (2700, body[22:44]), (2700, body[44:])]
    assert integrity.check(body, late, result_wpm=293, max_wpm=300) is None


def test_a_finish_at_race_ms_0_scores_as_the_fastest_and_is_flagged_not_a_clean_win():
    text = Text(1, "t", "s", BODY[:66])
    race = Race("r.1", text, [(0, "p1", "Cheat"), (1, "p2", "Honest")], start_ms=1000,
                countdown_s=0)
    race.advance(1000)
    for i in range(0, 66, 22):                    # one TCP write at the start instant
        events = race.input(0, text.body[i:i + 22], 1000)
    assert events[0]["type"] == "finish" and events[0]["race_ms"] == 0
    assert events[0]["wpm"] == 792_000.0          # was 0
    race.input(1, text.body, 22_000)              # 36 WPM
    first = race.ranking()[0]
    assert (first["name"], first["race_ms"], first["wpm"]) == ("Cheat", 0, 792_000.0)
    reason = integrity.check(text.body, race.racers[0].log, first["wpm"], max_wpm=300)
    assert reason == "too fast: 792000 WPM over the race (the limit is 300)"
