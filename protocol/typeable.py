"""What an ordinary keyboard types: the fold of typographic characters. Pure.

Passages come from books, word processors and web pages, full of characters that a
keyboard has no key for: curly quotes, dashes, an ellipsis, invisible soft hyphens.
`fold` turns each into what a keyboard types for it (FOLDS, documented as a table in
protocol/REFERENCE.md) and composes the result (Unicode NFC), so "Cafe" + U+0301 is the
"Café" a keyboard sends. Letters, accents and other scripts are left as they are: a
keyboard layout types them.

The server folds a passage when it is added (server/core/texts.py) and folds typed keys
(protocol/typing_model.py `as_typed`), so a phone that types "’" for ' or "—" for --
still types the passage; the clients fold their keys with the same table.
"""

from __future__ import annotations

import re
import unicodedata

# Each character -> its keyboard form ("" drops it). Keys are all non-ASCII, so ASCII
# text never needs folding.
FOLDS: dict[str, str] = {
    # Hyphens and short dashes: one hyphen-minus.
    "\u2010": "-",      # HYPHEN
    "\u2011": "-",      # NON-BREAKING HYPHEN
    "\u2012": "-",      # FIGURE DASH
    "\u2013": "-",      # EN DASH
    "\u2043": "-",      # HYPHEN BULLET
    "\u2212": "-",      # MINUS SIGN
    # Long dashes: two hyphens, the typewriter's dash, so "word—word" stays two words.
    "\u2014": "--",     # EM DASH
    "\u2015": "--",     # HORIZONTAL BAR
    "\u2E3A": "--",     # TWO-EM DASH
    "\u2E3B": "--",     # THREE-EM DASH
    # Single quotes, apostrophes, primes: the apostrophe.
    "\u2018": "'",      # LEFT SINGLE QUOTATION MARK
    "\u2019": "'",      # RIGHT SINGLE QUOTATION MARK (the typographic apostrophe)
    "\u201A": "'",      # SINGLE LOW-9 QUOTATION MARK
    "\u201B": "'",      # SINGLE HIGH-REVERSED-9 QUOTATION MARK
    "\u2039": "'",      # SINGLE LEFT-POINTING ANGLE QUOTATION MARK
    "\u203A": "'",      # SINGLE RIGHT-POINTING ANGLE QUOTATION MARK
    "\u2032": "'",      # PRIME
    "\u2035": "'",      # REVERSED PRIME
    "\u00B4": "'",      # ACUTE ACCENT (spacing; used as an apostrophe)
    # Double quotes: the quotation mark.
    "\u201C": '"',      # LEFT DOUBLE QUOTATION MARK
    "\u201D": '"',      # RIGHT DOUBLE QUOTATION MARK
    "\u201E": '"',      # DOUBLE LOW-9 QUOTATION MARK
    "\u201F": '"',      # DOUBLE HIGH-REVERSED-9 QUOTATION MARK
    "\u00AB": '"',      # LEFT-POINTING DOUBLE ANGLE QUOTATION MARK
    "\u00BB": '"',      # RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK
    "\u2033": '"',      # DOUBLE PRIME
    "\u2036": '"',      # REVERSED DOUBLE PRIME
    # Dots, bullets, slashes.
    "\u2026": "...",    # HORIZONTAL ELLIPSIS
    "\u2022": "-",      # BULLET
    "\u2023": "-",      # TRIANGULAR BULLET
    "\u2219": "-",      # BULLET OPERATOR
    "\u25E6": "-",      # WHITE BULLET
    "\u2044": "/",      # FRACTION SLASH
    "\u2215": "/",      # DIVISION SLASH
    # Ligatures of typeset (PDF) text: their letters.
    "\uFB00": "ff", "\uFB01": "fi", "\uFB02": "fl", "\uFB03": "ffi", "\uFB04": "ffl",
    # Invisible characters that change nothing a reader sees: dropped.
    "\u00AD": "",       # SOFT HYPHEN
    "\u200B": "",       # ZERO WIDTH SPACE
    "\u2060": "",       # WORD JOINER
    "\uFEFF": "",       # ZERO WIDTH NO-BREAK SPACE (byte order mark)
    "\u200E": "",       # LEFT-TO-RIGHT MARK
    "\u200F": "",       # RIGHT-TO-LEFT MARK
    "\u061C": "",       # ARABIC LETTER MARK
    **{chr(c): "" for c in range(0x202A, 0x202F)},   # bidi embeddings and overrides
    **{chr(c): "" for c in range(0x2066, 0x206A)},   # bidi isolates
}

# Zero width non-joiner and joiner: letters of Persian, Hindi and other scripts need them
# inside words (their keyboards have keys for them); outside a word they do nothing.
JOINERS = "\u200C\u200D"

_FOLDABLE = re.compile("[" + "".join(FOLDS) + "]")


def _folded(match: re.Match) -> str:
    return FOLDS[match.group()]


def fold(text: str) -> str:
    """`text` as a keyboard types it: every FOLDS character replaced, then NFC.

    ASCII text is returned as it is, at no cost: all of it is already typeable."""
    if text.isascii():
        return text
    text = _FOLDABLE.sub(_folded, text)
    return unicodedata.normalize("NFC", text)
