"""Many processes through Redis: directory, bus, relay, routing, liveness.

The app talks to "the cluster" through the interface below whether or not there is
one: `SingleProcess` is the one-process implementation (every room is here, nothing is
relayed or forwarded), `server.cluster.node.Cluster` the Redis one. So the app has no
"is there a cluster?" branches, and a single process imports nothing of Redis.

The cluster never imports the shell (server/net; tests/test_layers.py says so): the
handlers call the hooks below at the points where the cluster has something to add,
and everything the cluster uses of the app comes in through `AppPort`, handed in by
server/net/app.py: never the app itself, so what the cluster depends on is listed in
one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable


@dataclass(frozen=True)
class AppPort:
    """What the cluster may use of the app (server/net/app.py hands it in)."""

    lobby: object                                # the rooms (server/core/lobby.py)
    conns: dict                                  # player_id -> connection, local and remote
    clock: object
    delivery: object                             # frames and errors out (net/delivery.py)
    tasks: object                                # where its tasks run (net/tasks.py)
    failed_joins: object                         # a remote player's guess budget
    flush: Callable[[], None]                    # send what the lobby emitted
    typed: Callable[..., None]                   # a relayed input (net/inputs.py)
    dispatch: Callable[..., Awaitable[None]]     # a forwarded request (net/dispatch.py)
    unregister: Callable[[object], None]         # a remote player's link closed
    resume_seat: Callable[[object, int], bool]   # (conn, now_ms): back to a held seat
    measure_delay: Callable[[object], None]      # (conn): its room's owner asks (lag.py)


class SingleProcess:
    """The cluster of one: every player's room is on this process."""

    node: str | None = None

    def relay(self, conns: list, codec, frame) -> list:
        """Pass frames for remote members on to their processes; return the local ones."""
        return conns

    def forwards(self, conn) -> bool:
        """Whether this local player's room is owned by another process."""
        return False

    def forward(self, conn, message: dict) -> None:
        """Send a local player's request to the process that owns its room."""
        raise AssertionError("a single process forwards nothing")

    async def intercept(self, conn, request, message: dict) -> bool:
        """Handle a request that concerns the cluster (routing, matchmaking across
        processes); False lets the app handle it here."""
        return False

    def matched(self, conn) -> str | None:
        """A quick race is about to seat `conn`: the room a match across processes
        claimed for it (None: any room here)."""
        return None

    async def quick_race_joined(self, conn, room, prefer: str | None) -> None:
        """`conn` sits in the quick-race `room` (`prefer` as `matched` said): the room
        must be open to the other processes before anyone hears of it."""

    async def admitted(self, conn, returning: bool) -> None:
        """A local connection said hello or logged in (its seat here, if any, already
        resumed); a `returning` player may hold a seat on another process."""

    async def other_races(self) -> list[dict]:
        """The public races of the other processes, for `list_races`."""
        return []

    async def room_created(self, room) -> None:
        """A private room's codes must resolve everywhere before its host sees them."""

    def rating_changed(self, conn) -> None:
        """A player's rating was refreshed here; a remote player's edge must learn it
        (it matches the player's next quick race)."""

    def ask_delay(self, conn) -> None:
        """A seated player connected to another process is due a measure of its delay
        (server/net/lag.py): its edge takes it and tells it back (`tell_delay`)."""
        raise AssertionError("a single process has no players connected elsewhere")

    def tell_delay(self, conn, rtt_ms: float) -> None:
        """The delay of a local player, measured because its room's owner asked."""
        raise AssertionError("a single process is asked for no delays")

    def disconnected(self, conn) -> None:
        """A local connection closed (after the app unregistered it)."""

    async def stop(self) -> None:
        pass
