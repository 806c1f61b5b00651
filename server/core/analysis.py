"""One race analysed from its saved key log: what a typist wants to see after a race.
Pure: the passage and the log (every applied input as (race_ms, keys), the server's
times) in, an Analysis out. The log is walked once through the same typing model that
judged the race (protocol/typing_model.py), input by input: an input is the finest
time the server measured (a client may send a few keys in one).

What each figure means (protocol/REFERENCE.md says the same for clients):

- `seconds`: one entry per second of the race, `t` its end (1, 2, ...). `raw_wpm` counts
  every character key pressed in that second, `wpm` only the correct ones (those that
  moved the cursor forward), both as words of 5 characters per minute; `errors` the
  wrong keys. The race ends at its last input; a last part-second shorter than half a
  second joins the second before it (so one key in 50 ms is not drawn as 240 WPM), and
  every entry is divided by its true length.
- `mistakes`: every word where a wrong key was pressed, once, in passage order, with
  `at` its first character's index in the passage and `typed` the word as it stood
  with the most wrong characters of its first error standing (its correct part and the
  wrong characters after it, e.g. "teh" for "the", even when the client sent a
  wrong key and its deletion in one input). A wrong key on the space after a word
  belongs to that word.
- `slowest_words`: up to SLOWEST, slowest first. A word is timed from the input that
  took the cursor past the previous word's space to the input that took it past its
  own space (the last word: to its last character), counting the characters between
  (the first word from the race's first correct input, so reaction time is left out).
  A word typed within one input can't be timed and is left out.
- `consistency`: how even the speed was, 0-100: from the coefficient of variation
  (standard deviation / mean) of the per-second raw WPM, mapped as Monkeytype maps it,
  100 * (1 - tanh(cv + cv^3/3 + cv^5/5)), so 100 is perfectly even and it nears 0 as
  the spread passes the mean. One second only: 100; no keys: 0.
- `correction_ms`: time spent off the correct path: from the input that left it (a
  wrong character, or a backspace over correct text) to the input that brought the
  cursor back to where it had been with nothing wrong standing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from protocol.typing_model import BREAK, TypingState

SLOWEST = 10            # words in `slowest_words`
MERGE_LAST_MS = 500     # a last part-second shorter than this joins the one before
SEPARATORS = (" ", BREAK)


@dataclass(frozen=True)
class Analysis:
    seconds: list[dict]         # {t, wpm, raw_wpm, errors}
    mistakes: list[dict]        # {word, at, typed}
    slowest_words: list[dict]   # {word, at, wpm}
    consistency: float
    correction_ms: int

    def view(self) -> dict:
        return {"seconds": self.seconds, "mistakes": self.mistakes,
                "slowest_words": self.slowest_words, "consistency": self.consistency,
                "correction_ms": self.correction_ms}


def words_of(body: str) -> tuple[list[int], list[int], list[int]]:
    """(starts, word ends, span ends) of the passage's words: a word is a run without a
    space or paragraph break; its span runs to the next word's start (its space)."""
    starts, ends = [], []
    inside = False
    for i, ch in enumerate(body):
        if ch in SEPARATORS:
            if inside:
                ends.append(i)
                inside = False
        elif not inside:
            starts.append(i)
            inside = True
    if inside:
        ends.append(len(body))
    spans = starts[1:] + [len(body)]
    return starts, ends, spans


def word_index(starts: list[int], size: int) -> list[int]:
    """The word each position of the passage belongs to (a separator: the word before)."""
    index = [0] * starts[0]
    for w, start in enumerate(starts):
        end = starts[w + 1] if w + 1 < len(starts) else size
        index += [w] * (end - start)
    return index


def consistency(raw: list[float]) -> float:
    if not raw:
        return 0.0
    mean = sum(raw) / len(raw)
    if mean <= 0:
        return 0.0
    cv = math.sqrt(sum((x - mean) ** 2 for x in raw) / len(raw)) / mean
    return round(100 * (1 - math.tanh(cv + cv ** 3 / 3 + cv ** 5 / 5)), 1)


def _per_minute(chars: int, ms: int) -> float:
    return round(chars * 12_000 / ms, 1)          # chars / 5 per (ms / 60,000)


