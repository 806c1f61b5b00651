"""Which saved result a practice ghost replays: looked up in the store, checked, and
handed to the pure lobby as a GhostSpec (server/core/race.py Ghost races it)."""

from __future__ import annotations

from protocol.messages import ProtocolError
from server.core.keylog import KeyLog
from server.core.room import GhostSpec
from server.store import Store


def _not_found(message: str) -> ProtocolError:
    return ProtocolError("ghost_not_found", message)


async def find_ghost(store: Store, player_id: str, ref, text_id: int | None) -> GhostSpec:
    """`ref` is "best" (the player's own best clean result on text_id), "top" (the
    text's leaderboard leader) or {race_id, slot}; a ghost must have finished."""
    name = None
    if ref == "best":
        entry = await store.personal_best(player_id, text_id)
        if entry is None:
            raise _not_found("you have no clean finished result on this text to race yet")
    elif ref == "top":
        entries = await store.leaderboard(text_id, 1)
        if not entries:
            raise _not_found("nobody has a clean finished result on this text yet")
        entry = entries[0]
    else:
        entry = None
    if entry is not None:
        race_id, name = entry["race_id"], entry["name"]
        wanted = lambda r: r.player_id == entry["player_id"]     # noqa: E731
    else:
        race_id = ref["race_id"]
        wanted = lambda r: r.slot == ref["slot"]                 # noqa: E731
    race = await store.get_race(race_id)
    result = next((r for r in race.results if wanted(r)), None) if race else None
    if result is None:
        raise _not_found("no saved result has that race_id and slot")
    if result.status != "finished" or not result.log:
        raise _not_found(f"that result did not finish ({result.status}): a ghost replays a "
                         "finished race")
    if text_id is not None and race.text_id != text_id:
        raise _not_found(f"that result is on text {race.text_id}, not on text {text_id}")
    # The log keeps the server's times; the ghost races the credited time (issue 28), so
    # its keys come that much earlier: it finishes at its saved race_ms.
    credit = max(0, result.log[-1][0] - result.race_ms)
    return GhostSpec(result.player_id, name or result.name, race.text_id,
                     KeyLog.of([(max(0, at - credit), keys) for at, keys in result.log]))
