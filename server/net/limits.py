"""Limits a hostile or broken client runs into: connections per address and in all,
and rooms opened per address. (The bytes queued for one slow reader are the
transport's Link.buffered(), held to --max-send-buffer by the app's delivery.)

The counters are plain Python and take the time as an argument, so they can be unit
tested.
"""

from __future__ import annotations

from server.core.ratelimit import BucketTable


class ConnectionLimits:
    """Open WebSocket connections per client address and in all (0 = no limit)."""

    FULL = "the server is full"
    PER_IP = "too many connections from your address"

    def __init__(self, max_total: int, max_per_ip: int):
        self.max_total = max_total
        self.max_per_ip = max_per_ip
        self.total = 0
        self.by_ip: dict[str, int] = {}

    def refusal(self, ip: str) -> str | None:
        """Why one more connection from `ip` would be refused, or None."""
        if self.max_total and self.total >= self.max_total:
            return self.FULL
        if self.max_per_ip and self.by_ip.get(ip, 0) >= self.max_per_ip:
            return self.PER_IP
        return None

    def open(self, ip: str) -> str | None:
        """Count a new connection; returns the refusal instead when over a limit."""
        refusal = self.refusal(ip)
        if refusal is None:
            self.total += 1
            self.by_ip[ip] = self.by_ip.get(ip, 0) + 1
        return refusal

    def close(self, ip: str) -> None:
        self.total -= 1
        left = self.by_ip[ip] - 1
        if left:
            self.by_ip[ip] = left
        else:
            del self.by_ip[ip]          # no entry per address ever seen: no slow leak


class Quota(BucketTable):
    """So many actions per minute per key: a client address, or a player (a token
    bucket per key; `burst` at once, default a minute's worth).

    Used for rooms opened per address (a player is in one room at a time, but a new
    identity is one `hello` away, and a private room outlives its creator's connection
    for a while) and for texts written (server/net/textquota.py). Wrong room codes have
    their own guard: server/core/joinguard.py.
    """

    MAX_KEYS = 100_000               # buckets kept; full ones are forgotten first, then the oldest

    def __init__(self, per_minute: float, burst: float | None = None):
        super().__init__(per_minute / 60.0, max(1.0, per_minute if burst is None else burst),
                         self.MAX_KEYS)
