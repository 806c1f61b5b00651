"""The passage of a weak-key practice (`practice` {weak_keys: true}): the player's
weakest bigrams from the store, words from the library's texts and the player's own,
composed by the pure core (server/core/composer.py) with a seed drawn here.

The library's words are read once per process (the library changes rarely; a text
added later joins at the next start); the player's own texts are read each time.
"""

from __future__ import annotations

import random

from server.core.composer import compose, vocabulary
from server.core.keystats import weakest
from server.core.texts import GENERATED_ID, Text

OWN_TEXTS = 100         # of the player's texts, the newest, whose words join in

NO_DATA = ("no weak keys measured yet: they come from your clean finished races, so "
           "here is an ordinary passage; race a few and ask again")
NO_WORDS = ("none of your weakest bigrams ({}) occurs in the words of the library, so "
            "here is an ordinary passage")


class WeakKeys:
    def __init__(self, store, library):
        self.store = store
        self.library = library
        self._library_words: list[str] | None = None

    async def text_for(self, player_id: str, seed: int | None = None) -> tuple[Text, str | None]:
        """(the text to race, None) or (an ordinary text, why it is not composed)."""
        kept = await self.store.key_stats(player_id)
        weak = weakest(kept[1]) if kept else []
        if not weak:
            return await self.library.random_text(), NO_DATA
        own, _ = await self.store.list_texts(0, OWN_TEXTS, player_id)
        words = list(dict.fromkeys(await self._words() + vocabulary(t.body for t in own)))
        seed = random.getrandbits(64) if seed is None else seed
        passage = compose(words, weak, seed)
        if passage is None:
            return await self.library.random_text(), NO_WORDS.format(", ".join(weak[:3]))
        return Text(GENERATED_ID, "Your weak keys", "composed for " + ", ".join(
            repr(b) for b in weak[:3]), passage, generated=True), None

    async def _words(self) -> list[str]:
        if self._library_words is None:
            texts = [await self.library.text(t) for t in self.library.race_text_ids]
            self._library_words = vocabulary(t.body for t in texts if t is not None)
        return self._library_words
