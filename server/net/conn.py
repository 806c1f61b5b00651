"""One WebSocket connection and what the server knows of its player: the transport's
Session for it (server/net/transport), which hands each message to the sessions."""

from __future__ import annotations

from protocol.codec import codec_for
from server.core.ratelimit import TokenBucket
from server.net.transport import Link


class Conn:
    __slots__ = ("sessions", "link", "codec", "player_id", "name", "bucket", "rejected",
                 "join_bucket", "ip", "dropped", "closing", "counted", "queue", "hello_timer",
                 "rating", "account", "generation")
    edge = None                    # a local connection (see server.cluster.node.RemoteConn)

    def __init__(self, sessions, link: Link, bucket: TokenBucket, join_bucket: TokenBucket):
        self.sessions = sessions   # server/net/session.py Sessions
        self.link = link
        self.codec = codec_for(link.subprotocol)
        self.player_id: str | None = None
        self.name: str | None = None
        self.bucket = bucket
        self.rejected = 0          # messages refused since the bucket was last full
        self.join_bucket = join_bucket   # failed joins (unknown codes) this connection may make
        self.ip = link.ip
        self.dropped = False       # cut off as a slow consumer: gets nothing more
        self.closing = False       # being closed (flood, no hello, limits): what it sends is ignored
        self.counted = False       # held in the connection limits
        self.queue = None          # messages waiting behind one that awaits (Sessions.received)
        self.hello_timer = None    # closes the connection if no hello came in time
        self.rating: float | None = None     # for quick-race matching (server/net/ratings.py)
        self.account: str | None = None   # the account name, once logged in or registered
        self.generation = 0        # of the player's tokens (see server/core/tokens.py)

    # ---- the transport's Session ----

    def frame(self, payload) -> None:
        self.sessions.received(self, payload)

    def closed(self) -> None:
        self.sessions.closed(self)
