"""A racer's result: one frozen value made by the race when it ends, with the
integrity verdict already on it. The store persists it as it is; what counts as a
clean result and as a win is defined here, once, and the stores follow it."""

from __future__ import annotations

from dataclasses import dataclass

from protocol import scoring
from protocol.codes import RacerStatus


@dataclass(frozen=True, slots=True)
class Result:
    player_id: str
    name: str
    slot: int
    place: int
    status: RacerStatus         # finished | dnf | left
    wpm: float
    accuracy: float
    race_ms: int
    pos: int
    keystrokes: int
    correct_keystrokes: int
    log: list                   # [(race_ms, keys)]: every input with its server time
    flagged: str | None = None  # why the result is kept off the boards
    ghost: bool = False         # a saved result raced again: shown, never saved again
    lag_credit_ms: int = 0      # taken off the server's time for the racer's delay

    @property
    def server_race_ms(self) -> int:
        """The time the server measured; `race_ms` is the credited time."""
        return self.race_ms + self.lag_credit_ms

    @property
    def clean(self) -> bool:
        """Counts for averages, bests, boards, completions and ratings: finished, and
        nothing implausible about it."""
        return self.status == RacerStatus.FINISHED and self.flagged is None

    def bests(self, text_best: float | None, overall_best: float | None) -> dict:
        """What `results` says about the player's records, given their best clean WPM
        on this text and on any text before this race (None: none yet): `new_best` lists
        "text" and/or "overall" when this clean result is faster (as fast is not new),
        and `previous_best_wpm` is the text's best before."""
        new_best = []
        if self.clean and (text_best is None or self.wpm > text_best):
            new_best.append("text")
        if self.clean and (overall_best is None or self.wpm > overall_best):
            new_best.append("overall")
        return {"new_best": new_best, "previous_best_wpm": text_best}

    @property
    def points(self) -> int:
        """Competition points (protocol/scoring.py): a clean result's, else none."""
        return scoring.points(self.pos, self.wpm, self.accuracy) if self.clean else 0

    def won(self, racers: int) -> bool:
        """A win: a clean first place against at least one other racer."""
        return self.clean and self.place == 1 and racers > 1

    def entry(self) -> dict:
        """The result as a `results` message ranks it."""
        entry = {"slot": self.slot, "player_id": self.player_id, "name": self.name,
                 "wpm": self.wpm, "accuracy": self.accuracy, "race_ms": self.race_ms,
                 "server_race_ms": self.server_race_ms, "lag_credit_ms": self.lag_credit_ms,
                 "status": self.status, "pos": self.pos, "place": self.place,
                 "flagged": self.flagged, "points": 0 if self.ghost else self.points}
        if self.ghost:
            entry["ghost"] = True
        return entry


@dataclass(frozen=True, slots=True)
class RaceInfo:
    """What every saved result of one race shares."""
    race_id: str
    room_id: str
    kind: str                   # quick | private | practice
    text_id: int
    started_ms: int             # server wall clock of the start
    racers: int                 # racers whose results are kept (ghosts are not)
    passage: str | None = None  # the passage, when it is no stored text (a generated one)


@dataclass(frozen=True, slots=True)
class RacerFinished:
    """A racer reached the end: its result is final (place, time, integrity verdict)
    and is saved now, before its `finish` message, which reveals it, goes out."""
    race: RaceInfo
    at_ms: int                  # server wall clock of the finish
    result: Result
    message: dict               # the `finish` message, published once saved


@dataclass(frozen=True, slots=True)
class RaceEnded:
    """A race ended: every racer's frozen result in ranking order (ghosts included:
    shown, never saved), saved before `results` goes out."""
    race: RaceInfo
    at_ms: int                  # server wall clock of the end
    race_ms: int                # how long it ran
    results: tuple[Result, ...]

    @property
    def kept(self) -> list[Result]:
        """The results the stores keep."""
        return [r for r in self.results if not r.ghost]
