"""How many texts players may write: `--texts-per-hour` (a third of them at once),
counted per player AND per client address.

Per player alone is no bound: a new identity is one `hello` away, and one address
reconnecting every ten texts once wrote 23,200 texts (161 MB) in 20 s. Per address
alone would let one identity write from many addresses. A person writes a few texts
an hour; a class behind one NAT shares its address's quota (raise the flag for one).
With --workers, each process counts its own.
"""

from __future__ import annotations

from server.core.ratelimit import BothKeys, Quota


class TextQuota(BothKeys):
    def __init__(self, per_min: float):
        self.per_hour = per_min * 60         # as the flag (--texts-per-hour) says it
        burst = max(1.0, self.per_hour / 3)
        self.by_player = Quota(per_min, burst)
        self.by_address = Quota(per_min, burst, by_address=True)
        super().__init__(self.by_player, self.by_address)

    def spend(self, player_id: str, ip: str, now: float) -> str | None:
        """Spend one text of the player's and of its address's; when either has none
        left, spend nothing and return why (the message for `rate_limited`)."""
        refusing = self.take(player_id, ip, now)
        if refusing is self.by_address:
            return (f"many texts were written from your address just now: "
                    f"{self.per_hour:g} an hour at most; try again later")
        if refusing is self.by_player:
            return (f"you have written many texts just now: {self.per_hour:g} an hour "
                    f"at most; try again later")
        return None
