"""One WebSocket connection and what the server knows of its player, and the ready
server-to-client frame that delivery writes to many of them."""

from __future__ import annotations

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from protocol.codec import codec_for
from server.core.ratelimit import TokenBucket
from server.net.limits import client_ip

OPEN = State.OPEN


class Conn:
    __slots__ = ("ws", "codec", "player_id", "name", "bucket", "rejected", "join_bucket", "ip",
                 "dropped", "closing", "rating", "account", "generation")
    edge = None                    # a local connection (see server.cluster.node.RemoteConn)

    def __init__(self, ws: ServerConnection, bucket: TokenBucket, join_bucket: TokenBucket):
        self.ws = ws
        self.codec = codec_for(ws.subprotocol)
        self.player_id: str | None = None
        self.name: str | None = None
        self.bucket = bucket
        self.rejected = 0          # messages refused since the bucket was last full
        self.join_bucket = join_bucket   # failed joins (unknown codes) this connection may make
        self.ip = client_ip(ws)
        self.dropped = False       # cut off as a slow consumer: gets nothing more
        self.closing = False       # closed for flooding: what it still sends is ignored
        self.rating: float | None = None     # for quick-race matching (server/net/ratings.py)
        self.account: str | None = None   # the account name, once logged in or registered
        self.generation = 0        # of the player's tokens (see server/core/tokens.py)


def ws_frame(payload: bytes | str, binary: bool) -> bytes:
    """One unmasked, unfragmented server-to-client WebSocket data frame (RFC 6455 5.2)."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    head = 0x82 if binary else 0x81
    if n < 126:
        return bytes((head, n)) + payload
    if n < 65536:
        return bytes((head, 126)) + n.to_bytes(2, "big") + payload
    return bytes((head, 127)) + n.to_bytes(8, "big") + payload
