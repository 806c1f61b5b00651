"""The lobby: rooms, quick-race matchmaking, codes, hosts, seats, spectators and their
races, put together from one module per job. Pure.

    lobby_state    the rooms and who is where, the messages going out, and the moves
                   every part makes (open, leave, close a room; start a countdown)
    seating        quick-race matching, joining, watching, connections
    host_controls  what only a room's host may do
    racing         inputs, results out once saved, the rooms' timers and ticks

Time comes in as `now_ms`; see lobby_state for where the messages go.
"""

from __future__ import annotations

from server.core.host_controls import HostControls
from server.core.lobby_state import ALL, PLAYERS, SPECTATORS, LobbyConfig
from server.core.racing import Racing
from server.core.seating import Seating

__all__ = ["ALL", "PLAYERS", "SPECTATORS", "Lobby", "LobbyConfig"]


class Lobby(Seating, HostControls, Racing):
    """Every room of one process; the I/O layer drains `outbox`, `direct` and `to_save`."""
