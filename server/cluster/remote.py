"""A player connected to another process, as its room's owner sees it: the same
interface as a local connection (server/net/conn.py Conn), whose frames and closes go
back to its edge over the bus."""

from __future__ import annotations

import collections

from server.cluster.messages import Close


class _RemoteLink:
    """What the app may do with a remote player's link: close it (via its edge)."""

    __slots__ = ("cluster", "conn")

    def __init__(self, cluster: "Cluster", conn: "RemoteConn"):
        self.cluster, self.conn = cluster, conn

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.cluster.send_soon(self.conn.edge, Close(self.conn.player_id, code, reason))


class RemoteConn:
    """A player connected to another process, as its room's owner sees it."""

    def __init__(self, cluster: "Cluster", edge: str, player_id: str, name: str, codec,
                 ip: str):
        self.edge = edge
        self.ip = ip                      # the client's address, as its edge saw it
        # Joins by unknown code are limited on the edge; this bucket only matters when
        # a room vanished between the edge's look-up and the owner.
        self.join_bucket = cluster.port.failed_joins.conn_bucket(cluster.port.clock.monotonic())
        self.player_id = player_id
        self.name = name
        self.codec = codec
        self.link = _RemoteLink(cluster, self)
        self.prefer: str | None = None    # the room a forwarded quick_race claimed
        self.rating: float | None = None  # as the edge knows it (server/net/ratings.py)
        self.queue: collections.deque = collections.deque()
        self.busy = False                 # a task is running this player's requests
