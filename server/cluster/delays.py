"""Relayed players' delays (issue 28): a player connected to one process (its edge)
racing in a room owned by another is credited its delay like a local player.

The owner keeps the schedule (it knows the races: server/net/lag.py measures a seated
player a few times a race) and asks the edge with `Measure`; the edge measures the
connection it holds, as it would a local seated player's (TCP_INFO, or the pongs
behind a proxy), and answers with `Rtt`; the owner hands it to its lobby, which shows
it in `rtt_ms` and credits it. The sample crosses only the servers' bus: the client
has no more say in it than in a local measure. Mixed into Cluster (node.py), whose
port, remote and send_soon it uses.
"""

from __future__ import annotations

from server.cluster.messages import Measure, Rtt


class RelayedDelays:
    def ask_delay(self, conn) -> None:
        """(owner) A remote player seated here is due a measure: its edge takes it."""
        self.send_soon(conn.edge, Measure(conn.player_id))

    def tell_delay(self, conn, rtt_ms: float) -> None:
        """(edge) A local player's delay, measured for the owner of its room."""
        owner = self.remote.get(conn.player_id)
        if owner is not None:
            self.send_soon(owner, Rtt(conn.player_id, rtt_ms))

    def _on_delay(self, sender: str, item) -> None:
        """A `Measure` from a room's owner, or an `Rtt` from a remote player's edge."""
        conn = self.port.conns.get(item.pid)
        if conn is None:
            return
        if type(item) is Measure:
            if conn.edge is None and self.remote.get(item.pid) == sender:
                self.port.measure_delay(conn)
        elif conn.edge == sender:
            self.port.lobby.measured(item.pid, item.rtt_ms)
