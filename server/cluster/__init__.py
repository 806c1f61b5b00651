"""Many processes through Redis: directory, bus, relay, routing, liveness.

The app talks to "the cluster" through the interface below whether or not there is
one: `SingleProcess` is the one-process implementation (every room is here, nothing is
relayed or forwarded), `server.cluster.node.Cluster` the Redis one. So the app has no
"is there a cluster?" branches, and a single process imports nothing of Redis.
"""

from __future__ import annotations


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

    async def room_created(self, room) -> None:
        """A private room's codes must resolve everywhere before its host sees them."""

    def rating_changed(self, conn) -> None:
        """A player's rating was refreshed here; a remote player's edge must learn it
        (it matches the player's next quick race)."""

    def disconnected(self, conn) -> None:
        """A local connection closed (after the app unregistered it)."""

    async def stop(self) -> None:
        pass
