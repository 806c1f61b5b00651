"""How many texts players may write: `--texts-per-hour` (a third of them at once),
counted per player AND per client address.

Per player alone is no bound: a new identity is one `hello` away, and one address
reconnecting every ten texts once wrote 23,200 texts (161 MB) in 20 s. Per address
alone would let one identity write from many addresses. A person writes a few texts
an hour; a class behind one NAT shares its address's quota (raise the flag for one).
With --workers, each process counts its own.
"""

from __future__ import annotations

from server.net.limits import Quota


class TextQuota:
    def __init__(self, per_hour: float):
        self.per_hour = per_hour
        burst = max(1.0, per_hour / 3)
        self.by_player = Quota(per_hour / 60, burst)
        self.by_address = Quota(per_hour / 60, burst)

    def take(self, player_id: str, ip: str, now: float) -> str | None:
        """Spend one text of the player's and of its address's; when either has none
        left, spend nothing and return why (the message for `rate_limited`)."""
        if not self.by_address.allowed(ip, now):
            return (f"many texts were written from your address just now: "
                    f"{self.per_hour:g} an hour at most; try again later")
        if not self.by_player.take(player_id, now):
            return (f"you have written many texts just now: {self.per_hour:g} an hour "
                    f"at most; try again later")
        self.by_address.take(ip, now)
        return None
