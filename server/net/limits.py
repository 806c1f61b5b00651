"""Connections per client address (an IPv6 /64 is one address: ratelimit.address_key)
and in all. (Rooms opened per address are a ratelimit.Quota; the bytes queued for one
slow reader are the transport's Link.buffered(), held to --max-send-buffer by the app's
delivery.) Plain Python, so it can be unit tested.
"""

from __future__ import annotations

from server.core.ratelimit import address_key


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
        if self.max_per_ip and self.by_ip.get(address_key(ip), 0) >= self.max_per_ip:
            return self.PER_IP
        return None

    def open(self, ip: str) -> str | None:
        """Count a new connection; returns the refusal instead when over a limit."""
        refusal = self.refusal(ip)
        if refusal is None:
            key = address_key(ip)
            self.total += 1
            self.by_ip[key] = self.by_ip.get(key, 0) + 1
        return refusal

    def close(self, ip: str) -> None:
        key = address_key(ip)
        self.total -= 1
        left = self.by_ip[key] - 1
        if left:
            self.by_ip[key] = left
        else:
            del self.by_ip[key]          # no entry per address ever seen: no slow leak
