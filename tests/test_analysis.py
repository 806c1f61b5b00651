"""One race analysed from its key log (server/core/analysis.py): a hand-worked log gives
a known per-second series, known mistyped and slowest words, consistency and time lost
to corrections."""

from __future__ import annotations

import math

from server.core.analysis import analyse, consistency

BODY = "the cat sat"
# (race_ms, keys) as the server logs them; worked by hand below.
LOG = [(500, "t"), (1000, "h"),
       (1200, "r"), (1400, "\b"),            # "thr": a wrong key, deleted 200 ms later
       (1600, "e"), (1800, " "),             # "the " done: 3 characters in 1300 ms
       (2100, "c"), (2300, "a"), (2500, "t"), (2700, " "),    # "cat ": 4 in 900 ms
       (3000, "s"), (3100, "q"), (3150, "t"),                 # "sqt": two wrong keys
       (3300, "\b\b"), (3500, "at")]                          # "sat": 3 in 800 ms


def test_each_second_counts_correct_and_all_keys_and_errors():
    # Seconds are (0, 1], (1, 2], ...: 1000 ms falls in the first, 3000 ms in the third.
    # The fourth second lasts 500 ms (the race ended at 3500) and is divided by that.
    assert analyse(BODY, LOG).seconds == [
        {"t": 1, "wpm": 24.0, "raw_wpm": 24.0, "errors": 0},     # t h
        {"t": 2, "wpm": 24.0, "raw_wpm": 36.0, "errors": 1},     # r e space
        {"t": 3, "wpm": 60.0, "raw_wpm": 60.0, "errors": 0},     # c a t space s
        {"t": 4, "wpm": 48.0, "raw_wpm": 96.0, "errors": 2},     # q t a t, in 0.5 s
    ]


def test_every_mistyped_word_is_listed_once_with_what_was_typed():
    assert analyse(BODY, LOG).mistakes == [{"word": "the", "at": 0, "typed": "thr"},
                                           {"word": "sat", "at": 8, "typed": "sqt"}]


def test_the_slowest_words_come_first_timed_from_the_space_before_them():
    # the: from the first key (500) to its space (1800), 3 characters after the first;
    # cat: 1800 -> 2700, 4 characters; sat: 2700 -> 3500, 3.
    assert analyse(BODY, LOG).slowest_words == [
        {"word": "the", "at": 0, "wpm": round(3 * 12_000 / 1300, 1)},
        {"word": "sat", "at": 8, "wpm": 45.0},
        {"word": "cat", "at": 4, "wpm": 53.3}]


def test_time_lost_to_corrections_runs_from_the_mistake_to_being_back_on_track():
    assert analyse(BODY, LOG).correction_ms == 200 + 200
    # Backspacing over correct text is off the path too, until the cursor is back.
    log = [(100, "the"), (400, "\b\b"), (900, "he"), (1000, " cat sat")]
    assert analyse(BODY, log).correction_ms == 500
    assert analyse(BODY, log).mistakes == []


def test_consistency_maps_the_spread_of_raw_speed_as_monkeytype_does():
    raw = [24.0, 36.0, 60.0, 96.0]
    mean = sum(raw) / 4
    cv = math.sqrt(sum((x - mean) ** 2 for x in raw) / 4) / mean
    expected = round(100 * (1 - math.tanh(cv + cv ** 3 / 3 + cv ** 5 / 5)), 1)
    assert analyse(BODY, LOG).consistency == expected == 49.2
    assert consistency([70.0, 70.0, 70.0]) == 100.0
    assert consistency([]) == 0.0


def test_a_short_last_part_second_joins_the_second_before_it():
    log = [(400, "the "), (1000, "cat "), (1100, "sat")]   # ends 100 ms into second 2
    assert analyse(BODY, log).seconds == [
        {"t": 1, "wpm": round(11 * 12_000 / 1100, 1), "raw_wpm": round(11 * 12_000 / 1100, 1),
         "errors": 0}]


