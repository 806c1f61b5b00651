"""The lobby's rules as the operator set them (server/config.py makes one). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from server.core.integrity import MAX_WPM
from server.core.race import LAG_CAP_MS, MAX_RACE_S


@dataclass(frozen=True)
class LobbyConfig:
    max_players: int = 5
    countdown_s: int = 5
    lobby_wait_s: int = 10
    reconnect_grace_s: int = 30
    late_join_ms: int = 2000        # late joiners enter until this long before the start
    practice_countdown_s: int = 3
    idle_room_s: int = 300          # a private room with nobody connected closes after this
    finished_room_s: int = 120      # a finished quick/practice room closes after this
    max_race_s: int = MAX_RACE_S    # no race runs longer (server/core/race.py time_limit_ms)
    match_widen_ms: int = 5000      # the rating band of a quick race widens each time this
                                    # passes in a room (see server/core/matching.py)
    max_wpm: float = MAX_WPM        # a result faster than this is flagged (integrity.py)
    lag_cap_ms: int = LAG_CAP_MS    # most a racer's measured delay is credited (race.py)
