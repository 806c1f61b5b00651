"""Race analyses for `race_analysis`: computed from the store's saved key log by the
pure core (server/core/analysis.py), kept in a small cache (a saved result never
changes, and a race's players ask for theirs together), and held to a quota per player.
A race on a hidden text is refused as `replay` refuses it (`text_not_found`).

An analysis is CPU (about 10 ms for a 10,000-character race, bench/analysis.py) on the
event loop, so the message rate alone (30/s) would let one connection spend a third of
a core asking for other players' long races; ANALYSES_PER_MINUTE bounds it, and a
cached one costs nothing against it.
"""

from __future__ import annotations

from collections import OrderedDict

from protocol.messages import ProtocolError
from protocol.codes import ErrorCode
from server.core.analysis import analyse
from server.core.ratelimit import Quota

CACHE_MAX = 256                 # analyses kept, the least recently asked for go first
ANALYSES_PER_MINUTE = 60        # computed per player (a burst of BURST at once)
BURST = 20


class Analyses:
    def __init__(self, store, library, clock):
        self.store = store
        self.library = library
        self.clock = clock
        self.quota = Quota(ANALYSES_PER_MINUTE, BURST)
        self._cache: OrderedDict[tuple[str, int], dict] = OrderedDict()

    async def view(self, race_id: str, slot: int, player_id: str) -> dict:
        """The `race_analysis` reply's fields for one saved result; ProtocolError
        race_not_found for an unknown race or a slot that did not race in it."""
        key = (race_id, slot)
        view = self._cache.get(key)
        if view is not None:
            self._cache.move_to_end(key)
        else:
            view = await self._computed(race_id, slot, player_id)
            self._cache[key] = view
            if len(self._cache) > CACHE_MAX:
                self._cache.popitem(last=False)
        if view["text_id"] is not None and view["text_id"] in await self.library.hidden():
            # As `replay` refuses it: the words and the logs would rebuild the body.
            raise ProtocolError(ErrorCode.TEXT_NOT_FOUND, "the text of that race is hidden")
        return view

    async def _computed(self, race_id: str, slot: int, player_id: str) -> dict:
        if not self.quota.take(player_id, self.clock.monotonic()):
            raise ProtocolError(ErrorCode.RATE_LIMITED, f"many analyses asked for just now: "
                                f"{ANALYSES_PER_MINUTE} a minute at most; try again shortly")
        race = await self.store.get_race(race_id)
        result = race and next((r for r in race.results if r.slot == slot), None)
        if result is None:
            raise ProtocolError(ErrorCode.RACE_NOT_FOUND, "no saved race has that id" if race is None
                                else f"no one raced in slot {slot} of that race")
        if race.passage is not None:                       # a generated passage
            body, text_id = race.passage, None
        else:
            text = await self.store.get_text(race.text_id)  # hidden ones too (see view)
            body, text_id = (text.body if text else ""), race.text_id
        return {"race_id": race_id, "slot": slot, "player_id": result.player_id,
                "name": result.name, "text_id": text_id,
                **analyse(body, result.log).view()}