def _mistakes_in(probe: TypingState, keys: str, starts: list[int], owner: list[int],
                 mistakes: dict[int, str], episode: int) -> int:
    """Feed an input that had a wrong key one key at a time, so a wrong key and its
    deletion sent together are still seen: a word's first mistake is recorded with
    what stood at its most wrong. Returns the word whose mistake stands after it, or -1."""
    body = probe.passage
    for ch in keys:
        had = bool(probe.wrong)
        if probe.feed(ch) == 0:
            break
        if not probe.wrong:
            episode = -1
            continue
        if not had:                                 # a new mistake starts here
            w = owner[min(probe.pos, len(body) - 1)]
            episode = -1 if w in mistakes else w
            if episode >= 0:
                mistakes[w] = ""
        if episode >= 0:
            typed = body[starts[episode]:probe.pos] + "".join(probe.wrong)
            if len(typed) > len(mistakes[episode]):
                mistakes[episode] = typed
    return episode


def analyse(body: str, log) -> Analysis:
    """The analysis of one racer's log on `body` (see the module's docstring)."""
    if not log or not body:
        return Analysis([], [], [], 0.0, 0)
    end_ms = log[-1][0]
    count = max(1, -(-end_ms // 1000))
    last_len = end_ms - 1000 * (count - 1)
    if count > 1 and last_len < MERGE_LAST_MS:
        count -= 1
        last_len += 1000
    raw = [0] * count
    good = [0] * count
    errs = [0] * count

    starts, word_ends, spans = words_of(body)
    words = len(starts)
    owner = None                   # built only when a word was mistyped (most aren't)
    mistakes: dict[int, str] = {}  # word -> typed, in the order found
    episode = -1                   # the word of the error standing now (-1: none)
    timed: list[tuple[float, int]] = []       # (wpm, word)
    done = 0                       # words whose span the cursor has passed
    mark_ms = mark_pos = -1        # the input that passed the last span, and where
    state = TypingState(body)
    reached = 0                    # the furthest the cursor has been
    off_since = -1                 # when the racer left the correct path (-1: on it)
    correction = 0
    for race_ms, keys in log:
        ks0, ok0, pos0 = state.keystrokes, state.correct_keystrokes, state.pos
        wrong0 = state.wrong[:] if state.wrong else []
        state.feed(keys)
        pressed = state.keystrokes - ks0
        correct = state.correct_keystrokes - ok0
        second = min(count - 1, (race_ms - 1) // 1000) if race_ms > 0 else 0
        raw[second] += pressed
        good[second] += correct
        pos, wrong = state.pos, state.wrong
        if pressed != correct:
            errs[second] += pressed - correct
            if owner is None:
                owner = word_index(starts, len(body))
            probe = TypingState(body)             # the input again, key by key
            probe.pos, probe.wrong = pos0, wrong0
            episode = _mistakes_in(probe, keys, starts, owner, mistakes, episode)
        if not wrong:
            episode = -1
        if pos > reached:
            if mark_ms < 0:
                mark_ms, mark_pos = race_ms, pos     # the first word starts here
            first = True
            while done < words and pos >= spans[done]:
                if first and race_ms > mark_ms and spans[done] > mark_pos:
                    chars = spans[done] - mark_pos
                    timed.append((_per_minute(chars, race_ms - mark_ms), done))
                first = False
                done += 1
            if not first:
                mark_ms, mark_pos = race_ms, pos
        if wrong or pos < reached:
            if off_since < 0:
                off_since = race_ms
        elif off_since >= 0:
            correction += race_ms - off_since
            off_since = -1
        if pos > reached:
            reached = pos
    if off_since >= 0:
        correction += end_ms - off_since

    seconds = []
    for i in range(count):
        length = last_len if i == count - 1 else 1000
        seconds.append({"t": i + 1, "wpm": _per_minute(good[i], length) if length else 0.0,
                        "raw_wpm": _per_minute(raw[i], length) if length else 0.0,
                        "errors": errs[i]})
    timed.sort()
    return Analysis(
        seconds=seconds,
        mistakes=[{"word": body[starts[w]:word_ends[w]], "at": starts[w], "typed": typed}
                  for w, typed in sorted(mistakes.items())],
        slowest_words=[{"word": body[starts[w]:word_ends[w]], "at": starts[w], "wpm": wpm}
                       for wpm, w in timed[:SLOWEST]],
        consistency=consistency([s["raw_wpm"] for s in seconds]),
        correction_ms=correction)
