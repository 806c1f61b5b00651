"""Every knob in one frozen dataclass, from CLI flags and TYPERACE_* environment.

A flag wins over its environment variable, which wins over the default. Each field's
metadata holds its help text; the parser is generated from the dataclass so a new
knob is one line here.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from dataclasses import dataclass, field, fields

from server.core.integrity import MAX_WPM
from server.core.lobby_config import LobbyConfig
from server.core.matching import BAND
from server.core.race import LAG_CAP_MS, MAX_RACE_S
from server.core.tokens import secret_weakness
from server.store.folding import FOLD_DELAY_S


def knob(default, help: str, minimum=None, maximum=None, choices=None, repeat=False):
    return field(default=default, metadata={"help": help, "min": minimum, "max": maximum,
                                            "choices": choices, "repeat": repeat})


def internal(default):
    """A setting the server gives itself, never a flag or an environment variable."""
    return field(default=default, metadata={"internal": True})


def flags() -> list:
    """Config's fields that are flags (and TYPERACE_* variables), in order."""
    return [f for f in fields(Config) if not f.metadata.get("internal")]


@dataclass(frozen=True)
class Config:
    host: str = knob("127.0.0.1", "address to listen on")
    port: int = knob(8765, "port to listen on (0 picks a free one)", 0, 65535)
    db: str = knob("./typerace.db", "SQLite file (created if missing; its folder must exist "
                                     "and be writable)")
    texts: str | None = knob(None, "UTF-8 file of passages separated by blank lines; "
                                   "when given, races draw only from these")
    countdown_s: int = knob(5, "countdown before a race, seconds", 0, 60)
    lobby_wait_s: int = knob(10, "how long a lone quick-race player waits before racing alone",
                             0, 600)
    match_widen_s: float = knob(5.0, f"quick races seat rated players within a factor of "
                                f"{BAND:g} of each other's rating; each time a room's players "
                                f"have waited this long, the band widens by {BAND:g} again, "
                                "seconds", 0.1, 3600)
    tick_hz: int = knob(10, "progress ticks per second while racing", 1, 60)
    max_players: int = knob(5, "seats in a quick-race room (and default for private rooms)",
                            2, 100)
    redis_url: str | None = knob(None, "redis://[:password@]host[:port][/db] shared by many "
                                       "processes: texts, results, statistics, leaderboards "
                                       "(and the token secret) live there instead of --db; "
                                       "rooms, codes and matchmaking are shared through it")
    secret: str | None = knob(None, "secret that signs player tokens (default: generated "
                                    "once and kept in the database)")
    route_tag: int | None = knob(None, "this process's tag for a load balancer: every room "
                                       "code it makes starts with the tag's character, so "
                                       "the balancer sends a room's players to it "
                                       "(deploy/haproxy.cfg; each process its own, 0-31)",
                                 0, 31)
    reconnect_grace_s: int = knob(30, "how long a dropped racer's seat is held, seconds",
                                  0, 3600)
    idle_room_s: int = knob(300, "a private room with nobody connected closes after this, "
                                 "seconds", 0, 86400)
    fold_delay_s: float = knob(FOLD_DELAY_S, "per-key statistics and points are folded from saved "
                                    "results this long after a save, in batches (a read "
                                    "of them folds what is pending first), seconds",
                               0, 3600)
    # Per connection and per account name, the guess limits are promises to players
    # (docs/security.md: ~1,440 password guesses a day), not knobs; tests set them. The
    # per-address bursts stay flags: a school or office behind one address needs more.
    join_fail_burst: int = internal(5)          # unknown codes in a row, per connection
    join_fail_ip_burst: int = knob(20, "join/watch attempts with an unknown code one client "
                                       "address may make in a row before `rate_limited` "
                                       "(raise it where many players share one address)",
                                   1, 100000)
    join_fail_per_min: float = internal(10.0)   # regained per minute, per connection and IP
    login_fail_burst: int = internal(5)         # failed logins in a row, per account name
    login_fail_ip_burst: int = knob(20, "failed logins one client address may make in a "
                                        "row before `rate_limited` (raise it where many "
                                        "players share one address)", 1, 100000)
    login_fail_per_min: float = internal(1.0)   # regained per minute, per name and per IP
    report_threshold: int = knob(3, "different players whose reports hide a player-written "
                                    "text", 1, 1_000_000)
    max_wpm: int = knob(MAX_WPM, "sustained speed above which a result is flagged", 50, 10000)
    lag_cap_ms: int = knob(LAG_CAP_MS, "most a finisher's time is credited for its measured "
                           "delay (half its round trip), ms: covers honest round trips up to "
                           "500 ms, and is all a client faking delay can gain", 0, 5000)
    # The lag probe (server/net/lag.py) runs; off only where bench.lagcost weighs what
    # measuring costs: a server that never measures credits nothing.
    measure_delay: bool = internal(True)
    practice_countdown_s: int = knob(3, "countdown before a practice race, seconds (0: the "
                                     "race starts at once)", 0, 60)
    max_race_s: int = knob(MAX_RACE_S, "longest a race may run, seconds: a race gets 30 s "
                           "plus 0.8 s a character of its text, up to this (the default "
                           "lets a 30 WPM typist finish the longest text)", 60, 7 * 86400)
    max_frame: int = knob(65536, "largest frame accepted, bytes (larger: close 1009)",
                          1024, 16 * 1024 * 1024)
    msg_rate: float = knob(30.0, "messages per second a connection may send (sustained)",
                           1, 100000)
    msg_burst: int = knob(60, "messages a connection may send in a burst", 1, 100000)
    hello_timeout_s: float = knob(10.0, "a connection that sends no hello is closed after this",
                                  0.1, 3600)
    workers: int = knob(1, "processes to run on this host behind the port, each room's "
                           "players on the room's own (needs --redis-url when above 1; "
                           "each takes its own route tag from --route-tag on)", 1, 32)
    # A --workers worker listens on no port: its supervisor hands it the connections
    # over this Unix socket (server/net/handoff.py); None: listen on --host/--port.
    handoff_fd: int | None = internal(None)
    log_level: str = knob("info", "log level", choices=("debug", "info", "warning", "error"))
    # ---- robustness and operations (docs/operations.md) ----
    max_send_buffer: int = knob(262144, "bytes queued for one slow client before it is "
                                "dropped and closed", 4096, 64 * 1024 * 1024)
    ping_interval_s: float = knob(20.0, "seconds between keepalive pings", 0.05, 3600)
    ping_timeout_s: float = knob(20.0, "a peer that does not answer a ping (or a close) in "
                                 "this long is dropped", 0.05, 3600)
    max_conns: int = knob(10000, "open WebSocket connections in all (0: no limit)",
                          0, 10_000_000)
    max_conns_per_ip: int = knob(256, "open WebSocket connections from one client address "
                                 "(0: no limit)", 0, 10_000_000)
    room_rate: float = knob(30.0, "rooms (create_room, practice) one client address may open "
                            "per minute", 1, 1_000_000)
    texts_per_hour: float = knob(30.0, "texts (submit_text) one player, and one client "
                                 "address, may write per hour, a third of them at once",
                                 1, 1_000_000)
    allowed_origin: str | None = knob(None, "web origins allowed to open the WebSocket "
                                      "(repeatable or comma-separated; default: any)",
                                      repeat=True)
    drain_s: float = knob(30.0, "on SIGTERM (or SIGINT, SIGHUP), how long running races may go "
                          "on before they "
                          "are ended and saved", 0, 3600)
    log_format: str = knob("text", "log line format", choices=("text", "json"))
    transport: str = knob("websockets", "WebSocket library: websockets, or picows (faster; "
                          "optional dependency with uvloop, pip install 'typerace[fast]')",
                          choices=("websockets", "picows"))
    loop: str = knob("auto", "event loop: asyncio, uvloop (optional dependency, pip install "
                     "'typerace[fast]'), or auto: uvloop for --transport picows, else asyncio",
                     choices=("auto", "asyncio", "uvloop"))

    def lobby(self) -> LobbyConfig:
        """The lobby's rules (server/core/lobby_config.py) from these settings."""
        return LobbyConfig(
            max_players=self.max_players, countdown_s=self.countdown_s,
            lobby_wait_s=self.lobby_wait_s, reconnect_grace_s=self.reconnect_grace_s,
            practice_countdown_s=self.practice_countdown_s, idle_room_s=self.idle_room_s,
            max_race_s=self.max_race_s, match_widen_ms=round(self.match_widen_s * 1000),
            max_wpm=self.max_wpm, lag_cap_ms=self.lag_cap_ms)

    @property
    def tick_interval(self) -> float:
        return 1.0 / self.tick_hz

    @property
    def event_loop(self) -> str:
        """The loop `auto` stands for: picows is meant to run on uvloop."""
        if self.loop != "auto":
            return self.loop
        return "uvloop" if self.transport == "picows" else "asyncio"

    @property
    def origins(self) -> list[str] | None:
        """The allow-list of web origins, or None when any origin may connect."""
        if not self.allowed_origin:
            return None
        return [o.strip() for o in self.allowed_origin.split(",") if o.strip()]


