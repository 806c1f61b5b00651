"""The text library as the server uses it: loading the starter set and the operator's
--texts file at start, a bounded cache of texts by id, and drawing a text for a race.

Hidden texts (reported, or hidden by the operator's `python -m server admin` from
another process) are left out of every look-up and draw. Their ids are read again
from the store when a text is looked up or drawn and the copy is over HIDDEN_REFRESH_S
old: a hide or a restore takes effect here within a second. (Listings and text
statistics ask the store, and see it at once.)

A draw whose text the store no longer has, or made when the store has lost the mark
every load leaves (a Redis restarted without persistence starts empty; the mark is read
with the hidden texts, at most a second old), reloads the library: the starter set is seeded again into an empty
store, as on a first start, the --texts file imported again, and the cache of texts by
id dropped (ids may now name other texts). The draw is then made from what the store
now holds; if that fails too the player is told `unavailable`, never seated without
a text."""

from __future__ import annotations

import asyncio
import logging
import random

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.config import ConfigError
from server.core.texts import Text, parse_texts_file
from server.net.starter import starter_texts
from server.store import Store, StoreError, StoreUnavailable

log = logging.getLogger("typerace")

CACHE_MAX = 2000          # players' texts are many: the cache stays bounded
HIDDEN_REFRESH_S = 1.0


class TextLibrary:
    def __init__(self, store: Store, texts_file: str | None, clock):
        self.store = store
        self.texts_file = texts_file
        self.clock = clock
        self.race_text_ids: list[int] = []     # what races draw from
        self._cache: dict[int, Text] = {}
        self._hidden: set[int] = set()
        self._hidden_read = float("-inf")      # clock.monotonic() of the last read
        self._reloading = asyncio.Lock()        # many draws may miss at once: one reload
        self._emptied = False                   # the store lost its library (read with hidden)
        self.reloads = 0                        # how many times the store was found emptied

    async def load(self, now_ms: int) -> None:
        """The starter set once, on the first start (a crash in between only repeats
        an idempotent import); then the operator's --texts file, idempotent too."""
        store = self.store
        if await store.get_meta("starter_texts") is None:
            await store.add_texts(starter_texts(), now_ms)
            await store.set_meta_once("starter_texts", str(now_ms))
        if self.texts_file:
            try:
                with open(self.texts_file, encoding="utf-8") as f:
                    content = f.read()
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"--texts {self.texts_file}: can't read it as UTF-8 "
                                  f"text ({exc})") from None
            passages = parse_texts_file(content, self.texts_file.rsplit("/", 1)[-1])
            if not passages:
                raise ConfigError(f"--texts {self.texts_file}: no passages found (passages "
                                  "are separated by blank lines)")
            self.race_text_ids = await store.add_texts(passages, now_ms)
        else:
            self.race_text_ids = await store.library_text_ids()

    async def hidden(self) -> set[int]:
        """Ids of the hidden texts, at most HIDDEN_REFRESH_S old."""
        now = self.clock.monotonic()
        if now - self._hidden_read >= HIDDEN_REFRESH_S:
            self._hidden_read = now
            try:
                self._hidden = await self.store.hidden_text_ids()
                # A draw served from the cache would not notice a store emptied meanwhile:
                # the mark every load leaves tells (and costs one read a second at most).
                self._emptied = await self.store.get_meta("starter_texts") is None
            except StoreError as exc:     # keep the last copy; read again next time
                self._hidden_read = float("-inf")
                log.warning("reading the hidden texts failed: %s", exc)
        return self._hidden

    def hidden_now(self, text_id: int) -> None:
        """A text this process saw hidden (reports): out at once, not within a second."""
        self._hidden.add(text_id)

    async def text(self, text_id: int) -> Text | None:
        """A text players may see: None when unknown or hidden."""
        if text_id in await self.hidden():
            return None
        text = self._cache.get(text_id)
        if text is None:
            text = await self.store.get_text(text_id)
            if text is not None:
                if len(self._cache) >= CACHE_MAX:
                    self._cache.clear()
                self._cache[text_id] = text
        return text

    async def random_text(self, other_than: int | None = None) -> Text:
        """A race text drawn at random; never None (see the module's docstring)."""
        drawn_from = self.race_text_ids
        await self.hidden()
        text = None if self._emptied else await self._draw(other_than)
        if text is None:
            await self._reload(drawn_from)
            text = await self._draw(other_than)
        if text is None:
            raise StoreUnavailable("the store has lost its race texts")
        return text

    async def _draw(self, other_than: int | None) -> Text | None:
        hidden = await self.hidden()
        shown = [t for t in self.race_text_ids if t not in hidden]
        choices = [t for t in shown if t != other_than] or shown
        if not choices:
            raise ProtocolError(ErrorCode.TEXT_NOT_FOUND, "every race text is hidden; ask the "
                                "operator to restore some")
        return await self.text(random.choice(choices))

    async def _reload(self, drawn_from: list[int]) -> None:
        """The store lost a race text: load the library again, once for every draw that
        missed with the same list."""
        async with self._reloading:
            if self.race_text_ids is not drawn_from:
                return                   # another draw reloaded it meanwhile
            self.reloads += 1
            log.warning("a race text is missing from the store (restarted empty?): "
                        "loading the library again")
            self._cache.clear()
            self._hidden_read = float("-inf")
            self._emptied = False
            await self.load(self.clock.now_ms())

    async def chosen(self, text_id: int | None, other_than: int | None = None) -> Text:
        """The text a player asked for, or a random one when none was named."""
        if text_id is None:
            return await self.random_text(other_than)
        text = await self.text(text_id)
        if text is None:
            raise ProtocolError(ErrorCode.TEXT_NOT_FOUND, f"no text has id {text_id}")
        return text
