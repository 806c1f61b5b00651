"""What this process has written to the directory about the rooms it owns, kept in step
with its lobby: codes and seated players (so any process finds a room or a returning
player's seat), open public rooms with their free seats (for matchmaking), and the
summaries `list_races` shows. Changes are marked as they happen and written by one
task, one batch at a time.
"""

from __future__ import annotations

import asyncio
import collections
import logging

import msgpack

from protocol.codes import RoomState
from server.cluster.directory import HEARTBEAT_S, Directory, loc_fields
from server.store.redis_adapter import RedisError

log = logging.getLogger("typerace.cluster")

OPEN_FOREVER = 10 ** 15    # "joinable until" of a room that is still waiting


class Registry:
    def __init__(self, lobby, clock, directory: Directory):
        self.lobby = lobby
        self.clock = clock
        self.directory = directory
        self._registered: dict[str, list[str]] = {}     # room_id -> loc fields
        self._open: dict[str, tuple[int, int, int]] = {}   # room_id -> (seats, until, since)
        # room_id -> the players (and ratings) its open entry names, as far as we know:
        # seated ones, and those whose claim on it we have seen.
        self._players: dict[str, dict[str, float | None]] = {}
        self._claims: collections.Counter = collections.Counter()  # see claimed()
        self._summaries: dict[str, bytes] = {}
        self._dirty: set[str] = set()
        self._dirty_event = asyncio.Event()
        self._sync_lock = asyncio.Lock()

    def claimed(self, room_id: str, player_id: str, rating: float | None) -> None:
        """A matchmaking claim counted one seat in `room_id` that our seat count will
        not show unless the player sits there, and named the player (and rating) in it:
        the next sync subtracts the seat and drops the name if the player sits elsewhere."""
        self._claims[room_id] += 1
        if room_id in self._players:
            self._players[room_id][player_id] = rating
        self.mark(room_id)

    def forget_all(self) -> None:
        """Redis does not know us (first beat, or it restarted empty): write it all."""
        self._registered.clear()
        self._open.clear()
        self._players.clear()
        self._claims.clear()
        self._summaries.clear()

    def mark_all(self) -> None:
        for room_id in [*self.lobby.room_ids(), *self._registered, *self._open]:
            self.mark(room_id)

    async def room_created(self, room) -> None:
        """A private room's codes must resolve everywhere before its host sees them."""
        self._registered[room.room_id] = fields = loc_fields(room.room_id, room.code,
                                                             room.watch_code)
        try:
            await self.directory.register(room.room_id, fields)
        except RedisError as exc:
            log.warning("cluster: room %s not registered yet: %s", room.room_id, exc)
            self._registered.pop(room.room_id, None)
            self.mark(room.room_id)

    def mark(self, room_id: str) -> None:
        self._dirty.add(room_id)
        self._dirty_event.set()

    def mark_player(self, pid: str) -> None:
        lobby = self.lobby
        room = lobby.room_of(pid)
        if room is not None:
            self.mark(room.room_id)

    async def run(self) -> None:
        while True:
            await self._dirty_event.wait()
            self._dirty_event.clear()
            dirty, self._dirty = self._dirty, set()
            if not await self.sync_now(dirty):
                await asyncio.sleep(HEARTBEAT_S)   # the heartbeat notices Redis is back

    async def sync_now(self, room_ids: set[str]) -> bool:
        """_sync, one at a time (it compares with what was last written)."""
        async with self._sync_lock:
            try:
                await self._sync(room_ids)
                return True
            except RedisError as exc:
                log.warning("cluster: directory update failed (%s); will retry", exc)
            except Exception:
                log.exception("cluster: directory update failed")
            self._dirty |= room_ids
            return False

    async def _sync(self, room_ids: set[str]) -> None:
        """Bring the directory in line with the lobby for these rooms."""
        lobby, d = self.lobby, self.directory
        now = self.clock.now_ms()
        changed: dict[str, bytes] = {}
        removed: list[str] = []
        for room_id in room_ids:
            room = lobby.room(room_id)
            if room is None:
                fields = self._registered.pop(room_id, None)
                if fields is not None or room_id in self._open:
                    await d.unregister(room_id, fields or [])
                self._open.pop(room_id, None)
                self._players.pop(room_id, None)
                self._claims.pop(room_id, None)
                if self._summaries.pop(room_id, None) is not None:
                    removed.append(room_id)
                continue
            # Its id, codes and seated players (so a player reconnecting through any
            # process finds its seat).
            fields = loc_fields(room_id, room.code, room.watch_code) + [
                "p:" + seat.player_id for seat in room.seats.values()]
            old = self._registered.get(room_id, [])
            added = [f for f in fields if f not in old]
            gone = [f for f in old if f not in fields]
            if added:
                await d.register(room_id, added)
            if gone:
                await d.forget(room_id, gone)
            self._registered[room_id] = fields
            if not room.public:
                continue
            await self._sync_open(room, now)
            summary = (msgpack.packb(room.view(False), use_bin_type=True)
                       if room.state != RoomState.FINISHED else None)
            if summary != self._summaries.get(room_id):
                if summary is None:
                    del self._summaries[room_id]
                    removed.append(room_id)
                else:
                    self._summaries[room_id] = changed[room_id] = summary
        if changed or removed:
            await d.set_summaries(changed, removed)

    async def _sync_open(self, room, now: int) -> None:
        room_id, seats = room.room_id, len(room.seats)
        takes = self.lobby.takes_players(room, now) or (
            seats >= room.settings["max_players"] and room.race is None)
        if not takes:
            if room_id in self._open:
                await self.directory.close(room_id)
                del self._open[room_id]
            self._players.pop(room_id, None)
            self._claims.pop(room_id, None)
            return
        until = OPEN_FOREVER if room.race is None else (
            room.race.start_ms - self.lobby.config.late_join_ms)
        players = {s.player_id: s.rating for s in room.seats.values()}
        since = now - room.waited_ms(now)
        if room_id not in self._open:
            self._claims.pop(room_id, None)
            await self.directory.open(room_id, room.settings["max_players"], seats, until,
                                      since, players)
        else:
            last_seats, last_until, last_since = self._open[room_id]
            delta = seats - last_seats - self._claims.pop(room_id, 0)
            # Relative, as the seat count: a claim we have not seen keeps its name.
            known = self._players.get(room_id, {})
            changed = {p: r for p, r in players.items() if p not in known or known[p] != r}
            gone = [p for p in known if p not in players]
            if delta or until != last_until or since != last_since or changed or gone:
                await self.directory.adjust(room_id, delta, until, since, changed, gone)
        self._open[room_id] = (seats, until, since)
        self._players[room_id] = players

