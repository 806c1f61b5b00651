"""Sessions, the input path and a handler built from their narrow state alone: no
TyperaceServer, no socket. Each is handed only the record it declares (SessionDeps,
Inputs' arguments, HandlerContext): real limits, metrics and delivery, a lobby that
records what the sessions ask of it (a real Lobby for join_room), and a memory link
standing in for the transport, whose frames are read back."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import msgpack
import pytest

from protocol.codec import JSON, MSGPACK
from protocol.codes import CloseCode, ErrorCode
from protocol.messages import ProtocolError, Request
from server.cluster import SingleProcess
from server.config import load_config
from server.core.joinguard import FailedJoins
from server.core.lobby import Lobby
from server.core.texts import Text
from server.net.clock import ManualClock
from server.net.codes import code_maker
from server.net.delivery import Delivery
from server.net.handlers import HandlerContext
from server.net.handlers.rooms import join_room
from server.net.inputs import Inputs
from server.net.limits import ConnectionLimits
from server.net.metrics import Metrics
from server.net.session import SessionDeps, Sessions
from server.net.state import Live
from server.net.tasks import Tasks

TEXT = Text(1, "One", "", "Short and sweet wins races.")


class MemoryLink:
    """The transport's Link in memory: frames written are decoded and kept."""

    def __init__(self, ip: str = "192.0.2.1", codec=JSON):
        self.subprotocol, self.ip, self.codec = codec.subprotocol, ip, codec
        self.open, self.close_code, self.close_reason = True, None, ""
        self.seen: list[dict] = []
        self.closed = asyncio.Event()

    def write(self, wire: bytes) -> None:
        size = wire[1]                               # an unmasked server frame's header
        payload = wire[2 + {126: 2, 127: 8}.get(size, 0):]
        self.seen.append(self.codec.decode(payload if self.codec.binary else payload.decode()))

    def buffered(self) -> int:
        return 0

    def close(self, code: int, reason: str) -> None:
        self.open, self.close_code, self.close_reason = False, code, reason
        self.closed.set()

    def abort(self) -> None:
        self.open = False


class Cluster(SingleProcess):
    """Telling which connections it heard closed; the rooms of players in `elsewhere`
    are on another process, which their inputs are forwarded to."""

    def __init__(self):
        self.gone, self.elsewhere, self.forwarded = [], set(), []

    def disconnected(self, conn) -> None:
        self.gone.append(conn)

    def forwards(self, conn) -> bool:
        return conn.player_id in self.elsewhere

    def forward(self, conn, message: dict) -> None:
        self.forwarded.append((conn.player_id, message))


class FakeLobby:
    """What the sessions ask of the lobby: inputs and disconnections, recorded."""

    draining = False

    def __init__(self):
        self.inputs, self.disconnected = [], []

    def input(self, player_id: str, keys: str, now_ms: int) -> None:
        if keys == "!":
            raise ProtocolError(ErrorCode.NOT_RACING, "no race is running")
        self.inputs.append((player_id, keys, now_ms))

    def disconnect(self, player_id: str, now_ms: int) -> None:
        self.disconnected.append((player_id, now_ms))


def session_state(msg_burst: int = 3, hello_timeout_s: float = 30.0, join_burst: int = 5):
    """SessionDeps and what the test reads back: every field is a real piece but the
    lobby (recorded) and `dispatch` (collects requests)."""
    clock, lobby, conns, metrics = ManualClock(), FakeLobby(), {}, Metrics()
    live = Live(Cluster())
    delivery = Delivery(conns, live.cluster, metrics, max_send_buffer=1 << 20)
    flushes, dispatched = [], []

    async def dispatch(conn, message):
        dispatched.append(message)

    inputs = Inputs(lobby, clock, lambda: flushes.append(1), live, metrics, delivery)
    deps = SessionDeps(
        msg_rate=1.0, msg_burst=msg_burst, hello_timeout_s=hello_timeout_s, clock=clock,
        lobby=lobby, flush=lambda: flushes.append(1), conns=conns, live=live,
        limits=ConnectionLimits(10, 2), failed_joins=FailedJoins(10, join_burst, 20),
        metrics=metrics, delivery=delivery, tasks=Tasks(), typed=inputs.typed,
        dispatch=dispatch)
    return deps, dispatched, flushes


async def until(check, timeout: float = 10.0) -> None:
    async def poll():
        while not check():
            await asyncio.sleep(0.005)
    await asyncio.wait_for(poll(), timeout)


async def test_a_session_alone_dispatches_in_order_then_refuses_and_closes_a_flood():
    deps, dispatched, _ = session_state(msg_burst=3)
    sessions = Sessions(deps)
    link = MemoryLink()
    conn = sessions.opened(link)
    assert deps.limits.total == 1
    for n in range(3):                    # the burst, dispatched in order
        conn.frame(json.dumps({"type": "ping", "id": n}))
    await until(lambda: len(dispatched) == 3)
    assert [m["id"] for m in dispatched] == [0, 1, 2]
    for n in range(3, 10):                # the clock stands still: nothing refills
        conn.frame(json.dumps({"type": "ping", "id": n}))
    assert len(dispatched) == 3
    refused = [m for m in link.seen if m["type"] == "error"]
    assert [(m["code"], m["id"]) for m in refused] == [(ErrorCode.RATE_LIMITED, n)
                                                       for n in (3, 4, 5)]
    assert (link.close_code, link.close_reason) == (CloseCode.POLICY, "message flood")
    assert deps.metrics.dropped_flood._value.get() == 1
    conn.closed()
    assert deps.limits.total == 0


