"""What an ordinary keyboard types: the fold of typographic characters. Pure.

Passages come from books, word processors and web pages, full of characters that a
keyboard has no key for: curly quotes, dashes, an ellipsis, invisible soft hyphens.
`fold` turns each into what a keyboard types for it (FOLDS, documented as a table in
protocol/REFERENCE.md; every Unicode space is a space), drops the characters nobody can
see (IGNORABLE) and composes the result (Unicode NFC), so "Cafe" + U+0301 is the "Café"
a keyboard sends. It is linear in its input, whatever the input (a client sends it). Letters, accents and other scripts are left as they are: a
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
    # Spaces: every Unicode space (category Zs) is the space bar's. A passage turns
    # them into spaces anyway (server/core/texts.py); folding keys too lets a Mac's
    # Option+Space (U+00A0), a French keyboard's narrow no-break space or a Japanese
    # IME's full-width space type a space.
    **{chr(c): " " for c in (0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F,
                             0x3000)},
    "\u2800": " ",     # BRAILLE PATTERN BLANK: the space of braille text, and looks it
}

# Zero width non-joiner and joiner: letters of Persian, Hindi and other scripts need them
# inside words (their keyboards have keys for them); outside a word they do nothing.
JOINERS = "\u200C\u200D"

# Invisible by definition: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties
# .txt), as inclusive ranges. Variation selectors (U+FE0F after an emoji), the combining
# grapheme joiner, Hangul fillers, Mongolian selectors, Khmer inherent vowels, tags:
# nobody can see them, so nobody types them. Each is dropped like the invisible
# characters of FOLDS, except the JOINERS (kept inside words).
IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200B), (0x200E, 0x200F),
    (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)

# Combining marks in a row: Unicode's stream-safe text format (UAX #15) allows 30 after
# a character; no script needs more. Normalizing (NFC) sorts each run of marks by
# insertion, in time quadratic in its length (20,000 marks took 0.6 s), so a run is cut
# to MARKS_MAX before it is normalized. NON_STARTERS are the characters NFC sorts: a
# non-zero combining class, or a decomposition that starts with one.
MARKS_MAX = 30


def _scan() -> tuple[tuple[tuple[int, int], ...], dict[str, str]]:
    """From Unicode's data: the ranges of NON_STARTERS, and the characters that NFC
    turns into one of the fold table's (U+1FFD, Greek oxia, is canonically U+00B4, an
    acute accent)."""
    ranges: list[list[int]] = []
    becomes: dict[str, str] = {}
    for code in range(0xA0, 0x30000):       # nothing either way beyond (Unicode 15)
        ch = chr(code)
        decomposition = unicodedata.decomposition(ch)
        if decomposition and not decomposition.startswith("<"):      # canonical
            first = _first_of(ch)
            if unicodedata.combining(first):
                _extend(ranges, code)
            elif " " not in decomposition and ch not in FOLDS and (
                    first in FOLDS or _ignorable(first)):            # a singleton
                becomes[ch] = first
        elif unicodedata.combining(ch):
            _extend(ranges, code)
    return tuple((lo, hi) for lo, hi in ranges), becomes


def _first_of(ch: str) -> str:
    """The first character of `ch`'s canonical decomposition, fully decomposed."""
    while True:
        decomposition = unicodedata.decomposition(ch)
        if not decomposition or decomposition.startswith("<"):
            return ch
        ch = chr(int(decomposition.split()[0], 16))


def _extend(ranges: list[list[int]], code: int) -> None:
    if ranges and ranges[-1][1] == code - 1:
        ranges[-1][1] = code
    else:
        ranges.append([code, code])


def _ignorable(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in IGNORABLE) and ch not in JOINERS


NON_STARTERS, _CANONICALLY_FOLDED = _scan()
# The characters that NFC makes into one of the table's, with what they fold to: folded
# before NFC like the one they become, so no fold is needed after it.
CANONICAL_FOLDS = {ch: nfc.translate({ord(c): FOLDS.get(c) for c in nfc})
                   for ch, nfc in _CANONICALLY_FOLDED.items()}

# Folding is a table lookup per character (str.translate): linear, whatever the text.
_TABLE = str.maketrans({
    **{chr(c): None for lo, hi in IGNORABLE for c in range(lo, hi + 1)},
    **{ch: to or None for ch, to in FOLDS.items()},
    **{ch: to or None for ch, to in CANONICAL_FOLDS.items()},
})

# Looking for a long run is a regex over a class of BMP characters (a bitmap: fast);
# the few non-starters beyond the BMP stand in as U+0300 in a probe of the same length.
_MARKS = "".join(f"\\u{lo:04x}-\\u{hi:04x}" for lo, hi in NON_STARTERS if hi <= 0xFFFF)
_PROBE = str.maketrans({chr(c): "\u0300" for lo, hi in NON_STARTERS if lo > 0xFFFF
                        for c in range(lo, hi + 1)})
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")
# Starts only where a run starts (the look-behind): each character is looked at about
# twice, whatever the runs.
_LONG_MARK_RUN = re.compile(f"(?<![{_MARKS}])[{_MARKS}]{{{MARKS_MAX + 1},}}")


def _cut_mark_runs(text: str) -> str:
    """`text` with every run of more than MARKS_MAX non-starters cut to MARKS_MAX."""
    probe = text.translate(_PROBE) if _BEYOND_BMP.search(text) else text
    pieces, at = [], 0
    for run in _LONG_MARK_RUN.finditer(probe):
        pieces.append(text[at:run.start() + MARKS_MAX])
        at = run.end()
    if not at:
        return text
    pieces.append(text[at:])
    return "".join(pieces)


def fold(text: str) -> str:
    """`text` as a keyboard types it: every FOLDS character replaced, every IGNORABLE
    one dropped, runs of combining marks cut to MARKS_MAX, then NFC. Linear in the
    length of `text` (~0.1 µs a character).

    ASCII text is returned as it is, at no cost: all of it is already typeable."""
    if text.isascii():
        return text
    text = text.translate(_TABLE)
    if not text or text.isascii():
        return text
    text = _cut_mark_runs(text)
    if unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def typeable(ch: str) -> bool:
    """A character a passage may hold besides its paragraph breaks: one a keyboard
    types (printable, or a joiner) that folding leaves as it is. Every character of a
    folded text is, except the non-printable ones that validation refuses."""
    return ((ch.isprintable() or ch in JOINERS) and ch not in FOLDS
            and not _ignorable(ch))
