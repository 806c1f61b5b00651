"""The authoritative typed-text model of one racer. Pure: keys in, state out.

The typed text is always `passage[:pos] + wrong`: the longest correct prefix and
the wrong characters standing after it. A wrong character blocks progress until
it is deleted, and at most MAX_WRONG may stand (further ones are counted as
keystrokes but not kept), so a player can never type far past a mistake.
"""

from __future__ import annotations

BACKSPACE = "\b"
MAX_WRONG = 8


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
            if not self.wrong and ch == passage[self.pos]:
                self.pos += 1
                self.correct_keystrokes += 1
            elif len(self.wrong) < MAX_WRONG:
                self.wrong.append(ch)
        return len(keys)

    @property
    def wrong_text(self) -> str:
        return "".join(self.wrong)
