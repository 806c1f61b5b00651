"""The web client's typing.js decides every key exactly like protocol/typing_model.py
(run under node on the same keys), so what a browser shows as typed, wrong or finished
is what the server will decide."""

from __future__ import annotations

import random

from protocol.typeable import FOLDS
from protocol.typing_model import BACKSPACE, MAX_WRONG, TypingState, as_typed

from .webjs import needs_node, run_module

RUNNER = """
import { readFileSync } from "node:fs";
const { TypingState } = await import(process.argv[1]);
const cases = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(([passage, batches]) => {
  const t = new TypingState(Array.from(passage));
  return batches.map((keys) => {
    const applied = t.feed(keys);
    return [applied, t.pos, t.wrongText, t.keystrokes, t.correctKeystrokes, t.finished];
  });
})));
"""

B = BACKSPACE
PASSAGES = [
    "The quick brown fox jumps over the lazy dog.",
    "Naïve café owners söhne — «déjà vu» …",     # accents, dashes and quotes outside ASCII
    "Race 🏁 to the 🚀 and back 🐢!",            # outside the BMP: two UTF-16 units each
    "日本語のテキストを打つ。",
    "e\u0301 is e and a combining accent",          # two code points, one glyph
    "ab",
    "One paragraph.\nAnother one,\nand a third.",    # breaks: typed by space or Enter
]
WRONG = "xyzQ#é🦊\u0301 \n"


def edge_cases() -> list:
    fox, emoji = PASSAGES[0], PASSAGES[2]
    return [
        [fox, [fox]],                                          # all correct at once
        [fox, [B * 3, "T", B * 2, "The"]],                     # backspace at the start
        [fox, ["Thx", B, "e quick"]],                          # a typo, deleted, then on
        [fox, ["The", "q" * 3, "u", B * 4, "quick"]],          # a right key behind a wrong one
        [fox, ["Th" + "x" * (MAX_WRONG + 4), B * (MAX_WRONG + 4), "The"]],   # past MAX_WRONG
        [fox, ["The quick", B * 9, "The"]],                    # back through correct keys
        [fox, [fox[:-1] + "." + "after the end", "more"]],     # keys after the finish
        [fox, [fox[:-1], "!" + B + ".", B + "x"]],             # finish right after a fix
        [emoji, [emoji[:5] + "🏁", "🚀" + B + " to", B * 3 + "🏁 t"]],
        [emoji, ["🦊" * (MAX_WRONG + 1), B * MAX_WRONG, "Race"]],
        [PASSAGES[4], ["e", "\u0301", " ", B * 2, "\u0301 is"]],
        [PASSAGES[6], ["One paragraph. Another one,\nand", "\n", B, " a third."]],
        ["ab", ["", "a", "", "b", "a"]],
    ]


def random_case(rng: random.Random) -> list:
    """A racer who mostly types right, makes typos (sometimes many), and fixes them."""
    passage = rng.choice(PASSAGES)
    shadow = TypingState(passage)           # where the racer is, to pick a plausible key
    keys = []
    for _ in range(rng.randint(1, 3 * len(passage))):
        roll = rng.random()
        if roll < 0.6 and not shadow.finished:
            key = B if shadow.wrong else passage[shadow.pos]
        elif roll < 0.8:
            key = rng.choice(WRONG) * rng.choice([1, 1, 1, MAX_WRONG + 2])
        else:
            key = B * rng.choice([1, 1, 2, 5])
        shadow.feed(key)
        keys.append(key)
    stream = "".join(keys)
    cuts = sorted(rng.sample(range(len(stream) + 1), min(len(stream) + 1, rng.randint(1, 8))))
    return [passage, [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]]


def python_model(passage: str, batches: list[str]) -> list:
    state, out = TypingState(passage), []
    for keys in batches:
        applied = state.feed(keys)
        out.append([applied, state.pos, state.wrong_text, state.keystrokes,
                    state.correct_keystrokes, state.finished])
    return out


@needs_node
def test_typing_js_decides_every_key_like_the_python_typing_model(tmp_path):
    rng = random.Random(12)
    cases = edge_cases() + [random_case(rng) for _ in range(400)]
    js = run_module(tmp_path, "typing.js", RUNNER, cases)
    expected = [python_model(passage, batches) for passage, batches in cases]
    for case, got, want in zip(cases, js, expected):
        assert got == want, f"typing.js differs on {case!r}"
    assert len(js) == len(expected)
    # The cases reach what they are meant to: finishes, MAX_WRONG, keys past the end.
    assert any(step[5] for run in expected for step in run)
    assert any(len(step[2]) == MAX_WRONG for run in expected for step in run)
    assert any(step[0] < len(batch) for (_, batches), run in zip(cases, expected)
               for batch, step in zip(batches, run))


AS_TYPED = """
import { readFileSync } from "node:fs";
const { asTyped } = await import(process.argv[1]);
const cases = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(asTyped)));
"""


@needs_node
def test_typing_js_folds_keys_like_the_server(tmp_path):
    """What a phone or a composing keyboard sends is folded and composed in the page
    exactly as protocol/typing_model.py `as_typed` does on the server."""
    keys = ["plain ascii" + B, "Cafe\u0301", "caf\u00e9", "It\u2019s \u201cgood\u201d \u2014 ok\u2026",
            "\u00ad\u200b\ufb01ne", "\u0645\u06cc\u200c\u062e", "\ud55c\uae00 \u1100\u1161",
            "A\u030a\u212b", "\U0001F3C1\u2013\U0001F680", "".join(FOLDS)]
    got = run_module(tmp_path, "typing.js", AS_TYPED, keys)
    assert got == [as_typed(k) for k in keys]
    assert got[1] == "Caf\u00e9" and got[2] == "caf\u00e9" and got[3] == "It's \"good\" -- ok..."


@needs_node
def test_typing_js_folds_unicode_spaces_and_drops_invisible_keys_like_the_server(tmp_path):
    """A Mac's Option+Space, a narrow no-break space, a thin space, a full-width space (and
    every other space of the fold table) type a space in the page as on the server; keys
    that nobody sees are dropped; a long run of marks is cut where the server cuts it."""
    spaces = [ch for ch, to in FOLDS.items() if to == " "]
    keys = ([f"a{space}b" for space in spaces]
            + ["\u2764\ufe0f", "x\u034fy\U000e0100\u3164\u180b\u115f\uffa0\u17b4z",
               "it\u1ffds", "a" + "\u0346\u0316" * 40, "q" + "\u0301\U0001d165" * 20])
    got = run_module(tmp_path, "typing.js", AS_TYPED, keys)
    assert got == [as_typed(k) for k in keys]
    assert got[:len(spaces)] == ["a b"] * len(spaces)
    assert {"\u00a0", "\u202f", "\u2009", "\u3000"} <= set(spaces)
    assert got[len(spaces):len(spaces) + 3] == ["\u2764", "xyz", "it's"]
