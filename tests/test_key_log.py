"""A racer's inputs are kept, packed, with their server times: enough to replay the race."""

from __future__ import annotations

from server.race import Race
from server.texts import Text

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

