"""The text library as the server uses it: loading the starter set and the operator's
--texts file at start, a bounded cache of texts by id, and drawing a text for a race."""

from __future__ import annotations

import random

from protocol.messages import ProtocolError
from server.config import ConfigError
from server.core.texts import Text, parse_texts_file
from server.net.starter import starter_texts
from server.store import Store

CACHE_MAX = 2000          # players' texts are many: the cache stays bounded


class TextLibrary:
    def __init__(self, store: Store, texts_file: str | None):
        self.store = store
        self.texts_file = texts_file
        self.race_text_ids: list[int] = []     # what races draw from
        self._cache: dict[int, Text] = {}

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

    async def text(self, text_id: int) -> Text | None:
        text = self._cache.get(text_id)
        if text is None:
            text = await self.store.get_text(text_id)
            if text is not None:
                if len(self._cache) >= CACHE_MAX:
                    self._cache.clear()
                self._cache[text_id] = text
        return text

    async def random_text(self, other_than: int | None = None) -> Text:
        choices = [t for t in self.race_text_ids if t != other_than] or self.race_text_ids
        return await self.text(random.choice(choices))

    async def chosen(self, text_id: int | None, other_than: int | None = None) -> Text:
        """The text a player asked for, or a random one when none was named."""
        if text_id is None:
            return await self.random_text(other_than)
        text = await self.text(text_id)
        if text is None:
            raise ProtocolError("text_not_found", f"no text has id {text_id}")
        return text
