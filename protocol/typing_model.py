"""The authoritative typed-text model of one racer. Pure: keys in, state out.

The typed text is always `passage[:pos] + wrong`: the longest correct prefix and
the wrong characters standing after it. A wrong character blocks progress until
it is deleted, and at most MAX_WRONG may stand (further ones are counted as
keystrokes but not kept), so a player can never type far past a mistake.

A passage keeps its paragraph breaks (one BREAK between paragraphs) so that clients can
show them; a break is typed as a space or as Enter (either of BREAK_KEYS), so typing a
passage is the same as typing it on one line.
"""

from __future__ import annotations

from protocol.typeable import fold

BACKSPACE = "\b"
MAX_WRONG = 8
BREAK = "\n"               # between two paragraphs of a passage
BREAK_KEYS = (" ", "\n")    # what types a BREAK: space, or Enter


def as_typed(keys: str) -> str:
    """Keys as the passage spells them: folded like a passage (protocol/typeable.py),
    so composed and decomposed accents, a phone's curly apostrophe or its em dash type
    what the passage holds. Nearly every input is ASCII, which costs nothing here."""
    return keys if keys.isascii() else fold(keys)


class TypingState:
    __slots__ = ("passage", "pos", "wrong", "keystrokes", "correct_keystrokes")

    def __init__(self, passage: str):
        self.passage = passage          # shared reference, never copied
        self.pos = 0                    # length of the correct prefix
        self.wrong: list[str] = []      # wrong characters standing after pos
        self.keystrokes = 0             # every character key (backspace excluded)
        self.correct_keystrokes = 0

    @property
    def finished(self) -> bool:
        return self.pos == len(self.passage)

    def feed(self, keys: str) -> int:
        """Apply keys in order; return how many were applied (finishing stops early).

        O(len(keys)); no allocation of the passage.
        """
        passage, end = self.passage, len(self.passage)
        for i, ch in enumerate(keys):
            if self.pos == end:
                return i
            if ch == BACKSPACE:
                if self.wrong:
                    self.wrong.pop()
                elif self.pos > 0:
                    self.pos -= 1
                continue
            self.keystrokes += 1
            if not self.wrong and (ch == passage[self.pos] or (
                    passage[self.pos] == BREAK and ch in BREAK_KEYS)):
                self.pos += 1
                self.correct_keystrokes += 1
            elif len(self.wrong) < MAX_WRONG:
                self.wrong.append(ch)
        return len(keys)

    @property
    def wrong_text(self) -> str:
        return "".join(self.wrong)
