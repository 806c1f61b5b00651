"""The server: the pieces of the shell wired around the pure core.

Everything that decides something lives in the core (server/core: lobby, race, typing);
the shell feeds it requests and the time, and delivers what it emits:
- the transport (transport/): websockets or picows behind one port, HTTP on the same
  port (http.py);
- sessions (session.py): connections from handshake to close, rate limits, the input path;
- the dispatcher (dispatch.py) and the handlers (handlers/): one request to its handler;
- delivery (delivery.py): ready frames to many connections, the slow-consumer rule;
- the ticker (ticker.py): timers and ticks, one loop per process;
- the result saver (saving.py): results are saved before anyone sees them;
- the text library (library.py); the cluster (server/cluster), one process or many.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from protocol import PROTOCOL_VERSION
from protocol.codec import SUBPROTOCOLS
from server.cluster import AppPort, SingleProcess
from server.config import Config
from server.core import tokens
from server.core.accounts import NAME_KEY_VERSION, LoginLimits, name_key
from server.core.joinguard import FailedJoins
from server.core.lobby import Lobby
from server.net import http, ratings, transport
from server.net.analyses import Analyses
from server.net.weakkeys import WeakKeys
from server.net.clock import Clock
from server.net.codes import code_maker
from server.net.competitions import DailyText
from server.net.delivery import Delivery
from server.net.dispatch import Dispatcher
from server.net.handlers import HandlerContext
from server.net.handlers.identity import resume_seat
from server.net.handlers.trust import report_quota
from server.net.lag import LagProbe
from server.net.library import TextLibrary
from server.core.ratelimit import Quota
from server.net.limits import ConnectionLimits
from server.net.logs import event
from server.net.inputs import Inputs
from server.net.metrics import Metrics, StateCollector
from server.net.passwords import PasswordHasher
from server.net.saving import ResultSaver
from server.net.session import SessionDeps, Sessions
from server.net.state import Live
from server.net.tasks import Tasks
from server.net.textquota import TextQuota
from server.net.ticker import Ticker
from server.store import Store, make_store

log = logging.getLogger("typerace")

def new_room_id() -> str:
    # Race ids are "<room_id>.<n>" and key saved results forever; every practice race
    # is a room, so 40 random bits would collide after about a million rooms.
    return "r" + secrets.token_hex(8)


class TyperaceServer:
    def __init__(self, config: Config, store: Store | None = None, clock: Clock | None = None,
                 run_ticker: bool = True):
        """`clock` and `run_ticker` are for tests: a ManualClock, and no tick loop so
        the test steps `ticker.round()` itself after moving the clock."""
        self.config = config
        self.store = store or make_store(config)
        self.clock = clock or Clock()
        self.lobby = Lobby(config.lobby(), new_room_id, code_maker(config.route_tag))
        self.failed_joins = FailedJoins(config.join_fail_per_min, config.join_fail_burst,
                                        config.join_fail_ip_burst)
        self.login_limits = LoginLimits(config.login_fail_per_min, config.login_fail_burst,
                                        config.login_fail_ip_burst)   # kept by the store
        self.passwords = PasswordHasher(self.clock)   # off the loop (handlers/accounts.py)
        self.conns: dict = {}          # player_id -> its live connection (Conn or RemoteConn)
        self.live = Live(SingleProcess())   # server.cluster.node.Cluster with --redis-url
        self.text_quota = TextQuota(config.texts_per_hour / 60)
        self.report_quota = report_quota()   # player_id -> texts it may still report
        self.limits = ConnectionLimits(config.max_conns, config.max_conns_per_ip)
        self.room_quota = Quota(config.room_rate, by_address=True)
        self.stopping = False          # connections are being closed: nothing more to save
        self.metrics = Metrics(StateCollector(self.lobby, self.limits, self.conns))
        self.tasks = Tasks()
        self.delivery = Delivery(self.conns, self.live.cluster, self.metrics,
                                 config.max_send_buffer)
        self.library = TextLibrary(self.store, config.texts, self.clock)
        self.daily = DailyText(self.store, self.library, self.clock)
        self.saver = ResultSaver(self.store, self.lobby, self.clock, self.metrics,
                                 self.tasks.spawn, self.flush,
                                 saved=lambda results: ratings.refresh(
                                     results, self.conns, self.store, self.live),
                                 daily=self.daily)
        self.ticker = Ticker(self.lobby, self.clock, self.flush, self.metrics,
                             config.tick_interval)
        # Each piece is handed what it uses (its record), never the app.
        self.handlers = HandlerContext(
            lobby=self.lobby, clock=self.clock, delivery=self.delivery, store=self.store,
            library=self.library, conns=self.conns, live=self.live, passwords=self.passwords,
            failed_joins=self.failed_joins, login_limits=self.login_limits,
            text_quota=self.text_quota, report_quota=self.report_quota,
            report_threshold=config.report_threshold,
            analyses=Analyses(self.store, self.library, self.clock),
            weak_keys=WeakKeys(self.store, self.library), daily=self.daily)
        self.inputs = Inputs(self.lobby, self.clock, self.flush, self.live, self.metrics,
                             self.delivery)
        self.dispatcher = Dispatcher(self.handlers, self.inputs.typed, self.metrics,
                                     self.room_quota, self.flush)
        self.sessions = Sessions(SessionDeps(
            msg_rate=config.msg_rate, msg_burst=config.msg_burst,
            hello_timeout_s=config.hello_timeout_s, clock=self.clock, lobby=self.lobby,
            flush=self.flush, conns=self.conns, live=self.live, limits=self.limits,
            failed_joins=self.failed_joins, metrics=self.metrics, delivery=self.delivery,
            tasks=self.tasks, typed=self.inputs.typed, dispatch=self.dispatcher.dispatch))
        self.lag = LagProbe(self.lobby, self.conns, self.metrics, self.live,
                            config.measure_delay)
        self.answers = http.Answers(self.sessions.refusal, self.health, self.metrics.render)
        self._run_ticker = run_ticker
        self._ticker_task: asyncio.Task | None = None
        self._server = None
        self.port = 0

    # ---- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        await self.store.open()
        await self.store.rekey_accounts(NAME_KEY_VERSION, name_key)   # (core/accounts.py)
        self.live.secret = self.config.secret or await self.store.set_meta_once(
            "token_secret", tokens.new_secret())
        await self.library.load(self.clock.now_ms())
        if self.config.redis_url:     # part of the cluster before the first connection
            from server.cluster.node import start_cluster
            port = AppPort(
                lobby=self.lobby, conns=self.conns, clock=self.clock, delivery=self.delivery,
                tasks=self.tasks, failed_joins=self.failed_joins, flush=self.flush,
                typed=self.inputs.typed, dispatch=self.dispatcher.dispatch,
                unregister=self.sessions.unregister,
                resume_seat=lambda conn, now: resume_seat(self.handlers, conn, now),
                measure_delay=self.lag.asked)
            self.live.cluster = self.delivery.cluster = await start_cluster(
                port, self.config.redis_url)
        self._server = await transport.serve(self.config.transport, self, self.config,
                                             SUBPROTOCOLS)
        self.port = self._server.port
        self.lag.start()
        if self._run_ticker:
            self._ticker_task = asyncio.create_task(self.ticker.run(), name="ticker")
        log.info("listening on %s:%d", self.config.host, self.port)

    async def stop(self, close_wait_s: float | None = None) -> None:
        """Close every connection with 1001 (waiting up to close_wait_s for the peers'
        answers, or their close timeout), let pending saves finish, close the store."""
        self.stopping = True
        await self.lag.stop()
        if self._server is not None:
            try:
                await self._server.close(close_wait_s)
            except TimeoutError:
                log.warning("connections still closing after %.1fs; going on", close_wait_s)
        if self._ticker_task is not None:
            self._ticker_task.cancel()
        # Once every connection is closed, what they asked is moot.
        await self.tasks.cancel_requests(timeout=5)
        self.saver.stop()                 # a save still failing makes one last attempt
        await self.tasks.wait(timeout=10)
        await self.tasks.cancel(timeout=5)    # an unsaved race is named in the log (saving.py)
        await self.live.cluster.stop()
        self.passwords.close()
        await self.store.close()

    @property
    def draining(self) -> bool:
        """SIGTERM: no new races (server/net/shutdown.py); the lobby holds the flag,
        as no countdown may start on its own either."""
        return self.lobby.draining

    def health(self) -> dict:
        states: dict[str, int] = {}
        rooms, players, spectators = self.lobby.counts()
        for room in self.lobby.all_rooms():
            states[room.state] = states.get(room.state, 0) + 1
        return {"status": "draining" if self.draining else "ok", "protocol": PROTOCOL_VERSION,
                "node": self.live.cluster.node,
                "connections": self.limits.total,   # this process's
                "rooms": rooms, "rooms_by_state": states,
                "players": players, "spectators": spectators}

    # ---- the core's events out --------------------------------------------------

    def flush(self) -> None:
        """Deliver everything the lobby emitted; start saving results (finishers, races
        that ended), which are published once saved."""
        lobby, delivery = self.lobby, self.delivery
        while lobby.has_events():
            outbox, direct, to_save = lobby.take_events()
            for room, audience, message in outbox:
                delivery.publish(room, audience, message)
                if message["type"] == "countdown":
                    event(log, "race_start", race=message["race_id"], room=room.room_id,
                          kind=room.kind, racers=len(room.seats),
                          start_server_ms=message["start_server_ms"])
            for player_id, message in direct:
                conn = self.conns.get(player_id)
                if conn is not None:
                    delivery.send(conn, message)
            if self.stopping:
                continue        # races cut by the closing connections themselves: not results
            self.saver.take(to_save)

    # A shortcut shutdown uses.
    def send(self, conn, message: dict) -> None:
        self.delivery.send(conn, message)

    # ---- the transport's App (server/net/transport) -------------------------------

    def route(self, method: str, path: str, ip: str):
        return http.route(self.answers, method, path, ip)

    def opened(self, link):
        return self.sessions.opened(link)
