"""Typed keys that the server refused, sent again in order (pure: the caller passes the
time in; client_demo/web/resend.js is the web page's copy of the same rule).

In a cluster, while Redis is away, the process a racer is connected to holds the keys
it relays to the race's process up to a bound; past it, it refuses an `input` with the
error `unavailable` (protocol/REFERENCE.md): that input was not applied, and its keys
must be sent again before any typed later. An `input` that was taken gets no reply, so:

- every `input` carries an `id`, and its keys are kept by id (`sent`) until they are
  known to be settled: an `unavailable` error with that id means refused;
- the server answers one connection's messages in order, so once a request sent after
  an input is answered (a `ping`, the "probe"), that input was taken or its refusal has
  already arrived;
- after a refusal, nothing more is sent until a probe has settled every input in flight;
  then, after a back-off (RESEND_FIRST_MS, doubling up to RESEND_MAX_MS), the refused
  keys go again, in order, with the keys typed meanwhile behind them, and a probe after
  them. A round with no refusal ends the trouble;
- after RESEND_GIVE_UP_MS of trouble, or when the race ends (`results`), or the seat
  changes (`joined`, `resume`, `left`, `kicked`), the held keys are dropped and counted
  in `lost`, for the client to tell its player.

One case stays out of reach without a reply to every input: inputs already in flight
when the first refusal arrives may be taken, before the refused keys, if the server
reached Redis again in that very moment (a round trip's width).
"""

from __future__ import annotations

from protocol.codes import ErrorCode
from protocol.messages import KEYS_MAX, RESEND_FIRST_MS, RESEND_GIVE_UP_MS, RESEND_MAX_MS

SENT_MAX = 256      # inputs remembered while all is well: their refusals come in a round trip
PROBE = None        # in what `take` returns: send a `ping` (and report its id to `probing`)
RACE_OVER = frozenset({"results", "joined", "resume", "left", "kicked"})


def lost_notice(keys: int) -> str:
    """What a client tells its player about keys given up on."""
    return (f"{keys} typed key{'s' if keys != 1 else ''} could not reach the race's server "
            "and were dropped; your progress is what the server has")


class Resender:
    def __init__(self) -> None:
        self.later = ""                 # typed keys not sent yet (behind any refused)
        self.refused: list[str] = []    # refused inputs' keys, in the order they were typed
        self.sent: dict[int, str] = {}  # id -> keys of inputs sent and not known settled
        self.probe: int | None = None   # the id of the `ping` awaited
        self.since: int | None = None   # when the trouble began; None: all is well
        self.retry_at = 0
        self.backoff = RESEND_FIRST_MS
        self.refusals = 0               # `unavailable` inputs, ever (for tests and bots)
        self.lost = 0                   # keys given up on; the client tells and resets it

    @property
    def holding(self) -> bool:
        """Whether keys wait for the server (the client keeps calling `take`)."""
        return self.since is not None

    def type(self, keys: str) -> None:
        self.later += keys

    def take(self, now_ms: int) -> list[str | None]:
        """What to send now, in order: the keys of one `input` each, and PROBE for a
        `ping`. Report each message's id: `sending(id, keys)`, `probing(id)`."""
        if self.since is None:
            return self._chunks([])
        if now_ms - self.since >= RESEND_GIVE_UP_MS:
            self.end()
            return self._chunks([])
        if self.probe is not None:
            return []                   # waiting to hear what became of the inputs sent
        if self.sent:
            return [PROBE]              # inputs in flight: settle them before anything
        if not self.refused:            # a round came back clean: the trouble is over
            self.since, self.backoff = None, RESEND_FIRST_MS
            return self._chunks([])
        if now_ms < self.retry_at:
            return []
        return self._chunks(self.refused) + [PROBE]

    def _chunks(self, first: list[str]) -> list[str | None]:
        later, self.later, self.refused = self.later, "", []
        return first + [later[i:i + KEYS_MAX] for i in range(0, len(later), KEYS_MAX)]

    def sending(self, rid: int, keys: str) -> None:
        self.sent[rid] = keys
        if len(self.sent) > SENT_MAX and self.since is None:
            del self.sent[next(iter(self.sent))]

    def probing(self, rid: int) -> None:
        self.probe = rid

    def heard(self, message: dict, now_ms: int) -> bool:
        """Every message from the server; True when it was about our keys."""
        kind, rid = message.get("type"), message.get("id")
        if kind in RACE_OVER or (kind == "error" and message.get("code") == ErrorCode.ROOM_LOST):
            self.end()
            return False
        if rid is None:
            return False
        if rid == self.probe:           # answered in order: every input before it settled
            self.probe = None
            self.sent = {i: k for i, k in self.sent.items() if i > rid}
            return True
        if kind == "error" and message.get("code") == ErrorCode.UNAVAILABLE and rid in self.sent:
            self._refused(rid, now_ms)
            return True
        return False

    def _refused(self, rid: int, now_ms: int) -> None:
        keys = self.sent.pop(rid)
        # Inputs sent before it were answered before it: taken, or refused already.
        self.sent = {i: k for i, k in self.sent.items() if i > rid}
        if self.since is None:
            self.since = now_ms
        if not self.refused:            # the first refusal of a round: back off
            self.retry_at = now_ms + self.backoff
            self.backoff = min(2 * self.backoff, RESEND_MAX_MS)
        self.refused.append(keys)
        self.refusals += 1

    def end(self) -> int:
        """Drop what is held (the race is over, or we gave up) and any keys not sent yet;
        returns how many keys were held back by trouble (also added to `lost`)."""
        dropped = sum(map(len, self.refused)) + len(self.later) if self.since is not None else 0
        self.lost += dropped
        self.later, self.refused, self.sent, self.probe = "", [], {}, None
        self.since, self.backoff = None, RESEND_FIRST_MS
        return dropped
