"""Each racer's delay, measured continuously, so the race can credit it (issue 28).

Two measures of a connection's round trip, neither taken from what a client says:
- the kernel's: TCP_INFO on the server's socket (`tcpi_min_rtt`, the smallest round
  trip TCP saw on the connection in the last few minutes). A page's script cannot
  change how its TCP stack acknowledges, and to raise this a client must slow its
  whole connection (which slows its keys just as much). Read with one getsockopt;
- the WebSocket ping's: every link is pinged by the keepalive, and seated players more
  often by this probe; the time from ping to pong. It crosses everything between the
  server and the player (a reverse proxy included), but a client can delay its pongs.

Which one counts (`Delay.rtt_ms`): the kernel's when it sees a real path (at least
PROXY_HOP_MS); else, when the kernel sees only a hop on this host or LAN (the usual
deployment behind a reverse proxy, where it measures ~0), the pongs'. So a client
connected directly gains nothing by delaying its pongs; behind a proxy it can gain at
most the credit cap (docs/security.md says why that residual is acceptable).

The race takes the smallest round trip measured while it runs (server/core/race.py
`lag_credit_ms`); this module only measures and hands the values over, in plain calls.
A player connected to another process of a cluster (its edge) is measured there, as
a local one is, when its room's owner asks (on the owner's schedule: the owner knows
the races); the edge sends the sample back over the bus (server/cluster/delays.py).
Cost: a seated player is measured PROBES_PER_RACE times per race, PROBE_S apart (the
countdown's first seconds): a getsockopt, and a ping when the pongs count. The smallest
round trip is what counts, and after a few more samples rarely lower it; the keepalive's
pings every 20 s are timed too. Nothing per input. `python -m bench.lag` reports it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct

from server.core.race import FINISHED

log = logging.getLogger("typerace")

PROBE_S = 2.0           # how often a seated player's delay is read
PROBES_PER_RACE = 3     # times a player is measured per race (and per wait before one)
PROXY_HOP_MS = 2.0      # a kernel round trip below this is a hop on this host or LAN
# struct tcp_info (linux/tcp.h): the u32 fields tcpi_rtt and tcpi_min_rtt, in microseconds.
TCP_INFO = getattr(socket, "TCP_INFO", 11)
TCP_INFO_LEN = 152      # up to and including tcpi_min_rtt (Linux 4.9+)
_RTT_AT, _MIN_RTT_AT = 68, 148
_U32 = struct.Struct("=I")


def kernel_rtt_ms(sock) -> tuple[float, float] | None:
    """(smoothed rtt, min rtt) in ms from TCP_INFO, or None where there is none (not
    Linux, not TCP, a closed socket, an old kernel)."""
    if sock is None:
        return None
    try:
        raw = sock.getsockopt(socket.IPPROTO_TCP, TCP_INFO, TCP_INFO_LEN)
    except (OSError, AttributeError, ValueError):
        return None
    if len(raw) < TCP_INFO_LEN:
        return None
    rtt = _U32.unpack_from(raw, _RTT_AT)[0] / 1000
    min_rtt = _U32.unpack_from(raw, _MIN_RTT_AT)[0] / 1000
    return rtt, (min_rtt or rtt)


def link_socket(transport):
    """The socket under an event loop's transport, for getsockopt (None if it has none)."""
    try:
        return transport.get_extra_info("socket")
    except Exception:
        return None


class Schedule:
    """When a seated player is measured: PROBES_PER_RACE times per race (and per wait)."""

    __slots__ = ("race_id", "probes")

    def __init__(self):
        self.race_id = None                    # the race (None: a wait) last measured for
        self.probes = 0                        # ... and how many times

    def due(self, race_id) -> bool:
        """Whether to measure now, in the race `race_id` (None: waiting for one)."""
        if self.race_id != race_id:
            self.race_id, self.probes = race_id, 0
        if self.probes >= PROBES_PER_RACE:
            return False
        self.probes += 1
        return True


