"""Prometheus metrics for one server (its own registry: tests run several servers in
one process). Served at GET /metrics.

Counters on the hot path are pre-bound label children (one attribute look-up and an
add, no label dict per message). Gauges of state (connections, rooms by state, ...)
are read from the server when scraped, so keeping them costs nothing in between.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from protocol.messages import SCHEMAS

CONTENT_TYPE = CONTENT_TYPE_LATEST
ROOM_STATES = ("waiting", "countdown", "racing", "finished")
INVALID = "invalid"          # messages_in label of frames that did not parse


class StateCollector:
    """Gauges computed from the live server at scrape time."""

    def __init__(self, server):
        self.server = server

    def collect(self):
        server = self.server
        lobby = server.lobby
        yield GaugeMetricFamily("typerace_connections", "open WebSocket connections",
                                value=server.limits.total)
        yield GaugeMetricFamily("typerace_players", "players with a live connection",
                                value=len(server.conns))
        yield GaugeMetricFamily("typerace_seated_players",
                                "players holding a seat (connected or within the grace period)",
                                value=len(lobby.seated))
        yield GaugeMetricFamily("typerace_spectators", "spectators watching a room",
                                value=len(lobby.watching))
        rooms = GaugeMetricFamily("typerace_rooms", "rooms by state", labels=["state"])
        counts = dict.fromkeys(ROOM_STATES, 0)
        for room in lobby.rooms.values():
            counts[room.state] = counts.get(room.state, 0) + 1
        for state, count in counts.items():
            rooms.add_metric([state], count)
        yield rooms
        yield GaugeMetricFamily("typerace_draining", "1 while shutting down",
                                value=1 if server.draining else 0)


class Metrics:
    def __init__(self, server=None):
        self.registry = registry = CollectorRegistry(auto_describe=True)
        if server is not None:
            registry.register(StateCollector(server))
        self.races_finished = Counter("typerace_races_finished", "races whose results were "
                                      "saved and published", registry=registry)
        messages_in = Counter("typerace_messages_in", "client messages by type",
                              ["type"], registry=registry)
        self.messages_in = {t: messages_in.labels(t) for t in (*SCHEMAS, INVALID)}
        self.messages_out = Counter("typerace_messages_out", "frames written to clients",
                                    registry=registry)
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
        self.tick_seconds = Histogram(
            "typerace_tick_seconds", "time to run one tick of every room and deliver it",
            buckets=(.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1),
            registry=registry)
        self.input_seconds = Histogram(
            "typerace_input_seconds", "time to handle one input message",
            buckets=(.00002, .00005, .0001, .00025, .0005, .001, .0025, .01, .1),
            registry=registry)

    def error(self, code: str):
        """The counter child of an error code (codes are few; children are cached)."""
        child = self._error_children.get(code)
        if child is None:
            child = self._error_children[code] = self._errors.labels(code)
        return child

    def render(self) -> bytes:
        return generate_latest(self.registry)
