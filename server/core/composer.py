"""A practice passage composed for one player's weak bigrams: keybr's adaptive idea on
the server's own measurements. Pure and deterministic: the words to draw from, the
player's weakest bigrams (server/core/keystats.py `weakest`) and a seed in, a passage
out; the same three give the same passage (the shell draws the seed).

The passage is made of real words: those of the library's texts and the player's own.
Five words of every six carry one of the TARGETS weakest bigrams (the weakest three
of them, the next two one each), drawn among the words that carry it most densely;
the sixth is any word, so the other keys keep their hand in. A bigram with a space counts at a word's edge ("e " ends a word, " t" starts
one). A bigram no word contains is skipped; when none can be found, there is nothing
to compose (None) and the shell gives an ordinary passage.
"""

from __future__ import annotations

import re

PASSAGE_CHARS = 300     # about a minute of typing at 60 WPM
TARGETS = 3             # the weakest bigrams drilled
VOCABULARY_MAX = 20_000 # distinct words drawn from (the first found, in text order)
_WORD = re.compile(r"[^\W\d_]{2,14}")        # letters only: no digits or punctuation

# Of every 6 words: the weakest bigram 3 times, the second once, the third once, any once.
PATTERN = (0, 1, 0, None, 0, 2)
POOL_MIN = 40           # a bigram carried by more words draws from the densest half


class Lcg:
    """A tiny linear congruential generator (Knuth's MMIX constants): the core may not
    use `random`, and a composed passage must be the same for a seed everywhere."""

    def __init__(self, seed: int):
        self.state = seed & 0xFFFF_FFFF_FFFF_FFFF

    def below(self, n: int) -> int:
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) \
            & 0xFFFF_FFFF_FFFF_FFFF
        return (self.state >> 33) % n


def vocabulary(bodies) -> list[str]:
    """The distinct words of these texts, in the order first found, lower-cased."""
    seen: dict[str, None] = {}
    for body in bodies:
        for word in _WORD.findall(body):
            seen.setdefault(word.lower(), None)
            if len(seen) >= VOCABULARY_MAX:
                return list(seen)
    return list(seen)


def _carrying(words: list[str], bigram: str) -> list[str]:
    """The words carrying the bigram; when many do, the half where it is densest
    (occurrences per character typed), so a common bigram still comes up far more
    often than in ordinary text."""
    found = [(f" {w} ".count(bigram) / (len(w) + 1), w) for w in words if bigram in f" {w} "]
    if len(found) > POOL_MIN:
        found.sort(key=lambda item: -item[0])         # stable: ties keep text order
        found = found[:max(POOL_MIN, len(found) // 2)]
    return [w for _, w in found]


def compose(words: list[str], weak: list[str], seed: int,
            chars: int = PASSAGE_CHARS) -> str | None:
    """A passage of about `chars` characters drilling the first TARGETS bigrams of
    `weak` (weakest first) that some word carries; None when none does."""
    pools = [pool for pool in (_carrying(words, b) for b in weak) if pool][:TARGETS]
    if not pools or not words:
        return None
    rng = Lcg(seed)
    out: list[str] = []
    length = -1
    turn = 0
    while length < chars:
        target = PATTERN[turn % len(PATTERN)]
        turn += 1
        if target is not None and target >= len(pools):
            target = 0
        pool = words if target is None else pools[target]
        word = pool[rng.below(len(pool))]
        if out and word == out[-1]:
            word = pool[rng.below(len(pool))]       # a word twice in a row reads oddly
        out.append(word)
        length += len(word) + 1
    return " ".join(out)
