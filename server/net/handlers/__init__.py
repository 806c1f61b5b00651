"""Request handlers, one module per area; each exports HANDLERS {type: handler}.

A handler is `async def handler(ctx, conn, request)`, `ctx` a HandlerContext (what
handlers may use, never the app): it asks the core to act (passing the time), replies
through `ctx.delivery`, and raises ProtocolError for a client's mistake. The dispatcher
(server/net/dispatch.py) turns errors into `error` messages and delivers what the
lobby emitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.core.accounts import LoginLimits
    from server.core.joinguard import FailedJoins
    from server.core.lobby import Lobby
    from server.core.ratelimit import Quota
    from server.net.analyses import Analyses
    from server.net.clock import Clock
    from server.net.competitions import DailyText
    from server.net.delivery import Delivery
    from server.net.library import TextLibrary
    from server.net.passwords import PasswordHasher
    from server.net.state import Live
    from server.net.textquota import TextQuota
    from server.net.weakkeys import WeakKeys
    from server.store import Store


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """Everything a handler may use, built once by server/net/app.py."""
    lobby: Lobby
    clock: Clock
    delivery: Delivery
    store: Store
    library: TextLibrary
    conns: dict                    # player_id -> its live connection
    live: Live                     # the cluster and the token secret, known once started
    passwords: PasswordHasher
    failed_joins: FailedJoins      # join and watch by code (handlers/rooms.py)
    login_limits: LoginLimits      # kept by the store (handlers/accounts.py)
    text_quota: TextQuota
    report_quota: Quota
    report_threshold: int          # --report-threshold (handlers/trust.py)
    analyses: Analyses
    weak_keys: WeakKeys
    daily: DailyText

    @property
    def cluster(self):
        return self.live.cluster

    @property
    def secret(self) -> str:
        return self.live.secret