class ConfigError(ValueError):
    pass


# Numbers as an operator types them: ASCII digits, a sign, a point, an exponent. Python's
# int() and float() would also take "nan", "inf", "1_000" and other scripts' digits ("٣").
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _kind(f) -> str:
    return (f.type if isinstance(f.type, str) else f.type.__name__).split(" ")[0]


def _convert(f, raw: str):
    kind, meta, name = _kind(f), f.metadata, flag_name(f.name)
    if kind == "int":
        if not _INT.fullmatch(raw):
            raise ConfigError(f"{name}: expected int, got {raw!r}")
        value = int(raw)
    elif kind == "float":
        if not _FLOAT.fullmatch(raw) or not math.isfinite(float(raw)):
            raise ConfigError(f"{name}: expected a finite number, got {raw!r}")
        value = float(raw)
        if value == 0 and raw.startswith("-"):
            raise ConfigError(f"{name}: expected a number, got {raw!r} (write 0)")
    elif kind == "bool":
        if raw.lower() not in _TRUE + _FALSE:
            raise ConfigError(f"{name}: expected one of {', '.join(_TRUE + _FALSE)}, "
                              f"got {raw!r}")
        value = raw.lower() in _TRUE
    else:
        value = raw
    if meta.get("min") is not None and value < meta["min"]:
        raise ConfigError(f"{name}: must be at least {meta['min']}")
    if meta.get("max") is not None and value > meta["max"]:
        raise ConfigError(f"{name}: must be at most {meta['max']}")
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{name}: one of {', '.join(meta['choices'])}")
    return value


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m server", description="Typerace: a real-time multiplayer typing-race "
        "server. Every flag can also be set as TYPERACE_<FLAG> in the environment.")
    for f in flags():
        env = "TYPERACE_" + f.name.upper()
        parser.add_argument(flag_name(f.name), dest=f.name, default=None, metavar=f.name.upper(),
                            action="append" if f.metadata["repeat"] else "store",
                            help=f"{f.metadata['help']} (default: {f.default}; env {env})")
    return parser


def load_config(argv: list[str] | None = None, environ: dict | None = None, **overrides) -> Config:
    """Config from flags, then environment, then defaults. Raises ConfigError.

    A flag wins over every environment variable, so `--db` beats a TYPERACE_REDIS_URL
    left in the environment (the store is named once: --db or --redis-url, never both).
    """
    environ = os.environ if environ is None else environ
    args = build_parser().parse_args(argv or [])
    given = {f.name: getattr(args, f.name) for f in flags() if getattr(args, f.name) is not None}
    if "db" in given and "redis_url" in given:
        raise ConfigError("--db and --redis-url name two stores: a server keeps its data in "
                          "one, give one of them")
    values = {}
    for f in flags():
        raw = given.get(f.name)
        if isinstance(raw, list):           # a repeatable flag: join its values
            raw = ",".join(raw)
        if raw is None and not (f.name == "redis_url" and "db" in given):
            raw = environ.get("TYPERACE_" + f.name.upper())
        if raw is not None:
            values[f.name] = _convert(f, raw)
    if values.get("secret") is not None and (weak := secret_weakness(values["secret"])):
        raise ConfigError(f"--secret: {weak}")
    values.update(overrides)
    return Config(**values)
