"""The web client's scoring.js gives exactly protocol/scoring.py's numbers (run under node),
so the live WPM a browser shows is the one the server will record."""

from __future__ import annotations

import random

from protocol import scoring

from .webjs import needs_node, run_module

RUNNER = """
import { readFileSync } from "node:fs";
const { wpm, accuracy, points, CHARS_PER_WORD } = await import(process.argv[1]);
const cases = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify({
  chars_per_word: CHARS_PER_WORD,
  wpm: cases.wpm.map(([c, ms]) => wpm(c, ms)),
  accuracy: cases.accuracy.map(([c, t]) => accuracy(c, t)),
  points: cases.points.map(([c, w, a]) => points(c, w, a)),
}));
"""


def vectors() -> dict:
    rng = random.Random(5)
    edge_wpm = [[0, 0], [0, 1000], [10, 0], [10, -5], [-3, 1000], [1, 1], [250, 60000],
                [500, 12345], [2000, 600000], [7, 3]]
    edge_acc = [[0, 0], [0, 5], [5, 5], [4, 5], [6, 5], [1, 3], [2, 3], [-1, 4], [3, -1]]
    return {
        "wpm": edge_wpm + [[rng.randint(0, 2000), rng.randint(1, 600_000)] for _ in range(300)],
        "accuracy": edge_acc + [[c, c + rng.randint(0, 500)]
                                for c in (rng.randint(0, 2000) for _ in range(300))],
        # Half-way cases too: 15 chars at 60 WPM and 0.5 accuracy is exactly 1.5 points.
        "points": [[0, 80, 1], [100, 0, 1], [15, 60, 0.5], [5, 60, 0.5], [300, 60, 1],
                   [-5, 60, 1]] + [
            [rng.randint(20, 10000), rng.uniform(1, 300), rng.uniform(0.5, 1)]
            for _ in range(300)],
    }


@needs_node
def test_scoring_js_matches_the_python_scoring_module_exactly(tmp_path):
    cases = vectors()
    js = run_module(tmp_path, "scoring.js", RUNNER, cases)
    assert js["chars_per_word"] == scoring.CHARS_PER_WORD
    # Same IEEE-754 operations in the same order: equal to the last bit, not approximately.
    assert js["wpm"] == [scoring.wpm(c, ms) for c, ms in cases["wpm"]]
    assert js["accuracy"] == [scoring.accuracy(c, t) for c, t in cases["accuracy"]]
    assert js["points"] == [scoring.points(c, w, a) for c, w, a in cases["points"]]
