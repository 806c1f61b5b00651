"""A racer's inputs with their times, packed, and their playback in time order. Pure.

The race appends to a KeyLog as a racer types; results keep it (enough to replay the
race); a ghost is a saved KeyLog played back by the race clock.
"""

from __future__ import annotations

from array import array

# A racer's log is bounded by what its passage can need: KEYS_PER_CHAR keys a character
# (a typist at 50 % accuracy types each character about twice and deletes the misses:
# ~3 a character) plus KEYS_SPARE. A racer whose keys reach the budget stops there: the
# keys that reach it are applied and logged, the racer is out of the race (`dnf`), and
# nothing more is taken. So a flood of "x\b" keeps at most ~4 keys a character, not
# every key it sends (protocol/REFERENCE.md, `input`; docs/security.md).
KEYS_PER_CHAR = 4
KEYS_SPARE = 1000


def key_budget(chars: int) -> int:
    """The most keys a racer may type on a passage of `chars` characters."""
    return KEYS_PER_CHAR * chars + KEYS_SPARE


GAP_MAX = 0xFFFF        # a gap is 2 bytes: longer pauses take spacer entries
BIG = 0xFF              # a size of 1 byte: this one means "see `big`"


class KeyLog:
    """A racer's inputs with their times, packed: a racer sends ~10 inputs a second for
    minutes, and a list of (int, str) tuples costs ~110 bytes an input where this costs
    ~4: 2 for the milliseconds since the previous input, 1 for the size, the keys as
    UTF-8 (~0.7 bytes at 80 WPM). A pause of more than 65.5 s takes spacer entries of
    size 0 (a real input always has keys); an input of 255 bytes or more keeps its size
    in `big` (pastes: rare)."""

    __slots__ = ("gaps", "sizes", "keys", "big", "last_ms", "count", "key_count")

    def __init__(self):
        self.gaps = array("H")
        self.sizes = array("B")
        self.keys = bytearray()
        self.big: dict[int, int] | None = None     # entry index -> size, sizes >= 255
        self.last_ms = 0
        self.count = 0
        self.key_count = 0      # keys (characters) logged, backspaces included

    @classmethod
    def of(cls, entries) -> "KeyLog":
        """A log of saved (race_ms, keys) entries, in time order."""
        log = cls()
        for race_ms, keys in entries:
            log.append(race_ms, keys)
        return log

    def append(self, race_ms: int, keys: str) -> None:
        data = keys.encode()
        gap = race_ms - self.last_ms            # >= 0: the server's clock never goes back
        self.last_ms = race_ms
        while gap > GAP_MAX:
            self.gaps.append(GAP_MAX)
            self.sizes.append(0)
            gap -= GAP_MAX
        self.gaps.append(gap)
        size = len(data)
        if size >= BIG:
            if self.big is None:
                self.big = {}
            self.big[len(self.sizes)] = size
            size = BIG
        self.sizes.append(size)
        self.keys += data
        self.count += 1
        self.key_count += len(keys)

    def __len__(self) -> int:
        return self.count

    def entries(self) -> list[tuple[int, str]]:
        playback = Playback(self)
        return [playback.take() for _ in range(self.count)]


class Playback:
    """Walks a KeyLog in time order, one input at a time: `next_ms` is the race_ms of
    the next input (None once all were taken), `take()` returns it and moves on. O(1)
    a step and nothing decoded ahead, so a ghost costs a comparison per tick until its
    next input is due."""

    __slots__ = ("log", "index", "at", "ms", "next_ms")

    def __init__(self, log: KeyLog):
        self.log = log
        self.index = 0          # the next entry of log.gaps / log.sizes
        self.at = 0             # its first byte in log.keys
        self.ms = 0             # race_ms of the entry before it
        self.next_ms = self._next()

    def _next(self) -> int | None:
        gaps, sizes = self.log.gaps, self.log.sizes
        while self.index < len(sizes):
            race_ms = self.ms + gaps[self.index]
            if sizes[self.index]:
                return race_ms
            self.ms, self.index = race_ms, self.index + 1    # a spacer: time only
        return None

    def take(self) -> tuple[int, str]:
        """The next input as (race_ms, keys); only while next_ms is not None."""
        log, index = self.log, self.index
        size = log.sizes[index]
        if size == BIG:
            size = log.big[index]
        keys = log.keys[self.at:self.at + size].decode()
        race_ms = self.next_ms
        self.at += size
        self.ms, self.index = race_ms, index + 1
        self.next_ms = self._next()
        return race_ms, keys
