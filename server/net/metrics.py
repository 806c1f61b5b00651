"""Prometheus metrics for one server (its own registry: tests run several servers in
one process). Served at GET /metrics.

What the hot path counts (messages in and out, input and tick times) is kept in plain
ints and lists, read when scraped: prometheus_client's own counters take a lock per
`inc` (about a microsecond, several times per input). Rare events use its counters.
Gauges of state (connections, rooms by state, ...) are read from the server when
scraped, so keeping them costs nothing in between.
"""

from __future__ import annotations

from bisect import bisect_left

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.utils import floatToGoString

from protocol.codes import RoomState
from protocol.messages import SCHEMAS

CONTENT_TYPE = CONTENT_TYPE_LATEST
ROOM_STATES = tuple(RoomState)
INVALID = "invalid"          # messages_in label of frames that did not parse


class StateCollector:
    """Gauges computed from the live server at scrape time."""

    def __init__(self, lobby, limits, conns: dict):
        self.lobby = lobby
        self.limits = limits       # server/net/limits.py ConnectionLimits
        self.conns = conns         # player_id -> its live connection

    def collect(self):
        lobby = self.lobby
        _, seated, spectators = lobby.counts()
        yield GaugeMetricFamily("typerace_connections", "open WebSocket connections",
                                value=self.limits.total)
        yield GaugeMetricFamily("typerace_players", "players with a live connection",
                                value=len(self.conns))
        yield GaugeMetricFamily("typerace_seated_players",
                                "players holding a seat (connected or within the grace period)",
                                value=seated)
        yield GaugeMetricFamily("typerace_spectators", "spectators watching a room",
                                value=spectators)
        rooms = GaugeMetricFamily("typerace_rooms", "rooms by state", labels=["state"])
        counts = dict.fromkeys(ROOM_STATES, 0)
        for room in lobby.all_rooms():
            counts[room.state] = counts.get(room.state, 0) + 1
        for state, count in counts.items():
            rooms.add_metric([state], count)
        yield rooms
        yield GaugeMetricFamily("typerace_draining", "1 while shutting down",
                                value=1 if lobby.draining else 0)


class Tally:
    """A counter for one thread (the event loop's): a plain int."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0

    def inc(self, amount: int = 1) -> None:
        self.value += amount


class Timings:
    """A histogram for one thread: counts per bucket, summed up when scraped."""

    __slots__ = ("name", "doc", "bounds", "counts", "total")

    def __init__(self, name: str, doc: str, bounds: tuple[float, ...]):
        self.name, self.doc, self.bounds = name, doc, bounds
        self.counts = [0] * (len(bounds) + 1)       # the last one: above every bound
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.total += seconds

    def family(self) -> HistogramMetricFamily:
        buckets, seen = [], 0
        for bound, count in zip((*map(floatToGoString, self.bounds), "+Inf"), self.counts):
            seen += count
            buckets.append((bound, seen))
        return HistogramMetricFamily(self.name, self.doc, buckets=buckets,
                                     sum_value=self.total)


class HotCollector:
    """Exports the plain counters and timings of the hot path."""

    def __init__(self, metrics: "Metrics"):
        self.metrics = metrics

    def collect(self):
        m = self.metrics
        messages_in = CounterMetricFamily("typerace_messages_in", "client messages by type",
                                          labels=["type"])
        for kind, tally in m.messages_in.items():
            messages_in.add_metric([kind], tally.value)
        yield messages_in
        yield CounterMetricFamily("typerace_messages_out", "frames written to clients",
                                  value=m.messages_out.value)
        yield m.tick_seconds.family()
        yield m.input_seconds.family()
        yield m.rtt_seconds.family()


class Metrics:
    def __init__(self, gauges: StateCollector | None = None):
        self.registry = registry = CollectorRegistry(auto_describe=True)
        if gauges is not None:
            registry.register(gauges)
        self.races_finished = Counter("typerace_races_finished", "races whose results were "
                                      "saved and published", registry=registry)
        self.messages_in = {t: Tally() for t in (*SCHEMAS, INVALID)}
        self.messages_out = Tally()
        self._errors = Counter("typerace_errors", "error messages sent, by code", ["code"],
                               registry=registry)
        self._error_children: dict = {}
        self.rate_limited = Counter("typerace_rate_limited", "messages refused by the "
                                    "message rate limit", registry=registry)
        dropped = Counter("typerace_dropped_clients", "connections closed by the server, "
                          "by reason", ["reason"], registry=registry)
        self.dropped_slow = dropped.labels("slow_consumer")
        self.dropped_flood = dropped.labels("flood")
        self.dropped_no_hello = dropped.labels("no_hello")
        refused = Counter("typerace_refused_connections", "WebSocket handshakes refused by "
                          "a connection limit", ["reason"], registry=registry)
        self.refused_per_ip = refused.labels("per_ip")
        self.refused_total = refused.labels("total")
        self.tick_seconds = Timings(
            "typerace_tick_seconds", "time to tick one phase of the rooms (a quarter of the interval) and deliver it",
            (.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1))
        self.input_seconds = Timings(
            "typerace_input_seconds", "time to handle one input message",
            (.00002, .00005, .0001, .00025, .0005, .001, .0025, .01, .1))
        self.rtt_seconds = Timings(
            "typerace_rtt_seconds", "seated players' measured round trips, one sample per "
            "player every few seconds (server/net/lag.py)",
            (.005, .01, .025, .05, .1, .15, .2, .3, .5, .75, 1, 1.5, 2.5))
        registry.register(HotCollector(self))

    def error(self, code: str):
        """The counter child of an error code (codes are few; children are cached)."""
        child = self._error_children.get(code)
        if child is None:
            child = self._error_children[code] = self._errors.labels(code)
        return child

    def render(self) -> bytes:
        return generate_latest(self.registry)