async def test_a_player_s_input_takes_the_input_path_and_its_close_reaches_lobby_and_cluster():
    deps, dispatched, flushes = session_state()
    sessions = Sessions(deps)
    link = MemoryLink(codec=MSGPACK)
    conn = sessions.opened(link)
    conn.player_id = "p1"                 # what hello does (handlers/identity.py admit)
    deps.conns["p1"] = conn
    deps.clock.advance(250)
    conn.frame(msgpack.packb({"type": "input", "keys": "Sh"}))
    # Applied as it is read: no task, no dispatch.
    assert deps.lobby.inputs == [("p1", "Sh", deps.clock.now_ms())]
    assert dispatched == [] and len(flushes) == 1
    sessions.typed(conn, None, "!")       # the lobby refuses: an error, no exception
    assert link.seen[-1]["code"] == ErrorCode.NOT_RACING
    assert deps.metrics.messages_in["input"].value == 1 + 1
    before = len(flushes)
    conn.closed()
    assert "p1" not in deps.conns
    assert deps.lobby.disconnected == [("p1", deps.clock.now_ms())]
    assert deps.live.cluster.gone == [conn] and len(flushes) == before + 1


def test_the_input_path_alone_forwards_an_input_whose_room_is_elsewhere():
    deps, _, flushes = session_state()
    conn = SimpleNamespace(player_id="p2", edge=None)     # a local connection
    inputs = Inputs(deps.lobby, deps.clock, lambda: flushes.append(1), deps.live,
                    deps.metrics, deps.delivery)
    deps.live.cluster.elsewhere.add("p2")
    inputs.typed(conn, None, "ab")
    assert deps.live.cluster.forwarded == [("p2", {"type": "input", "keys": "ab"})]
    assert deps.lobby.inputs == [] and flushes == []
    deps.live.cluster.elsewhere.clear()
    inputs.typed(conn, None, "cd")
    assert deps.lobby.inputs == [("p2", "cd", deps.clock.now_ms())] and flushes == [1]
    assert deps.metrics.messages_in["input"].value == 2


async def test_a_replaced_connection_s_frames_are_ignored():
    deps, dispatched, _ = session_state()
    sessions = Sessions(deps)
    old, new = (sessions.opened(MemoryLink(codec=MSGPACK)) for _ in range(2))
    old.player_id = new.player_id = "p1"
    deps.conns["p1"] = new
    for conn, keys in ((old, "x"), (new, "S")):     # read as they arrive: no dispatch
        conn.frame(msgpack.packb({"type": "input", "keys": keys}))
    assert deps.lobby.inputs == [("p1", "S", deps.clock.now_ms())]
    old.frame(msgpack.packb({"type": "ping", "id": 1}))
    new.frame(msgpack.packb({"type": "ping", "id": 2}))
    await until(lambda: dispatched)
    await asyncio.sleep(0)
    assert [m["id"] for m in dispatched] == [2]


async def test_a_session_alone_closes_a_connection_that_says_no_hello_in_time():
    deps, _, _ = session_state(hello_timeout_s=0.01)
    link = MemoryLink()
    Sessions(deps).opened(link)
    await asyncio.wait_for(link.closed.wait(), 10)
    assert (link.close_code, link.close_reason) == (CloseCode.POLICY, "no hello in time")
    assert deps.metrics.dropped_no_hello._value.get() == 1


def handler_context(deps: SessionDeps, lobby) -> HandlerContext:
    """What join_room uses, shared with the sessions as the app shares it; every
    other field None, so a handler reaching for more fails here."""
    return HandlerContext(
        lobby=lobby, clock=deps.clock, delivery=deps.delivery, store=None, library=None,
        conns=deps.conns, live=deps.live, passwords=None, failed_joins=deps.failed_joins,
        login_limits=None, text_quota=None, report_quota=None, report_threshold=0,
        analyses=None, weak_keys=None, daily=None)


async def test_join_room_alone_seats_by_code_and_holds_a_guesser_to_its_failed_joins():
    config = load_config([])
    deps, _, _ = session_state(join_burst=2)
    lobby = Lobby(config.lobby(), iter(f"r{n}" for n in range(100)).__next__,
                  code_maker(config.route_tag))
    ctx = handler_context(deps, lobby)
    sessions = Sessions(deps)
    guest_link = MemoryLink()
    guest = sessions.opened(guest_link)
    guest.player_id, guest.name = "g", "G"
    deps.conns["g"] = guest
    room, _ = lobby.create_room("h", "H", {}, TEXT, deps.clock.now_ms())
    code = room.view(True)["code"]

    await join_room(ctx, guest, Request("join_room", 5, {"code": code}))
    joined = next(m for m in guest_link.seen if m["type"] == "joined")
    assert (joined["id"], joined["slot"], joined["room"]["code"]) == (5, 1, code)
    assert lobby.room_of("g") is room

    lobby.leave("g", deps.clock.now_ms())
    for _ in range(2):                    # two unknown codes: the connection's burst
        with pytest.raises(ProtocolError) as refused:
            await join_room(ctx, guest, Request("join_room", 6, {"code": "ZZZZZZ"}))
        assert refused.value.code == ErrorCode.ROOM_NOT_FOUND
    with pytest.raises(ProtocolError) as refused:   # then even the right code is refused
        await join_room(ctx, guest, Request("join_room", 7, {"code": code}))
    assert refused.value.code == ErrorCode.RATE_LIMITED
