"""The saver (server/net/saving.py) on its own: the core's events of a room are saved,
then published, in the order they were made; what waited behind a slow save goes in
one transaction; a ghost's result is never saved; the saver needs nothing of a Room or
a Race, only the typed events."""

from __future__ import annotations

import asyncio

from server.core.results import RaceEnded, RaceInfo, RacerFinished, Result
from server.net.saving import ResultSaver
from server.net.tasks import Tasks
from server.store import Bests, StoreUnavailable
from tests.test_layers import ROOT, imports_of


def result(player_id: str, place: int, status: str = "finished", ghost: bool = False):
    return Result(player_id, player_id.upper(), place - 1, place, status, 60.0, 1.0,
                  10_000, 40, 40, 40, [(100, "x")], None, ghost)


INFO = RaceInfo("r1.1", "r1", "quick", 7, 1000, 3)


def finished(r: Result, at_ms: int) -> RacerFinished:
    return RacerFinished(INFO, at_ms, r, {"type": "finish", "slot": r.slot, "place": r.place})


class GatedStore:
    """Takes saves only when the test opens the gate; remembers what it was given."""
    def __init__(self):
        self.saves: list = []
        self.gate = asyncio.Event()

    async def bests_of(self, player_ids, text_id) -> dict:
        return {pid: Bests(None, None) for pid in player_ids}    # nobody has a best yet

    async def save_race(self, record) -> None:
        await self.gate.wait()
        self.saves.append((record.race_id, record.ended_ms, record.racers,
                           [r.player_id for r in record.results]))


class Published:
    """The lobby's side: what was published, in order."""
    def __init__(self):
        self.out: list = []

    def publish_finish(self, event) -> None:
        self.out.append(("finish", event.result.player_id))

    def publish_results(self, event, now_ms, bests=None) -> None:
        self.out.append(("results", [r.player_id for r in event.results]))


class Metrics:
    class races_finished:
        @staticmethod
        def inc():
            pass


class Clock:
    @staticmethod
    def now_ms():
        return 99_000


async def test_a_rooms_events_are_saved_then_published_in_order_batched_behind_a_save():
    store, lobby, tasks = GatedStore(), Published(), Tasks()
    announced = []
    saver = ResultSaver(store, lobby, Clock(), Metrics(), tasks.spawn,
                        lambda: announced.append(len(lobby.out)))
    ann, ghost, bob, cy = (result("ann", 1), result("ghost", 2, ghost=True),
                           result("bob", 3), result("cy", 4, "dnf"))
    saver.take([finished(ann, 5000)])
    await asyncio.sleep(0)
    assert lobby.out == []                         # nothing shown before it is saved
    # Meanwhile a ghost and Bob finish, and the race ends: they wait behind Ann's save.
    saver.take([finished(ghost, 6000), finished(bob, 7000)])
    saver.take([RaceEnded(INFO, 8000, 7000, (ann, ghost, bob, cy))])
    await asyncio.sleep(0)
    assert lobby.out == [] and store.saves == []
    store.gate.set()
    await tasks.wait(timeout=10)
    assert store.saves == [("r1.1", 5000, 3, ["ann"]),
                           ("r1.1", 8000, 3, ["ann", "bob", "cy"])]   # no ghost, ever
    assert lobby.out == [("finish", "ann"), ("finish", "ghost"), ("finish", "bob"),
                         ("results", ["ann", "ghost", "bob", "cy"])]
    assert announced == [1, 4]                     # delivered after each saved batch


def test_the_saver_takes_typed_events_and_never_a_room_or_a_race():
    imports = imports_of(ROOT / "server/net/saving.py")
    assert not {"server.core.room", "server.core.race"} & imports
    assert "server.core.results" in imports


class DownStore:
    """A store that fails every save (Redis away)."""
    def __init__(self):
        self.attempts = 0

    async def save_race(self, record) -> None:
        self.attempts += 1
        raise StoreUnavailable("redis away")


async def test_results_unsaved_at_stop_are_one_lost_race_and_never_shown():
    store, lobby, tasks = DownStore(), Published(), Tasks()
    saver = ResultSaver(store, lobby, Clock(), Metrics(), tasks.spawn, lambda: None)
    ann, bob = result("ann", 1), result("bob", 2, "dnf")
    saver.take([finished(ann, 5000)])
    while store.attempts < 2:                      # retried while the store is away
        await asyncio.sleep(0.01)
    saver.take([RaceEnded(INFO, 8000, 7000, (ann, bob))])   # waits behind Ann's save
    saver.stop()
    await tasks.wait(timeout=10)
    assert lobby.out == []                         # nothing shown: nothing was saved
    [lost] = saver.lost                            # one race, everyone's results in it
    assert (lost.race_id, [r.player_id for r in lost.results]) == ("r1.1", ["ann", "bob"])
