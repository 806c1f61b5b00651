"""A racer's inputs are kept, packed, with their server times: enough to replay the race."""

from __future__ import annotations

from server.core.race import Race
from server.core.texts import Text

TEXT = Text(1, "t", "s", "Zoë types naïve café words")


def test_every_applied_input_is_logged_with_its_race_time_in_order():
    race = Race("r1", TEXT, [(0, "p0", "Ann"), (1, "p1", "Bob")], start_ms=1000, countdown_s=0)
    race.advance(1000)
    race.input(0, "Zo", 1100)
    race.input(0, "x\b", 1250)               # a typo, deleted at once
    race.input(0, "ë t", 1400)
    race.input(1, "Z", 1500)
    race.input(0, TEXT.body[5:] + "extra", 2000)   # finishing: keys after the end are not applied
    assert race.racers[0].log == [(100, "Zo"), (250, "x\b"), (400, "ë t"),
                                  (1000, TEXT.body[5:])]
    assert race.racers[1].log == [(500, "Z")]
    assert race.racers[0].status == "finished"



def test_long_pauses_and_long_inputs_come_back_exactly():
    """Times are kept as 2-byte gaps and sizes as 1 byte: pauses past 65.5 s and inputs
    of 255 bytes or more (a paste, multi-byte characters) must still replay exactly."""
    from server.core.keylog import KeyLog

    log = KeyLog()
    entries = [(0, "a"), (65_535, "b"), (131_071, "c"), (131_071, "d"),
               (400_000, "é" * 127), (400_001, "x" * 254), (400_002, "y" * 255),
               (600_000, "€" * 2000), (600_000, "z")]
    for race_ms, keys in entries:
        log.append(race_ms, keys)
    assert log.entries() == entries
    assert len(log) == len(entries)


def test_a_racers_log_is_bounded_by_what_the_passage_can_need():
    """A flood of typo-and-delete keeps at most key_budget(chars) keys: the racer is out
    (dnf) at the bound, told so on its next input, and the others race on."""
    import pytest

    from server.core.keylog import key_budget
    from server.core.race import RaceError

    race = Race("r1", TEXT, [(0, "p0", "Ann"), (1, "p1", "Bob")], start_ms=1000, countdown_s=0)
    race.advance(1000)
    budget = key_budget(TEXT.chars)
    assert budget == 4 * TEXT.chars + 1000
    flood = "x\b" * 1000
    for n in range(budget // len(flood) + 1):
        race.input(0, flood, 1100 + n)
    ann = race.racers[0]
    assert ann.keylog.key_count == budget and sum(len(k) for _, k in ann.log) == budget
    assert ann.status == "dnf" and race.state == "racing"
    with pytest.raises(RaceError, match=f"the {budget} keys this passage allows"):
        race.input(0, flood, 1200)
    assert ann.keylog.key_count == budget
    race.input(1, TEXT.body, 1300)              # Bob finishes; the race ends with him
    assert race.racers[1].status == "finished" and race.state == "finished"
    assert [r.status for r in race.results(300)] == ["finished", "dnf"]


def test_a_typist_who_makes_many_typos_stays_within_the_budget():
    from server.core.keylog import key_budget

    race = Race("r1", TEXT, [(0, "p0", "Ann")], start_ms=1000, countdown_s=0)
    race.advance(1000)
    for n, ch in enumerate(TEXT.body):            # every character mistyped twice first
        race.input(0, "qq\b\b" + ch, 1100 + n)
    assert race.racers[0].status == "finished"
    assert race.racers[0].keylog.key_count == 5 * TEXT.chars < key_budget(TEXT.chars)
