"""The web client's scoring.js gives exactly protocol/scoring.py's numbers (run under node),
so the live WPM a browser shows is the one the server will record."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from protocol import scoring

SCORING_JS = Path(__file__).resolve().parent.parent / "client_demo" / "web" / "scoring.js"
NODE = shutil.which("node")

RUNNER = """
import { readFileSync } from "node:fs";
const { wpm, accuracy, CHARS_PER_WORD } = await import(process.argv[1]);
const cases = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify({
  chars_per_word: CHARS_PER_WORD,
  wpm: cases.wpm.map(([c, ms]) => wpm(c, ms)),
  accuracy: cases.accuracy.map(([c, t]) => accuracy(c, t)),
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
    }


@pytest.mark.skipif(NODE is None and not os.environ.get("CI"), reason="node is not installed")
def test_scoring_js_matches_the_python_scoring_module_exactly():
    assert NODE, "node is required in CI"
    cases = vectors()
    done = subprocess.run([NODE, "--input-type=module", "-e", RUNNER, SCORING_JS.as_uri()],
                          input=json.dumps(cases), capture_output=True, text=True, timeout=60,
                          check=True)
    js = json.loads(done.stdout)
    assert js["chars_per_word"] == scoring.CHARS_PER_WORD
    # Same IEEE-754 operations in the same order: equal to the last bit, not approximately.
    assert js["wpm"] == [scoring.wpm(c, ms) for c, ms in cases["wpm"]]
    assert js["accuracy"] == [scoring.accuracy(c, t) for c, t in cases["accuracy"]]
