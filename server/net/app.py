"""The I/O shell: WebSocket connections, dispatch, the tick loop, HTTP routes.

Everything that decides something lives in the pure core (lobby, race, typing);
this module feeds it requests and the time, and delivers what it emits. Frames for
a room are encoded once per codec and written to every member without awaiting.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import secrets
import time

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from protocol import PROTOCOL_VERSION
from protocol.codec import SUBPROTOCOLS, DecodeError, codec_for
from protocol.messages import (ProtocolError, clean_name, parse, parse_settings, plain_input,
                               request_id)
from server.core import integrity, tokens
from server.net import http
from server.config import Config, ConfigError
from server.core.joinguard import FailedJoins
from server.net.keepalive import Keepalive
from server.net.limits import AddressQuota, ConnectionLimits, buffered_bytes, client_ip
from server.net.logs import event
from server.net.metrics import INVALID, Metrics
from server.core.lobby import ALL, PLAYERS, SPECTATORS, Lobby, LobbyConfig, Room
from server.core.ratelimit import TokenBucket
from server.store import (RaceRecord, ResultRecord, Store, StoreUnavailable, TextExists,
                          make_store)
from server.core.texts import Text, TextInvalid, parse_texts_file, validate_text
from server.net.starter import starter_texts
from server.net.wsconn import Connection

log = logging.getLogger("typerace")

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"   # no 0/O, no 1/I: read aloud safely
CODE_LENGTH = 6                                       # 32**6 ~ 1.07e9 codes
# Close codes in the 4000 range (application-defined) that the server uses:
CLOSE_REPLACED = 4000       # the same player (same token) connected again elsewhere
# A player may write TEXTS_BURST texts at once, then TEXTS_PER_HOUR: plenty for a person,
# while a script can't fill the library (and the disk) at the message rate.
TEXTS_BURST = 10
TICK_PHASES = 4              # wake-ups per tick interval, each ticking a quarter of the rooms
TEXTS_PER_HOUR = 30
NEW_ROOM_REQUESTS = ("quick_race", "create_room", "practice", "start", "rematch")
ROOM_OPENERS = ("create_room", "practice")           # held to --room-rate per address


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_room_id() -> str:
    # Race ids are "<room_id>.<n>" and key saved results forever; every practice race
    # is a room, so 40 random bits would collide after about a million rooms.
    return "r" + secrets.token_hex(8)


NO_HEADERS = Headers()   # what a connection's handshake keeps once it is open (never written)


class Clock:
    """Wall-clock milliseconds that never go backwards (monotonic since start)."""

    def __init__(self):
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def now_ms(self) -> int:
        return int((self._wall0 + time.monotonic() - self._mono0) * 1000)


class Conn:
    """One WebSocket connection and what the server knows of its player."""

    __slots__ = ("ws", "codec", "player_id", "name", "bucket", "rejected", "join_bucket", "ip",
                 "dropped", "closing")
    edge = None                    # a local connection (see server.cluster.node.RemoteConn)

    def __init__(self, ws: ServerConnection, bucket: TokenBucket, join_bucket: TokenBucket):
        self.ws = ws
        self.codec = codec_for(ws.subprotocol)
        self.player_id: str | None = None
        self.name: str | None = None
        self.bucket = bucket
        self.rejected = 0          # messages refused since the bucket was last full
        self.join_bucket = join_bucket   # failed joins (unknown codes) this connection may make
        self.ip = client_ip(ws)
        self.dropped = False       # cut off as a slow consumer: gets nothing more
        self.closing = False       # closed for flooding: what it still sends is ignored


class TyperaceServer:
    def __init__(self, config: Config, store: Store | None = None):
        self.config = config
        self.store = store or make_store(config)
        self.clock = Clock()
        self.lobby = Lobby(LobbyConfig(
            max_players=config.max_players, countdown_s=config.countdown_s,
            lobby_wait_s=config.lobby_wait_s, reconnect_grace_s=config.reconnect_grace_s,
            practice_countdown_s=config.practice_countdown_s,
            idle_room_s=config.idle_room_s,
        ), new_room_id, new_code)
        self.failed_joins = FailedJoins(config.join_fail_per_min, config.join_fail_burst,
                                        config.join_fail_ip_burst)
        self.conns: dict[str, Conn] = {}          # player_id -> its live connection
        self.secret = ""
        self.race_text_ids: list[int] = []
        self._texts: dict[int, Text] = {}
        self._text_buckets: dict[str, TokenBucket] = {}   # player_id -> submissions left
        self._tasks: set[asyncio.Task] = set()
        self._ticker: asyncio.Task | None = None
        self._server = None
        self.port = 0
        self.limits = ConnectionLimits(config.max_conns, config.max_conns_per_ip)
        self.keepalive = Keepalive(config.ping_interval_s, config.ping_timeout_s)
        self.room_quota = AddressQuota(config.room_rate)
        self.draining = False          # SIGTERM: no new races; see server/net/shutdown.py
        self.stopping = False          # connections are being closed: nothing more to save
        self.metrics = Metrics(self)
        self.cluster = None      # server.cluster.node.Cluster when running with --redis-url

    # ---- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        await self.store.open()
        self.secret = self.config.secret or await self.store.set_meta_once(
            "token_secret", tokens.new_secret())
        await self._load_texts()
        if self.config.redis_url:     # part of the cluster before the first connection
            from server.cluster.node import start_cluster
            self.cluster = await start_cluster(self, self.config.redis_url)
        self._server = await serve(
            self.handler, self.config.host, self.config.port,
            subprotocols=SUBPROTOCOLS, select_subprotocol=_select_subprotocol,
            process_request=self.process_request, max_size=self.config.max_frame,
            ping_interval=None,         # one Keepalive task for all, not one per connection
            close_timeout=self.config.ping_timeout_s, compression=None,
            # None admits clients that send no Origin (bots, terminals): the allow-list
            # keeps other web sites' pages out, it is not authentication.
            origins=None if self.config.origins is None else [*self.config.origins, None],
            reuse_port=self.config.reuse_port or None,
            create_connection=Connection,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.keepalive.start()
        self._ticker = asyncio.create_task(self._tick_loop(), name="ticker")
        log.info("listening on %s:%d", self.config.host, self.port)

    async def stop(self, close_wait_s: float | None = None) -> None:
        """Close every connection with 1001 (waiting up to close_wait_s for the peers'
        answers, or their close timeout), let pending saves finish, close the store."""
        self.stopping = True
        if self._server is not None:
            self._server.close(close_connections=True)
            try:
                await asyncio.wait_for(self._server.wait_closed(), close_wait_s)
            except TimeoutError:
                log.warning("connections still closing after %.1fs; going on", close_wait_s)
        if self._ticker is not None:
            self._ticker.cancel()
        await self.keepalive.stop()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        if self.cluster is not None:
            await self.cluster.stop()
        await self.store.close()

    def health(self) -> dict:
        states: dict[str, int] = {}
        for room in self.lobby.rooms.values():
            states[room.state] = states.get(room.state, 0) + 1
        return {"status": "draining" if self.draining else "ok", "protocol": PROTOCOL_VERSION,
                "node": self.cluster.node if self.cluster else None,
                "connections": len(self.conns),
                "rooms": len(self.lobby.rooms), "rooms_by_state": states,
                "players": len(self.lobby.seated), "spectators": len(self.lobby.watching)}

    async def _load_texts(self) -> None:
        """The starter set once, on the first start (a crash in between only repeats
        an idempotent import); then the operator's --texts file, idempotent too."""
        now = self.clock.now_ms()
        if await self.store.get_meta("starter_texts") is None:
            await self.store.add_texts(starter_texts(), now)
            await self.store.set_meta_once("starter_texts", str(now))
        if self.config.texts:
            try:
                with open(self.config.texts, encoding="utf-8") as f:
                    content = f.read()
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"--texts {self.config.texts}: can't read it as UTF-8 "
                                  f"text ({exc})") from None
            passages = parse_texts_file(content, self.config.texts.rsplit("/", 1)[-1])
            if not passages:
                raise ConfigError(f"--texts {self.config.texts}: no passages found (passages "
                                  "are separated by blank lines)")
            self.race_text_ids = await self.store.add_texts(passages, now)
        else:
            self.race_text_ids = await self.store.library_text_ids()

    async def text(self, text_id: int) -> Text | None:
        text = self._texts.get(text_id)
        if text is None:
            text = await self.store.get_text(text_id)
            if text is not None:
                if len(self._texts) >= 2000:      # players' texts are many: stay bounded
                    self._texts.clear()
                self._texts[text_id] = text
        return text

    async def random_text(self, other_than: int | None = None) -> Text:
        choices = [t for t in self.race_text_ids if t != other_than] or self.race_text_ids
        return await self.text(random.choice(choices))

    # ---- delivery -------------------------------------------------------------

    def send(self, conn: Conn, message: dict) -> None:
        self._deliver([conn], conn.codec, conn.codec.encode(message))

    def _deliver(self, conns: list[Conn], codec, frame) -> None:
        """Write one ready frame to many connections without awaiting any of them.

        The WebSocket frame (header + payload) is built once and the same bytes are
        written to each transport: per member a state check and one write, not
        websockets' per-connection framing (compression is off and we never fragment,
        so the bytes are exactly what `ws.send` would write).
        These writes have no backpressure, so the bound is ours: a connection holding
        more than max_send_buffer unsent bytes is cut off (see _drop_slow)."""
        if self.cluster is not None:      # remote players' frames go to their process
            conns = self.cluster.relay(conns, codec, frame)
        limit = self.config.max_send_buffer
        wire = ws_frame(frame, codec.binary)
        sent = 0
        for conn in conns:
            if conn.dropped:
                continue
            ws = conn.ws
            if ws.protocol.state is not OPEN:
                continue
            if buffered_bytes(ws) > limit:
                self._drop_slow(conn)
                continue
            ws.transport.write(wire)
            sent += 1
        self.metrics.messages_out.inc(sent)

    def _drop_slow(self, conn: Conn) -> None:
        """A client that stopped reading: nothing more is queued for it, and the TCP
        connection is aborted (a close frame would wait behind the backlog). Its handler
        then ends like any lost connection, so its seat follows the reconnection rules."""
        conn.dropped = True
        self.metrics.dropped_slow.inc()
        event(log, "slow_consumer_dropped", level=logging.WARNING, player=conn.player_id,
              ip=conn.ip, buffered=buffered_bytes(conn.ws))
        if conn.ws.transport is not None:
            conn.ws.transport.abort()

    def _room_audience(self, room: Room, audience: str) -> list[str]:
        ids: list[str] = []
        if audience in (ALL, PLAYERS):
            ids.extend(s.player_id for s in room.seats.values() if s.connected)
        if audience in (ALL, SPECTATORS):
            ids.extend(room.spectators)
        return ids

    def publish(self, room: Room, audience: str, message: dict) -> None:
        """Encode once per codec in use, hand the same bytes to every member."""
        by_codec: dict = {}
        for player_id in self._room_audience(room, audience):
            conn = self.conns.get(player_id)
            if conn is not None:
                by_codec.setdefault(conn.codec, []).append(conn)
        for codec, conns in by_codec.items():
            self._deliver(conns, codec, codec.encode(message))

    def flush(self) -> None:
        """Deliver everything the lobby emitted; start saving races that ended."""
        lobby = self.lobby
        while lobby.outbox or lobby.direct or lobby.ended:
            outbox, lobby.outbox = lobby.outbox, []
            for room, audience, message in outbox:
                self.publish(room, audience, message)
                if message["type"] == "countdown":
                    event(log, "race_start", race=message["race_id"], room=room.room_id,
                          kind=room.kind, racers=len(room.seats),
                          start_server_ms=message["start_server_ms"])
            direct, lobby.direct = lobby.direct, []
            for player_id, message in direct:
                conn = self.conns.get(player_id)
                if conn is not None:
                    self.send(conn, message)
            ended, lobby.ended = lobby.ended, []
            if self.stopping:
                continue        # races cut by the closing connections themselves: not results
            for room in ended:
                self._spawn(self._save_and_publish(room))

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _save_and_publish(self, room: Room) -> None:
        """Results are committed to the store BEFORE anyone sees them."""
        race = room.race
        ranking = race.ranking()
        if ranking:
            record = RaceRecord(race.race_id, room.room_id, room.kind, race.text.text_id,
                                race.start_ms, self.clock.now_ms())
            for entry in ranking:
                racer = race.racers[entry["slot"]]
                # Implausible results are saved with the reason, shown to the room and
                # kept off the boards by the store.
                try:
                    entry["flagged"] = integrity.check(race.text.body, racer.log,
                                                       entry["wpm"], self.config.max_wpm)
                except Exception:         # a bug here must not hold back the results
                    log.exception("checking a result of race %s failed", race.race_id)
                    entry["flagged"] = None
                record.results.append(ResultRecord(
                    entry["player_id"], entry["name"], entry["slot"], entry["place"],
                    entry["status"], entry["wpm"], entry["accuracy"], entry["race_ms"],
                    entry["pos"], racer.typing.keystrokes, racer.typing.correct_keystrokes,
                    list(racer.log), entry["flagged"]))
            delay = 0.1
            while True:
                try:
                    await self.store.save_race(record)
                    break
                except Exception:
                    log.exception("saving race %s failed; retrying in %.1fs", race.race_id, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
        self.lobby.publish_results(room, ranking, self.clock.now_ms())
        self.flush()
        self.metrics.races_finished.inc()
        event(log, "race_finish", race=race.race_id, room=room.room_id, kind=room.kind,
              racers=len(ranking), finished=sum(e["status"] == "finished" for e in ranking),
              race_ms=race.final_race_ms)

    async def _tick_loop(self) -> None:
        """Timers once per interval; ticks spread over it: each wake-up ticks one phase's
        rooms (TICK_PHASES slices), so a tick is written a moment after it is stamped
        instead of behind every other room's frames (2,000 racers: 400 rooms, one burst
        of 2,000 writes every 100 ms before)."""
        loop = asyncio.get_running_loop()
        phases = TICK_PHASES
        step = self.config.tick_interval / phases
        deadline = loop.time()
        phase = 0
        while True:
            deadline += step
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            if loop.time() - deadline > self.config.tick_interval:
                deadline = loop.time()       # we fell behind: don't burst to catch up
            started = time.perf_counter()
            try:
                now = self.clock.now_ms()
                if phase == 0:
                    self.lobby.advance(now)
                self.lobby.ticks(now, phase, phases)
                self.flush()
            except Exception:
                log.exception("tick failed")
            phase = (phase + 1) % phases
            self.metrics.tick_seconds.observe(time.perf_counter() - started)

    # ---- connections ----------------------------------------------------------

    def process_request(self, connection, request):
        return http.route(self, connection, request)

    def refusal(self, connection) -> str | None:
        """Checked before the handshake (an HTTP error instead of a WebSocket)."""
        refusal = self.limits.refusal(client_ip(connection))
        if refusal is not None:
            self._count_refusal(refusal)
        return refusal

    async def handler(self, ws: ServerConnection) -> None:
        now = time.monotonic()
        conn = Conn(ws, TokenBucket(self.config.msg_rate, self.config.msg_burst, now),
                    self.failed_joins.conn_bucket(now))
        # Counted here, where connections really open; process_request only pre-checks,
        # so concurrent handshakes that all passed it are still held to the limit.
        refusal = self.limits.open(conn.ip)
        if refusal is not None:
            self._count_refusal(refusal)
            await ws.close(1008, refusal)
            return
        event(log, "conn_open", ip=conn.ip, codec=conn.codec.name)
        self.keepalive.add(ws)
        # The handshake's headers (~3.5 KiB per connection, a fifth of a racer's memory)
        # are not needed once the codec and address are known: websockets reads them only
        # during the handshake. The request and response objects stay (websockets tells
        # a handshake from a frame by `request is None`); they share one empty Headers.
        ws.request.headers = ws.response.headers = NO_HEADERS
        if conn.codec.binary:
            ws.on_frame = functools.partial(self._input_now, conn)
        try:
            await self._session(conn)
        except ConnectionClosed:
            pass
        finally:
            self.keepalive.discard(ws)
            self.limits.close(conn.ip)
            self._unregister(conn)
            event(log, "conn_close", ip=conn.ip, player=conn.player_id,
                  code=ws.close_code, reason=ws.close_reason or None,
                  dropped=conn.dropped or None)

    def _count_refusal(self, refusal: str) -> None:
        per_ip = refusal == ConnectionLimits.PER_IP
        (self.metrics.refused_per_ip if per_ip else self.metrics.refused_total).inc()

    async def _session(self, conn: Conn) -> None:
        ws = conn.ws
        try:
            async with asyncio.timeout(self.config.hello_timeout_s):
                while conn.player_id is None:
                    await self._receive(conn, await ws.recv())
        except TimeoutError:
            self.metrics.dropped_no_hello.inc()
            await ws.close(1008, "no hello in time")
            return
        async for frame in ws:
            if conn.dropped:
                return          # cut off as a slow consumer: frames still queued don't count
            await self._receive(conn, frame)

    def _input_now(self, conn: Conn, frame) -> bool:
        """A plain `input` from a player that said hello, handled as it is read.
        False (the frame then takes the usual way) for anything else."""
        if conn.player_id is None or conn.closing or self.conns.get(conn.player_id) is not conn:
            return False
        try:
            message = conn.codec.decode(frame)
        except DecodeError:
            return False
        keys = plain_input(message)
        if keys is None or not conn.bucket.take(time.monotonic()):
            return False            # refused: _receive counts it and answers as usual
        if conn.bucket.tokens >= conn.bucket.burst - 1:
            conn.rejected = 0       # the same forgiveness rule as _receive
        self.typed(conn, message, keys)
        return True

    def typed(self, conn: Conn, message: dict, keys: str) -> None:
        """A plain input that passed the rate limit, without a Request, a dispatch or a
        coroutine: applied here, or (a local player whose room another process owns)
        passed on to that process in its next batch."""
        cluster = self.cluster
        if cluster is not None and conn.edge is None and conn.player_id in cluster.remote:
            self.metrics.messages_in["input"].inc()
            cluster.forward(conn, message)
            return
        try:
            self._apply_input(conn, keys)
        except ProtocolError as exc:
            self.send_error(conn, exc.code, exc.message, None)
        except Exception:
            log.exception("internal error handling an input")
            self.send_error(conn, "internal", "the server failed; this is our bug", None)
        self.flush()

    def _apply_input(self, conn: Conn, keys: str) -> None:
        """A plain input on a fast path, counted and timed like one through `_receive`."""
        metrics = self.metrics
        metrics.messages_in["input"].inc()
        started = time.perf_counter()
        self.lobby.input(conn.player_id, keys, self.clock.now_ms())
        metrics.input_seconds.observe(time.perf_counter() - started)

    async def _receive(self, conn: Conn, frame) -> None:
        if conn.player_id is not None and self.conns.get(conn.player_id) is not conn:
            return                  # replaced by a newer connection, which is closing this one
        metrics = self.metrics
        if conn.closing:
            return
        if not conn.bucket.take(time.monotonic()):
            conn.rejected += 1
            metrics.rate_limited.inc()
            if conn.rejected > self.config.msg_burst:
                if not conn.closing:
                    # Not awaited here: the close handshake needs this loop to go on
                    # reading (and ignoring) what the flooder already queued.
                    conn.closing = True
                    metrics.dropped_flood.inc()
                    event(log, "flood_closed", level=logging.WARNING, ip=conn.ip,
                          player=conn.player_id)
                    self._spawn(conn.ws.close(1008, "message flood"))
                return
            self.send_error(conn, "rate_limited", "slow down: too many messages",
                            _request_id_of(conn.codec, frame))
            return
        if conn.bucket.tokens >= conn.bucket.burst - 1:
            # Only a client back within its rate long enough to refill the whole bucket
            # is forgiven. Resetting on any accepted message let a steady flood (a few
            # refusals per refilled token) go on for ever without being closed.
            conn.rejected = 0
        try:
            message = conn.codec.decode(frame)
        except DecodeError as exc:
            self.metrics.messages_in[INVALID].inc()
            self.send_error(conn, "bad_message", str(exc), None)
            self.flush()
            return
        # The hot path: no Request, no dispatch, no coroutine per keystroke batch. Only
        # for msgpack, whose strings are always valid UTF-8; JSON can carry lone
        # surrogates, which parse() refuses.
        keys = plain_input(message) if conn.codec.binary else None
        if keys is not None and conn.player_id is not None:
            self.typed(conn, message, keys)
            return
        await self.dispatch(conn, message)

    async def dispatch(self, conn: Conn, message: dict) -> None:
        """Run one decoded request (from a local connection, or forwarded by the
        process a remote player is connected to) and deliver what it caused."""
        metrics = self.metrics
        rid = None
        request = None
        try:
            rid = request_id(message)
            if conn.player_id is None and message.get("type") != "hello":
                # Whatever came first (even an unknown type), the fix is the same.
                raise ProtocolError("not_hello", "say hello first")
            request = parse(message)
            metrics.messages_in[request.type].inc()
            if self.draining and request.type in NEW_ROOM_REQUESTS:
                raise ProtocolError("shutting_down", "the server is shutting down; no new "
                                    "races start here (reconnect later)")
            if request.type in ROOM_OPENERS and conn.edge is None and not self.room_quota.take(
                    conn.ip, time.monotonic()):      # (a remote player's edge checked it)
                raise ProtocolError("too_many_rooms", "too many rooms opened from your "
                                    "address; wait a minute")
            if self.cluster is not None and await self.cluster.intercept(conn, request, message):
                pass                          # forwarded to the room's owner, or done
            elif request.type == "input":
                handler = getattr(self, "on_" + request.type)
                started = time.perf_counter()
                await handler(conn, request)
                metrics.input_seconds.observe(time.perf_counter() - started)
            else:
                await getattr(self, "on_" + request.type)(conn, request)
        except ProtocolError as exc:
            if request is None:
                metrics.messages_in[INVALID].inc()
            self.send_error(conn, exc.code, exc.message, rid)
        except ConnectionClosed:
            raise
        except StoreUnavailable:            # e.g. --redis-url and Redis is away: transient
            self.send_error(conn, "unavailable", "the shared store is unreachable for a "
                            "moment; try again shortly", rid)
        except Exception:
            log.exception("internal error handling a message")
            self.send_error(conn, "internal", "the server failed; this is our bug", rid)
        self.flush()

    def send_error(self, conn: Conn, code: str, message: str, rid: int | None) -> None:
        self.metrics.error(code).inc()
        # rate_limited errors come in floods; the counter tells their story.
        if code != "rate_limited":
            event(log, "error", level=logging.INFO if code != "internal" else logging.ERROR,
                  code=code, player=conn.player_id, ip=conn.ip)
        self.send(conn, _error(code, message, rid))

    def reply(self, conn: Conn, request, message: dict) -> None:
        if request.id is not None:
            message["id"] = request.id
        self.send(conn, message)

    def _unregister(self, conn: Conn) -> None:
        pid = conn.player_id
        if pid is not None and self.conns.get(pid) is conn:
            del self.conns[pid]
            self.lobby.disconnect(pid, self.clock.now_ms())
            self.flush()
            if self.cluster is not None:
                self.cluster.disconnected(conn)

    # ---- identity -------------------------------------------------------------

    async def on_hello(self, conn: Conn, req) -> None:
        if conn.player_id is not None:
            raise ProtocolError("bad_message", "hello was already said on this connection")
        name = clean_name(req.args["name"])
        token = req.args.get("token")
        if token:
            player_id = tokens.verify(self.secret, token)
            if player_id is None:
                raise ProtocolError("invalid_token", "that token was not issued by this server; "
                                    "say hello without it to get a new one")
        else:
            player_id = tokens.new_player_id()
            token = tokens.sign(self.secret, player_id)
        now = self.clock.now_ms()
        await self.store.touch_player(player_id, name, now)
        old = self.conns.get(player_id)
        conn.player_id, conn.name = player_id, name
        self.conns[player_id] = conn
        if old is not None:
            self._spawn(old.ws.close(CLOSE_REPLACED, "replaced by a newer connection"))
        self.reply(conn, req, {"type": "welcome", "player_id": player_id, "name": name,
                               "token": token, "server_ms": now, "protocol": PROTOCOL_VERSION})
        seated = self.lobby.reconnect(player_id, now)
        if seated is not None:
            # Back within the grace period: the seat, the race so far, and its own typing.
            room, seat = seated
            self._send_joined(conn, None, room, seat.slot)
            resume = self.lobby.racer_state(room, seat.slot)
            if resume is not None:
                self.send(conn, resume)
        elif player_id in self.lobby.watching:
            # A spectator's newer connection (the old one is being replaced) keeps watching.
            room = self.lobby.watching[player_id]
            self.send(conn, {"type": "watching", "room": room.view(False)})
            for message in self.lobby.catch_up(room, now):
                self.send(conn, message)

    async def on_ping(self, conn: Conn, req) -> None:
        self.reply(conn, req, {"type": "pong", "server_ms": self.clock.now_ms()})

    # ---- rooms ----------------------------------------------------------------

    def _send_joined(self, conn: Conn, req, room: Room, slot: int) -> None:
        message = {"type": "joined", "room": room.view(True), "slot": slot}
        if req is not None:
            self.reply(conn, req, message)
        else:
            self.send(conn, message)
        for catch_up in self.lobby.catch_up(room, self.clock.now_ms()):
            self.send(conn, catch_up)

    async def on_quick_race(self, conn: Conn, req) -> None:
        text = await self.random_text()
        room, seat = self.lobby.quick_race(conn.player_id, conn.name, text, self.clock.now_ms())
        self._send_joined(conn, req, room, seat.slot)

    async def on_create_room(self, conn: Conn, req) -> None:
        settings = parse_settings(req.args.get("settings") or {})
        text = await self._chosen_text(settings.get("text_id"))
        room, seat = self.lobby.create_room(conn.player_id, conn.name, settings, text,
                                            self.clock.now_ms())
        if self.cluster is not None:      # its codes work everywhere before it is shown
            await self.cluster.room_created(room)
        self._send_joined(conn, req, room, seat.slot)

    async def _chosen_text(self, text_id: int | None) -> Text:
        if text_id is None:
            return await self.random_text()
        text = await self.text(text_id)
        if text is None:
            raise ProtocolError("text_not_found", f"no text has id {text_id}")
        return text

    def _guarded(self, conn: Conn, attempt):
        """A join or watch by code, refused while this connection or its IP has used up
        its failed attempts (unknown codes); see server/core/joinguard.py."""
        now = time.monotonic()
        if not self.failed_joins.allowed(conn.join_bucket, conn.ip, now):
            raise ProtocolError("rate_limited", "too many unknown codes; wait a minute "
                                "before trying another")
        try:
            return attempt()
        except ProtocolError as exc:
            if exc.code == "room_not_found":
                self.failed_joins.failed(conn.join_bucket, conn.ip, now)
            raise

    async def on_join_room(self, conn: Conn, req) -> None:
        room, seat = self._guarded(conn, lambda: self.lobby.join_room(
            conn.player_id, conn.name, req.args["code"], self.clock.now_ms()))
        self._send_joined(conn, req, room, seat.slot)

    async def on_practice(self, conn: Conn, req) -> None:
        text = await self._chosen_text(req.args.get("text_id"))
        room, seat = self.lobby.practice(conn.player_id, conn.name, text, self.clock.now_ms())
        self._send_joined(conn, req, room, seat.slot)

    async def on_watch(self, conn: Conn, req) -> None:
        now = self.clock.now_ms()
        room = self._guarded(conn, lambda: self.lobby.watch(conn.player_id, req.args["code"], now))
        self.reply(conn, req, {"type": "watching", "room": room.view(False)})
        for message in self.lobby.catch_up(room, now):
            self.send(conn, message)

    async def on_list_races(self, conn: Conn, req) -> None:
        rooms = [r.view(False) for r in self.lobby.rooms.values()
                 if r.public and r.state != "finished"]
        self.reply(conn, req, {"type": "races", "rooms": rooms})

    async def on_leave(self, conn: Conn, req) -> None:
        room = self.lobby.leave(conn.player_id, self.clock.now_ms())
        if room is None:
            raise ProtocolError("not_in_room", "you are not in a room")
        self.reply(conn, req, {"type": "left"})

    async def on_start(self, conn: Conn, req) -> None:
        self.lobby.start(conn.player_id, self.clock.now_ms())

    async def on_kick(self, conn: Conn, req) -> None:
        self.lobby.kick(conn.player_id, req.args["slot"], self.clock.now_ms())

    async def on_configure(self, conn: Conn, req) -> None:
        settings = parse_settings(req.args["settings"])
        self.lobby._host_only(conn.player_id)     # fail before any store look-up
        text = await self._chosen_text(settings["text_id"]) if settings.get("text_id") else None
        self.lobby.configure(conn.player_id, settings, text, self.clock.now_ms())

    async def on_rematch(self, conn: Conn, req) -> None:
        room, _ = self.lobby._host_only(conn.player_id)
        text = await self.random_text(other_than=room.text.text_id)
        self.lobby.rematch(conn.player_id, text, self.clock.now_ms())

    # ---- racing ---------------------------------------------------------------

    async def on_input(self, conn: Conn, req) -> None:
        self.lobby.input(conn.player_id, req.args["keys"], self.clock.now_ms())

    # ---- texts and statistics -------------------------------------------------

    async def on_list_texts(self, conn: Conn, req) -> None:
        offset, limit = req.args.get("offset", 0), req.args.get("limit", 20)
        author = req.args.get("author")
        texts, total = await self.store.list_texts(offset, limit, author)
        self.reply(conn, req, {"type": "texts", "texts": [t.listing() for t in texts],
                               "total": total, "offset": offset, "limit": limit,
                               "author": author})

    async def on_submit_text(self, conn: Conn, req) -> None:
        try:
            text = validate_text(req.args["title"], req.args["body"], req.args.get("source"))
        except TextInvalid as exc:
            raise ProtocolError("text_invalid", str(exc)) from None
        self._take_text_quota(conn.player_id)
        try:
            created = await self.store.submit_text(text, conn.player_id, conn.name,
                                                   self.clock.now_ms())
        except TextExists as exc:
            raise ProtocolError("text_invalid", str(exc)) from None
        self.reply(conn, req, {"type": "text_created", "text": created.listing()})

    def _take_text_quota(self, player_id: str) -> None:
        now = time.monotonic()
        if len(self._text_buckets) > 10_000:      # forget players whose quota is full again
            full_after = TEXTS_BURST * 3600 / TEXTS_PER_HOUR
            self._text_buckets = {p: b for p, b in self._text_buckets.items()
                                  if now - b.stamp < full_after}
        bucket = self._text_buckets.get(player_id)
        if bucket is None:
            bucket = self._text_buckets[player_id] = TokenBucket(
                TEXTS_PER_HOUR / 3600, TEXTS_BURST, now)
        if not bucket.take(now):
            raise ProtocolError("rate_limited", f"you have written many texts just now: "
                                f"{TEXTS_PER_HOUR} an hour at most; try again later")

    async def on_player_stats(self, conn: Conn, req) -> None:
        player_id = req.args.get("player_id") or conn.player_id
        stats = await self.store.player_stats(player_id)
        if stats is None:
            raise ProtocolError("player_not_found", "no player has that id")
        self.reply(conn, req, {"type": "stats", **stats})

    async def on_text_stats(self, conn: Conn, req) -> None:
        stats = await self.store.text_stats(req.args["text_id"])
        if stats is None:
            raise ProtocolError("text_not_found", "no text has that id")
        self.reply(conn, req, {"type": "text_stats", **stats})

    async def on_leaderboard(self, conn: Conn, req) -> None:
        text_id = req.args.get("text_id")
        if text_id is not None and await self.text(text_id) is None:
            raise ProtocolError("text_not_found", f"no text has id {text_id}")
        entries = await self.store.leaderboard(text_id)
        self.reply(conn, req, {"type": "leaderboard", "text_id": req.args.get("text_id"),
                               "entries": entries})

    async def on_replay(self, conn: Conn, req) -> None:
        race = await self.store.get_race(req.args["race_id"])
        if race is None:
            raise ProtocolError("race_not_found", "no saved race has that id")
        self.reply(conn, req, {"type": "replay",
                               "race": _replay_view(race, await self.text(race.text_id))})


def _replay_view(race: RaceRecord, text: Text | None) -> dict:
    """A saved race as `replay` carries it: every result with its keystroke log."""
    return {"race_id": race.race_id, "kind": race.kind, "started_ms": race.started_ms,
            "ended_ms": race.ended_ms,
            "text": text.race_view() if text else {"text_id": race.text_id},
            "results": [{"slot": r.slot, "player_id": r.player_id, "name": r.name,
                         "place": r.place, "status": r.status, "wpm": r.wpm,
                         "accuracy": r.accuracy, "race_ms": r.race_ms, "pos": r.pos,
                         "keystrokes": r.keystrokes, "flagged": r.flagged,
                         "log": [[t, keys] for t, keys in r.log]} for r in race.results]}


OPEN = State.OPEN


def ws_frame(payload: bytes | str, binary: bool) -> bytes:
    """One unmasked, unfragmented server-to-client WebSocket data frame (RFC 6455 5.2)."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    head = 0x82 if binary else 0x81
    if n < 126:
        return bytes((head, n)) + payload
    if n < 65536:
        return bytes((head, 126)) + n.to_bytes(2, "big") + payload
    return bytes((head, 127)) + n.to_bytes(8, "big") + payload


def _select_subprotocol(connection, subprotocols):
    """The first of the client's offers that we speak; none (JSON) otherwise."""
    for offer in subprotocols:
        if offer in SUBPROTOCOLS:
            return offer
    return None


def _request_id_of(codec, frame) -> int | None:
    """The `id` of a refused frame, so a client waiting for that reply hears of it.
    Bounded work: at most a burst of refused frames is read before the close."""
    try:
        return request_id(codec.decode(frame))
    except DecodeError:
        return None


def _error(code: str, message: str, rid: int | None) -> dict:
    error = {"type": "error", "code": code, "message": message}
    if rid is not None:
        error["id"] = rid
    return error
