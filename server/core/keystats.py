"""Per-key and per-bigram statistics of a player: what one race adds (`tally`), how the
stores bound what they keep (KEYS_MAX, BIGRAMS_MAX) and which bigrams are the weakest
(`weakest`). Pure.

A key is a character of the passage as the typist had to type it (a paragraph break is
typed as a space, so it counts as " "); a bigram is two such characters in a row, the
second typed right after the first. For each the stores keep `count` (times typed
correctly), `errors` (times a wrong key was pressed where it was due: the first wrong
key of each mistake) and `ms` (the time taken in total, from the input before; `mean_ms`
is ms / count). An input's time is shared by the keys in it, and a pause counts at most
PAUSE_MS (a sip of coffee is no key's fault). The race's first input is left out: its
time is the typist's reaction to the start.

Only clean finished results count (the stores ask Result.clean).
"""

from __future__ import annotations

from protocol.typing_model import BACKSPACE, BREAK, TypingState

KEYS_MAX = 256          # distinct keys kept per player: more than any keyboard types
BIGRAMS_MAX = 2048      # distinct bigrams kept per player
PAUSE_MS = 2000
WEAKEST = 20            # bigrams in `key_stats`
MIN_COUNT = 3           # a bigram typed fewer times is not judged yet
ERROR_COST_MS = 1000    # what a mistake costs a bigram's score, per time typed


def as_key(ch: str) -> str:
    return " " if ch == BREAK else ch


def tally(body: str, log) -> tuple[dict[str, list], dict[str, list]]:
    """({key: [count, errors, ms]}, {bigram: [count, errors, ms]}) of one racer's log,
    at most KEYS_MAX keys and BIGRAMS_MAX bigrams (the most typed), so a text of
    thousands of distinct characters hands the store a bounded list.

    Runs on every clean save (the stores call it), so the common input, keys that all
    match the passage where the cursor stands, takes a fast path; anything else goes
    key by key through the typing model."""
    keys: dict[str, list] = {}
    pairs: dict[str, list] = {}
    state = TypingState(body)
    previous_ms = None
    for race_ms, typed in log:
        if previous_ms is None:                # the reaction to the start: left out
            previous_ms = race_ms
            state.feed(typed)
            continue
        per_key = min(PAUSE_MS, (race_ms - previous_ms) / len(typed))
        previous_ms = race_ms
        pos = state.pos
        if not state.wrong and BREAK not in typed and body.startswith(typed, pos):
            # Keys that all match the passage where the cursor stands: the typing model
            # would move the cursor past them, and nothing else (its keystroke counts
            # are not used here), so do just that without a call per input.
            state.pos = pos + len(typed)
            before = as_key(body[pos - 1]) if pos else None
            for ch in typed:
                entry = keys.get(ch)
                if entry is None:
                    entry = keys[ch] = [0, 0, 0]
                entry[0] += 1
                entry[2] += per_key
                if before is not None:
                    pair = before + ch
                    entry = pairs.get(pair)
                    if entry is None:
                        entry = pairs[pair] = [0, 0, 0]
                    entry[0] += 1
                    entry[2] += per_key
                before = ch
            continue
        for ch in typed:
            pos, was_wrong = state.pos, bool(state.wrong)
            if state.feed(ch) == 0:
                break                          # finished
            if ch == BACKSPACE:
                continue
            if state.pos > pos:
                key = as_key(body[pos])
                _add(keys, key, 0, per_key)
                if pos:
                    _add(pairs, as_key(body[pos - 1]) + key, 0, per_key)
            elif not was_wrong and pos < len(body):
                key = as_key(body[pos])
                _add(keys, key, 1, 0)
                if pos:
                    _add(pairs, as_key(body[pos - 1]) + key, 1, 0)
    return _bounded(keys, KEYS_MAX), _bounded(pairs, BIGRAMS_MAX)


def _add(table: dict, key: str, error: int, ms: float) -> None:
    entry = table.get(key)
    if entry is None:
        entry = table[key] = [0, 0, 0]
    if error:
        entry[1] += 1
    else:
        entry[0] += 1
        entry[2] += ms


def _bounded(table: dict, most: int) -> dict:
    for entry in table.values():
        entry[2] = round(entry[2])
    if len(table) <= most:
        return table
    kept = sorted(table.items(), key=lambda item: (-item[1][0] - item[1][1], item[0]))
    return dict(kept[:most])


def entry(name: str, key: str, count: int, errors: int, ms: int) -> dict:
    """A kept key or bigram as `key_stats` shows it (`name`: "key" or "bigram")."""
    return {name: key, "count": count, "errors": errors,
            "mean_ms": round(ms / count, 1) if count else None}


def score(count: int, errors: int, ms: int) -> float:
    """How weak a bigram is: its mean time, plus ERROR_COST_MS per mistake per time
    typed (a bigram missed one time in ten costs 100 ms more)."""
    return ms / max(1, count) + ERROR_COST_MS * errors / max(1, count)


def weakest(bigrams: dict[str, tuple[int, int, int]], most: int = WEAKEST) -> list[str]:
    """The weakest bigrams typed at least MIN_COUNT times, weakest first (ties by the
    bigram, so the order is the same in every store)."""
    judged = [(-score(*v), k) for k, v in bigrams.items() if v[0] >= MIN_COUNT]
    judged.sort()
    return [k for _, k in judged[:most]]