class Delay(Schedule):
    """One connection's measured round trip (each link has one: `link.delay`)."""

    __slots__ = ("sock", "ping_ms", "kernel_ms", "fresh")

    def __init__(self, sock=None):
        super().__init__()
        self.sock = sock
        self.ping_ms: float | None = None      # the last ping's round trip
        self.kernel_ms: float | None = None    # TCP's min rtt, as last read
        self.fresh = False                     # a sample came since the lobby was told

    def pong(self, rtt_ms: float) -> None:
        self.ping_ms = rtt_ms
        self.fresh = True

    def read_kernel(self) -> None:
        measured = kernel_rtt_ms(self.sock)
        if measured is not None:
            self.kernel_ms = measured[1]
            self.fresh = True

    @property
    def wants_ping(self) -> bool:
        """The pongs count: the kernel sees no real path (or cannot be asked)."""
        return self.kernel_ms is None or self.kernel_ms < PROXY_HOP_MS

    def rtt_ms(self) -> float | None:
        """The round trip that counts (see the module's docstring); None until known."""
        if not self.wants_ping:
            return self.kernel_ms
        return self.ping_ms


class LagProbe:
    """One task: every PROBE_S, each seated player's delay is read and handed to the
    lobby (room state, the race's credit) and to the /metrics histogram. Off when the
    config says so (`measure_delay`: only bench.lagcost turns it off, to weigh it)."""

    def __init__(self, lobby, conns: dict, metrics, live, on: bool = True,
                 every_s: float = PROBE_S):
        self.lobby = lobby
        self.conns = conns             # player_id -> its live connection
        self.metrics = metrics
        self.live = live               # its cluster: relayed players' delays
        self.on = on                   # Config.measure_delay
        self.every_s = every_s
        self._task: asyncio.Task | None = None
        self._remote: dict[str, Schedule] = {}   # seated here, connected to another process
        self._asked: dict[str, object] = {}      # connected here, measured for its owner

    def start(self) -> None:
        if self.on:
            self._task = asyncio.create_task(self._run(), name="lag-probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                self.probe(asyncio.get_running_loop().time())
            except Exception:
                log.exception("measuring delays failed")
            await asyncio.sleep(self.every_s)

    def probe(self, now: float) -> None:
        lobby, conns, observe = self.lobby, self.conns, self.metrics.rtt_seconds.observe
        remote, self._remote = self._remote, {}
        for player_id, room in lobby.seated_players():
            conn = conns.get(player_id)
            if conn is None:
                continue              # within its grace
            race = room.race
            race_id = race.race_id if race is not None and race.state != FINISHED else None
            if conn.edge is not None:     # its edge measures it (`asked` there)
                schedule = self._remote[player_id] = remote.get(player_id) or Schedule()
                if schedule.due(race_id):
                    self.live.cluster.ask_delay(conn)
                continue
            link = conn.link
            delay = getattr(link, "delay", None)
            if delay is None:
                continue              # not open yet
            if delay.due(race_id):
                self._measure(link, delay, now)
            if delay.fresh:
                delay.fresh = False
                rtt = delay.rtt_ms()
                if rtt is not None:
                    lobby.measured(player_id, rtt)
                    observe(rtt / 1000)
        if self._asked:
            self._answer(observe)

    def asked(self, conn) -> None:
        """The owner of `conn`'s room, another process, wants its delay: measured as a
        seated player's is; the sample goes back when it comes (now, or at its pong)."""
        link = conn.link
        delay = getattr(link, "delay", None)
        if self._task is None or delay is None:
            return
        self._measure(link, delay, asyncio.get_running_loop().time())
        self._asked[conn.player_id] = conn
        self._answer(self.metrics.rtt_seconds.observe)

    def _answer(self, observe) -> None:
        """Asked-for samples that came, to their rooms' owners; an asked player whose
        sample cannot come any more (no pong awaited, or closed) is forgotten."""
        for player_id, conn in list(self._asked.items()):
            link = conn.link
            if link.pong_due and link.open:
                continue                  # the sample that counts may be its pong
            delay = link.delay
            if delay.fresh:
                delay.fresh = False
                rtt = delay.rtt_ms()
                if rtt is not None:
                    self.live.cluster.tell_delay(conn, rtt)
                    observe(rtt / 1000)
            del self._asked[player_id]

    @staticmethod
    def _measure(link, delay: Delay, now: float) -> None:
        """One measure: the kernel's round trip, and a ping when the pongs count."""
        delay.read_kernel()
        if delay.wants_ping and link.open and not link.pong_due:
            link.keepalive_at = now   # a ping: the keepalive's timeout runs from here
            link.ping()
