"""One race: countdown -> racing -> finished. Pure: time is passed in as `now_ms`
(server wall-clock ms), events are returned as protocol messages to broadcast.

The race decides everything about scores: positions, finish times, places, and the
final ranking (via protocol.scoring). It never reads a clock and never awaits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol import scoring
from protocol.messages import ProtocolError
from protocol.typing_model import TypingState, as_typed
from server.core import integrity
from server.core.keylog import KeyLog, Playback, key_budget
from server.core.results import Result
from server.core.texts import Text

COUNTDOWN, RACING, FINISHED = "countdown", "racing", "finished"

# The time limit grows with the passage: 30 s plus 800 ms a character, i.e. a
# 15 WPM typist still finishes, up to the operator's cap (--max-race-s). The default
# cap, two hours, lets a 30 WPM typist (400 ms a character) finish the longest text
# (protocol.messages.BODY_MAX: 10,000 characters, 67 minutes at 30 WPM).
LIMIT_BASE_MS = 30_000
LIMIT_PER_CHAR_MS = 800
MAX_RACE_S = 7200
# The most a finisher's measured delay earns back (--lag-cap-ms; see lag_credit_ms):
# half of a 500 ms round trip, so honest players nearly everywhere get all of theirs,
# and all that faking delay can earn (docs/security.md "Lag credit").
LAG_CAP_MS = 250


def time_limit_ms(chars: int, max_ms: int = MAX_RACE_S * 1000) -> int:
    return min(max_ms, LIMIT_BASE_MS + LIMIT_PER_CHAR_MS * chars)


def lag_credit_ms(min_rtt_ms: float | None, server_ms: int, cap_ms: int) -> int:
    """What a finisher's time is credited for its delay: half the smallest round trip
    measured during its race (the one-way trip its last keys took to arrive; the
    smallest, so a racer whose path slows or who stalls later gains nothing), at most
    `cap_ms`, and never so much that the credited time falls below 1 ms."""
    if min_rtt_ms is None or server_ms <= 1:
        return 0
    return max(0, min(cap_ms, round(min_rtt_ms / 2), server_ms - 1))


# An action that the race's state does not allow is the client's mistake.
RaceError = ProtocolError


@dataclass(slots=True)
class Racer:
    slot: int
    player_id: str
    name: str
    typing: TypingState
    status: str = "racing"              # racing | finished | dnf | left
    connected: bool = True
    finish_ms: int | None = None         # race_ms at finish
    gone_ms: int | None = None           # race_ms when it left or lost its connection
    place: int = 0
    shown_place: int = 0                 # the place ticks show: once its finish is out
    keylog: KeyLog = field(default_factory=lambda: KeyLog())   # enough to replay
    min_rtt_ms: float | None = None      # the smallest round trip measured in this race
    lag_credit_ms: int = 0               # taken off its finish time (see lag_credit_ms)

    @property
    def log(self) -> list[tuple[int, str]]:
        """Every applied input as (race_ms, keys), in order."""
        return self.keylog.entries()

    def stop_ms(self, race_ms: int) -> int:
        """The race_ms its score is measured at: its (credited) finish, the moment it left (a
        racer who left stops typing then), or else `race_ms`."""
        if self.status == "racing":      # most racers, at every tick: asked first
            return race_ms
        if self.finish_ms is not None:
            return self.finish_ms
        if self.status == "left" and self.gone_ms is not None:
            return min(self.gone_ms, race_ms)
        return race_ms

    def wpm(self, race_ms: int) -> float:
        return scoring.wpm(self.typing.pos, self.stop_ms(race_ms))

    def accuracy(self) -> float:
        return scoring.accuracy(self.typing.correct_keystrokes, self.typing.keystrokes)

    ghost = False                        # (a class attribute, not a field)


@dataclass(slots=True)
class Ghost(Racer):
    """A saved result raced again: the race feeds its saved keys through its own
    TypingState at their saved race_ms, so it moves, finishes and scores exactly as
    it did. It is never saved as a new result."""
    playback: Playback | None = None

    ghost = True


class Race:
    def __init__(self, race_id: str, text: Text, racers: list[tuple[int, str, str]],
                 start_ms: int, countdown_s: int, max_ms: int = MAX_RACE_S * 1000,
                 lag_cap_ms: int = LAG_CAP_MS):
        self.race_id = race_id
        self.lag_cap_ms = lag_cap_ms
        self.text = text
        self.start_ms = start_ms
        self.countdown_s = countdown_s
        self.limit_ms = time_limit_ms(text.chars, max_ms)
        self.key_budget = key_budget(text.chars)     # keys a racer may log (keylog.py)
        self.state = COUNTDOWN
        self.racers = {slot: Racer(slot, pid, name, TypingState(text.body))
                       for slot, pid, name in racers}
        self.finished_count = 0
        self.changed = True              # a tick is due
        self.roster_changed = True       # who races or is connected: are all done now?
        self.final_race_ms = 0           # race_ms when the race ended
        self.last_finish_ms = 0          # the latest finisher's (credited) race_ms
        self.ended_ms = 0                # now_ms when the race ended
        self._finished: dict[int, Result] = {}   # slot -> a finisher's result, final
        self.ghosts: list[Ghost] = []
        self._ghost_due: int | None = None   # race_ms of the next ghost input, if any

    def race_ms(self, now_ms: int) -> int:
        return max(0, now_ms - self.start_ms)

    def measured(self, slot: int, rtt_ms: float) -> None:
        """A round trip the shell measured for a racer, during the countdown or while it
        races: the smallest one counts (server/net/lag.py says how it is measured)."""
        racer = self.racers.get(slot)
        if racer is None or racer.ghost or racer.status != "racing" or self.state == FINISHED:
            return
        if racer.min_rtt_ms is None or rtt_ms < racer.min_rtt_ms:
            racer.min_rtt_ms = rtt_ms

    def countdown_message(self) -> dict:
        return {"type": "countdown", "race_id": self.race_id, "start_server_ms": self.start_ms,
                "seconds": self.countdown_s, "text": self.text.race_view()}

    def add_racer(self, slot: int, player_id: str, name: str) -> None:
        """A late joiner during the countdown."""
        self.racers[slot] = Racer(slot, player_id, name, TypingState(self.text.body))
        self.changed = self.roster_changed = True

    def add_ghost(self, slot: int, player_id: str, name: str, log: KeyLog) -> None:
        """A ghost racer that types `log` (a saved result on this text) again."""
        ghost = Ghost(slot, player_id, name, TypingState(self.text.body), keylog=log,
                      playback=Playback(log))
        self.racers[slot] = ghost
        self.ghosts.append(ghost)
        if ghost.playback.next_ms is not None and (
                self._ghost_due is None or ghost.playback.next_ms < self._ghost_due):
            self._ghost_due = ghost.playback.next_ms
        self.changed = self.roster_changed = True

    def advance(self, now_ms: int) -> list[dict]:
        """Move on with time: start racing at start_ms; ghosts type what is due; end at
        the limit or when every connected racer is done. Returns messages to broadcast."""
        if self.state == COUNTDOWN and now_ms >= self.start_ms:
            self.state = RACING
            self.changed = True
        if self.state != RACING:
            return []
        race_ms = self.race_ms(now_ms)
        events = self._play_ghosts(race_ms)
        # Only a change of who races or is connected can make everyone done (every
        # such change sets roster_changed and advances), so only then is it asked.
        if race_ms >= self.limit_ms or (self.roster_changed and self._all_done()):
            events.extend(self._end(now_ms))
        self.roster_changed = False
        return events

    def ghosts_due(self, now_ms: int) -> bool:
        """A ghost has an input due (so `advance` has something to do)."""
        return self._ghost_due is not None and self.race_ms(now_ms) >= self._ghost_due

    def _play_ghosts(self, race_ms: int) -> list[dict]:
        """Feed every ghost the saved inputs due by `race_ms`. A ghost finishes at its
        saved time even when a tick notices it a little later."""
        if self._ghost_due is None or race_ms < self._ghost_due:
            return []
        events, due = [], None
        for ghost in self.ghosts:
            if ghost.status != "racing":
                continue
            playback = ghost.playback
            while playback.next_ms is not None and playback.next_ms <= race_ms:
                at_ms, keys = playback.take()
                ghost.typing.feed(keys)
                self.changed = True
                if ghost.typing.finished:
                    events.append(self._finish(ghost, at_ms))
                    break
            if ghost.status != "racing":
                continue
            if playback.next_ms is None:
                ghost.status = "dnf"     # its log ends short of the end: it types no more
                self.roster_changed = True
            elif due is None or playback.next_ms < due:
                due = playback.next_ms
        self._ghost_due = due
        return events

    def _all_done(self) -> bool:
        """Nobody connected is still typing. Dropped racers don't hold up those who are
        done; but a race that nobody has finished and nobody is connected to waits for
        them (until they come back, leave when their grace ends, or the time limit)."""
        still = [r for r in self.racers.values() if r.status == "racing"]
        if any(r.connected for r in still):
            return False
        return not still or self.finished_count > 0

    def input(self, slot: int, keys: str, now_ms: int) -> list[dict]:
        """A racer's keys, applied in order at the server's time."""
        # The hot path: while racing inside the time limit, nothing `advance` checks can
        # have changed (who is done changes only through finish/leave/set_connected,
        # which advance themselves), so skip it.
        if self.state == RACING and now_ms - self.start_ms < self.limit_ms:
            events = []
        else:
            events = self.advance(now_ms)
        if self.state != RACING:
            raise RaceError("not_racing", f"can't type: the race is {self.state}")
        racer = self.racers[slot]
        if racer.status != "racing":
            if racer.keylog.key_count >= self.key_budget:
                raise RaceError("not_racing", f"can't type: you typed the {self.key_budget} "
                                "keys this passage allows (you are out: dnf)")
            raise RaceError("not_racing", f"can't type: you have {racer.status}")
        keys = as_typed(keys)           # logged as applied: a replay feeds the same keys
        keys = keys[:self.key_budget - racer.keylog.key_count]
        race_ms = now_ms - self.start_ms     # racing: now_ms >= start_ms
        if self._ghost_due is not None:
            # A ghost input due before this one goes first: finish order is time order.
            events.extend(self._play_ghosts(race_ms))
        typing = racer.typing
        before = (typing.pos, len(typing.wrong))
        applied = typing.feed(keys)
        if applied:
            racer.keylog.append(race_ms, keys[:applied])
        if (typing.pos, len(typing.wrong)) != before:
            self.changed = True
        if typing.finished:
            events.append(self._finish(racer, race_ms))
            events.extend(self.advance(now_ms))
        elif racer.keylog.key_count >= self.key_budget:
            racer.status = "dnf"         # out of keys: out of the race
            self.changed = self.roster_changed = True
            events.extend(self.advance(now_ms))
        return events

    def _finish(self, racer: Racer, server_ms: int) -> dict:
        """`server_ms`: the race_ms its last key arrived at. Its time is that less its
        lag credit; the key log keeps the server's times (integrity checks those).
        A finish is saved and shown as final (its place too), so the credit never takes
        a racer ahead of one who finished before it arrived: at most level with them
        (finish order stays time order; the earlier arrival keeps the better place)."""
        self.finished_count += 1
        self.roster_changed = True
        credit = lag_credit_ms(racer.min_rtt_ms, server_ms, self.lag_cap_ms)
        credit = max(0, min(credit, server_ms - self.last_finish_ms))
        race_ms = self.last_finish_ms = server_ms - credit
        racer.status, racer.finish_ms, racer.place = "finished", race_ms, self.finished_count
        racer.lag_credit_ms = credit
        return {"type": "finish", "slot": racer.slot, "place": racer.place,
                "wpm": round(racer.wpm(race_ms), 2), "accuracy": round(racer.accuracy(), 4),
                "race_ms": race_ms, "server_race_ms": server_ms, "lag_credit_ms": credit}

    def finish_shown(self, slot: int) -> None:
        """The racer's finish was saved and shown: ticks show its place from now on
        (until then a tick must not reveal a result the store may not have)."""
        racer = self.racers.get(slot)
        if racer is not None and racer.shown_place != racer.place:
            racer.shown_place = racer.place
            self.changed = True

    def set_connected(self, slot: int, connected: bool, now_ms: int) -> list[dict]:
        racer = self.racers.get(slot)
        if racer is None:
            return []
        racer.connected = connected
        racer.gone_ms = None if connected else self.race_ms(now_ms)
        self.changed = self.roster_changed = True
        return self.advance(now_ms)

    def leave(self, slot: int, now_ms: int) -> list[dict]:
        """A racer gone for good. In the countdown the seat simply disappears."""
        racer = self.racers.get(slot)
        if racer is None:
            return []
        if self.state == COUNTDOWN:
            del self.racers[slot]
        elif racer.status == "racing":
            racer.status, racer.connected = "left", False
            if racer.gone_ms is None:
                racer.gone_ms = self.race_ms(now_ms)
        self.changed = self.roster_changed = True
        if not any(r.status != "left" for r in self.racers.values() if not r.ghost):
            return self._end(now_ms)     # nobody is left to race (a ghost races nobody)
        return self.advance(now_ms)

    def tick(self, now_ms: int) -> dict | None:
        """The progress snapshot, when something changed since the last one."""
        if self.state != RACING or not self.changed:
            return None
        self.changed = False
        return self.snapshot(now_ms)

    def snapshot(self, now_ms: int) -> dict:
        """A tick of everyone's current state, for a spectator or a returning racer."""
        race_ms = self.race_ms(now_ms)
        return {"type": "tick", "race_ms": race_ms,
                "p": [[r.slot, r.typing.pos, round(r.wpm(race_ms)), r.shown_place]
                      for r in self.racers.values()]}

    def end(self, now_ms: int) -> list[dict]:
        """End the race now (the server is shutting down): racers still typing get dnf."""
        return self._end(now_ms)

    def _end(self, now_ms: int) -> list[dict]:
        if self.state == FINISHED:
            return []
        self.state = FINISHED
        self.ended_ms = now_ms
        # The tick loop notices the limit up to one tick late; nobody raced past it.
        self.final_race_ms = min(self.race_ms(now_ms), self.limit_ms)
        for racer in self.racers.values():
            if racer.status == "racing":
                # Still there but not done: dnf. Gone (connection lost): left.
                racer.status = "dnf" if racer.connected else "left"
        return []

    def _entry(self, r: Racer) -> dict:
        race_ms = r.stop_ms(self.final_race_ms)
        return {"slot": r.slot, "player_id": r.player_id, "name": r.name,
                "wpm": round(r.wpm(race_ms), 2), "accuracy": round(r.accuracy(), 4),
                "race_ms": race_ms, "server_race_ms": race_ms + r.lag_credit_ms,
                "lag_credit_ms": r.lag_credit_ms, "status": r.status, "pos": r.typing.pos,
                "place": r.place}        # finish order: breaks ties of equal time

    def ranking(self) -> list[dict]:
        """The final ranking (protocol/REFERENCE.md, "The race"), one entry per racer."""
        return scoring.rank([self._entry(r) for r in self.racers.values()])

    def results(self, max_wpm: float) -> list[Result]:
        """The final results in ranking order, each with its integrity verdict: an
        implausible result is kept with the reason, shown to the room and kept off the
        boards (see server/core/integrity.py)."""
        return [self._finished.get(entry["slot"]) or self._result(entry, max_wpm)
                for entry in self.ranking()]

    def finisher_result(self, slot: int, max_wpm: float) -> Result:
        """A finished racer's result, final from its finish on: its time, and its place
        (finish order is time order, so the ranking gives it the same place)."""
        result = self._finished.get(slot)
        if result is None:
            result = self._finished[slot] = self._result(self._entry(self.racers[slot]),
                                                         max_wpm)
        return result

    def kept_racers(self) -> int:
        """Racers whose results are kept (a ghost's never is); fixed once racing."""
        return sum(not r.ghost for r in self.racers.values())

    def _result(self, entry: dict, max_wpm: float) -> Result:
        racer = self.racers[entry["slot"]]
        log = racer.log
        flagged = None if racer.ghost else integrity.check(self.text.body, log,
                                                            entry["wpm"], max_wpm)
        return Result(
            entry["player_id"], entry["name"], entry["slot"], entry["place"],
            entry["status"], entry["wpm"], entry["accuracy"], entry["race_ms"],
            entry["pos"], racer.typing.keystrokes, racer.typing.correct_keystrokes, log,
            flagged, racer.ghost, racer.lag_credit_ms)
