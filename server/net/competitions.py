"""The text of the day as this process sees it: the pure rule (server/core/competition.py)
over the texts races draw from, less hidden ones, unless the operator pinned one.

The operator's pin (`python -m server admin daily-text ID`, possibly from another host)
is read from the store at most PIN_REFRESH_S old, like hidden texts (server/net/library.py),
so every process of a deployment agrees within a second without talking. A text hidden
during its day drops out of the candidates, and the day's text becomes the next one by
the rule for the rest of the day; the hidden one's board keeps its results (a race on it
that was already running still counts there)."""

from __future__ import annotations

import logging

from server.core import competition
from server.core.texts import Text
from server.store import StoreError

log = logging.getLogger("typerace")

PIN_REFRESH_S = 1.0


class DailyText:
    def __init__(self, store, library, clock):
        self.store = store
        self.library = library
        self.clock = clock
        self._pin: tuple[str, int | None] = ("", None)     # (day, pinned text id)
        self._pin_read = float("-inf")

    async def _pinned(self, day: str) -> int | None:
        now = self.clock.monotonic()
        if self._pin[0] != day or now - self._pin_read >= PIN_REFRESH_S:
            try:
                self._pin = (day, await self.store.daily_pin(day))
                self._pin_read = now
            except StoreError as exc:        # keep the last answer; read again next time
                log.warning("reading the pinned text of the day failed: %s", exc)
        return self._pin[1] if self._pin[0] == day else None

    async def text_id(self, now_ms: int) -> int | None:
        """The id of the text of the UTC day holding now_ms (None with no texts)."""
        day = competition.day_of(now_ms).isoformat()
        hidden = await self.library.hidden()
        candidates = [t for t in self.library.race_text_ids if t not in hidden]
        return competition.daily_text(now_ms, candidates, await self._pinned(day))

    async def text(self, now_ms: int) -> Text | None:
        text_id = await self.text_id(now_ms)
        return None if text_id is None else await self.library.text(text_id)