def test_a_wrong_space_belongs_to_the_word_before_it_and_paragraph_breaks_separate_words():
    body = "one two\nthree"
    log = [(300, "one"), (600, "x"), (700, "\b "), (1200, "two"), (1500, " "),
           (2500, "three")]
    result = analyse(body, log)
    assert result.mistakes == [{"word": "one", "at": 0, "typed": "onex"}]
    # one: 1 character (its space) in 400 ms; two: "two " in 800; three: 5 in 1000.
    assert [(w["word"], w["wpm"]) for w in result.slowest_words] == [
        ("one", 30.0), ("two", 60.0), ("three", 60.0)]


def test_a_wrong_key_and_its_deletion_in_one_input_still_show_what_was_typed():
    # A client that sends keys in batches: "ov", then "r" (wrong) and its deletion at once.
    result = analyse("over it", [(100, "ov"), (300, "r\ber it")])
    assert result.mistakes == [{"word": "over", "at": 0, "typed": "ovr"}]
    assert result.correction_ms == 0            # corrected within the input: not measurable
    assert analyse("over it", [(100, "ov"), (300, "rx\b\ber it")]).mistakes == [
        {"word": "over", "at": 0, "typed": "ovrx"}]


def test_an_empty_log_has_nothing_to_show():
    assert analyse(BODY, []).view() == {"seconds": [], "mistakes": [], "slowest_words": [],
                                        "consistency": 0.0, "correction_ms": 0}


def test_a_race_left_unfinished_counts_what_was_typed_and_the_error_still_standing():
    result = analyse(BODY, [(500, "the "), (1500, "cax")])
    assert result.mistakes == [{"word": "cat", "at": 4, "typed": "cax"}]
    assert result.correction_ms == 0          # the race ended on the mistake
    assert [w["word"] for w in result.slowest_words] == []   # "the" typed in one input


# ---- per-key and per-bigram statistics (server/core/keystats.py) ------------------------

from server.core.keystats import BIGRAMS_MAX, KEYS_MAX, entry, tally, weakest  # noqa: E402


def test_a_race_tallies_each_key_and_bigram_with_its_mistakes_and_time():
    keys, bigrams = tally(BODY, LOG)
    # The first input (reaction to the start) is left out; each key's time runs from the
    # input before it; "at" in one input at 3500 shares its 200 ms: 100 ms a key.
    assert keys == {"h": [1, 0, 500], "e": [1, 1, 200], " ": [2, 0, 400],
                    "c": [1, 0, 300], "a": [2, 1, 300], "t": [2, 0, 300], "s": [1, 0, 300]}
    assert bigrams == {"th": [1, 0, 500], "he": [1, 1, 200], "e ": [1, 0, 200],
                       " c": [1, 0, 300], "ca": [1, 0, 200], "at": [2, 0, 300],
                       "t ": [1, 0, 200], " s": [1, 0, 300], "sa": [1, 1, 100]}
    assert entry("key", "a", 2, 1, 300) == {"key": "a", "count": 2, "errors": 1,
                                            "mean_ms": 150.0}


def test_a_paragraph_break_counts_as_the_space_that_types_it_and_pauses_are_capped():
    keys, bigrams = tally("ab\ncd", [(0, "a"), (100, "b"), (200, "\n"), (9000, "c")])
    assert keys == {"b": [1, 0, 100], " ": [1, 0, 100], "c": [1, 0, 2000]}
    assert bigrams == {"ab": [1, 0, 100], "b ": [1, 0, 100], " c": [1, 0, 2000]}


def test_a_text_of_thousands_of_distinct_characters_hands_over_a_bounded_tally():
    body = "".join(chr(0x4E00 + i) for i in range(5000))
    keys, bigrams = tally(body, [(i * 100, ch) for i, ch in enumerate(body)])
    assert len(keys) == KEYS_MAX and len(bigrams) == BIGRAMS_MAX


def test_the_weakest_bigrams_are_the_slowest_with_mistakes_weighing_in():
    bigrams = {"th": (10, 0, 1500), "qu": (5, 0, 1500), "ck": (10, 1, 2000),
               "zz": (2, 2, 9000)}              # typed twice: not judged yet
    # qu: 300 ms; ck: 200 + 1000 * 1/10 = 300 ms (tie: by the bigram); th: 150 ms.
    assert weakest(bigrams) == ["ck", "qu", "th"]
    assert weakest(bigrams, 1) == ["ck"]
