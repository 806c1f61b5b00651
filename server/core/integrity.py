"""Which results are too good to be typed by a human. Pure: a log in, a reason out.

A flagged result is saved with its reason and shown to its player, but it is left
out of leaderboards, averages, wins and completions. The rules look at the keystroke
log with server times (see server/core/replay.py) and are chosen so that an honest
typist on a bad network is never flagged:

1. Paste: one `input` that moves the cursor forward by more than PASTE_CHARS
   correct characters. Clients send what was typed in the last ~100 ms (or each
   key); even 250 WPM is only ~2 characters per 100 ms, and a swipe keyboard or an
   input method commits one word at a time. A message is one client batch, so
   network delays can not merge two of them: this rule is immune to jitter.
2. Burst: more than BURST_CHARS correct characters arriving within BURST_MS of
   server time (a paste cut into small messages). A network stall delivers what
   was typed during it all at once, so the threshold is wide: 100 characters in a
   second is 1,200 WPM, and a 250 WPM typist needs a stall of about four seconds
   (a 100 WPM typist: eleven) to reach it.
3. Sustained speed: over the whole race (the result's own wpm), or over the
   SUSTAIN_MS (at least) before any input, the speed is above `--max-wpm`. The
   window is long so that a stall of a second or two changes the measured speed by
   a few percent only; the fastest humans sustain about 200-250 WPM on short texts.
4. Finish time: a finish sooner than the passage takes at `--max-wpm` (fastest_ms),
   whatever the clock says, a finish at race_ms 0 included (a few inputs sent in
   one write at the start instant arrive within one millisecond).

Speeds are measured in progress of the correct prefix, as the score is.
"""

from __future__ import annotations

from protocol.scoring import CHARS_PER_WORD, wpm
from server.core.replay import progress

PASTE_CHARS = 24
BURST_CHARS = 100
BURST_MS = 1000
SUSTAIN_MS = 10_000
MAX_WPM = 300              # the default of --max-wpm (server/config.py)


def fastest_ms(chars: int, max_wpm: float) -> float:
    """How long `chars` characters take at `max_wpm`: no clean finish is sooner."""
    return chars / CHARS_PER_WORD / max_wpm * 60_000


def check(body: str, log, result_wpm: float, max_wpm: float) -> str | None:
    """The reason this result is implausible, or None when it looks human."""
    steps = progress(body, log)
    for _race_ms, before, after in steps:
        if after - before > PASTE_CHARS:
            return f"pasted: {after - before} characters arrived in one input"
    points = [(0, 0)] + [(race_ms, after) for race_ms, _before, after in steps]
    # Two windows slide over the points (race start first). `late` is the first point
    # of the last BURST_MS: the burst is what arrived since the point before it.
    # `early` is the last point at least SUSTAIN_MS back. Positions can fall
    # (backspace): both compare net progress.
    early = late = 0
    for t, pos in points:
        while points[late][0] < t - BURST_MS:
            late += 1
        burst = pos - points[max(late - 1, 0)][1]
        if burst > BURST_CHARS:
            return (f"pasted: {burst} characters within "
                    f"{(t - points[late][0]) / 1000:.1f} s")
        while early + 1 < len(points) and points[early + 1][0] <= t - SUSTAIN_MS:
            early += 1
        t0, pos0 = points[early]
        if t - t0 >= SUSTAIN_MS:
            speed = wpm(pos - pos0, t - t0)
            if speed > max_wpm:
                return (f"too fast: {speed:.0f} WPM sustained over {(t - t0) / 1000:.0f} s "
                        f"(the limit is {max_wpm:g})")
    if result_wpm > max_wpm:
        return f"too fast: {result_wpm:.0f} WPM over the race (the limit is {max_wpm:g})"
    # The same rule for a finisher, from its log alone: it holds even when the score
    # says 0 WPM (as it did for a finish at race_ms 0).
    finish = next((race_ms for race_ms, _before, after in steps if after == len(body)), None)
    if finish is not None and finish < fastest_ms(len(body), max_wpm):
        return (f"too fast: {len(body)} characters finished at {finish} ms; at "
                f"{max_wpm:g} WPM they take {fastest_ms(len(body), max_wpm) / 1000:.1f} s")
    return None
