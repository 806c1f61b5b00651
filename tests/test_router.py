"""The --workers router (server/net/router.py) on its own: a real listener and real
hand-off channels, the workers' ends read here."""

from __future__ import annotations

import select
import socket
import time

import pytest

from server.net import router as router_module
from server.net.codes import CODE_ALPHABET, route_tag_of
from server.net.handoff import MARK, channel_pair
from server.net.router import Router, listeners, room_code

WAIT = 10.0     # generous: the router runs in a thread


def test_the_room_is_read_from_the_request_line():
    assert room_code(b"GET /ws?room=3ABCDE HTTP/1.1\r\nHost: x\r\n\r\n") == "3ABCDE"
    assert room_code(b"GET /ws?x=1&room=ab-cd2 HTTP/1.1\r\n") == "ab-cd2"
    assert room_code(b"GET /ws?room=%33ABC HTTP/1.1\r\n") == "3ABC"     # percent-encoded
    assert room_code(b"GET /ws HTTP/1.1\r\n") is None
    assert room_code(b"GET /healthz?x=1 HTTP/1.1\r\n") is None
    assert room_code(b"garbage") is None
    assert room_code(b"GET /ws?room=2AB") == "2AB"           # a line not yet whole


def test_a_codes_tag_is_its_first_character_read_as_the_lobby_reads_codes():
    assert route_tag_of("2XXXXX") == 0 and route_tag_of("ZXXXXX") == 31
    assert route_tag_of(" ab-234") == CODE_ALPHABET.index("A")    # case, spaces, dashes
    assert route_tag_of("1XXXXX") is None and route_tag_of("OXXXXX") is None   # no 1, O
    assert route_tag_of("") is None and route_tag_of("--") is None


class Workers:
    """A router on a free port with `n` workers' channels; the test plays the workers."""

    def __init__(self, n: int, base_tag: int = 0):
        socks = listeners("127.0.0.1", 0)
        self.port = socks[0].getsockname()[1]
        self.router = Router(socks, n, base_tag)
        self.ends = []
        for i in range(n):
            ours, theirs = channel_pair()
            theirs.settimeout(WAIT)
            self.router.attach(i, ours)
            self.ends.append(theirs)
        self.router.start()

    def connect(self, request: bytes | None) -> socket.socket:
        client = socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)
        if request is not None:
            client.sendall(request)
        return client

    def received(self, index: int) -> socket.socket:
        """The next connection handed to worker `index` (fails after WAIT)."""
        message, fds, _, _ = socket.recv_fds(self.ends[index], 1, 1)
        assert message == MARK and len(fds) == 1
        return socket.socket(fileno=fds[0])

    def which(self) -> int:
        """The worker the next connection was handed to."""
        readable, _, _ = select.select(self.ends, [], [], WAIT)
        assert len(readable) == 1, readable
        index = self.ends.index(readable[0])
        self.received(index).close()
        return index

    def nothing_for(self, index: int) -> bool:
        self.ends[index].setblocking(False)
        try:
            socket.recv_fds(self.ends[index], 1, 1)
        except BlockingIOError:
            return True
        finally:
            self.ends[index].settimeout(WAIT)
        return False

    def close(self):
        self.router.stop()
        for end in self.ends:
            end.close()


@pytest.fixture
def workers():
    made = []

    def make(n: int, base_tag: int = 0) -> Workers:
        made.append(Workers(n, base_tag))
        return made[-1]
    yield make
    for w in made:
        w.close()


def _request(code: str | None) -> bytes:
    target = f"/ws?room={code}" if code else "/ws"
    return f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


def test_a_connection_naming_a_room_goes_to_the_worker_whose_tag_the_code_carries(workers):
    w = workers(3, base_tag=4)            # tags 4, 5, 6: codes starting 6, 7, 8
    for worker in (2, 0, 1, 2, 2, 0):
        code = CODE_ALPHABET[4 + worker] + "ABCDE"
        client = w.connect(_request(code))
        conn = w.received(worker)
        # The worker gets the very connection, with the request still unread in it.
        assert conn.recv(100).startswith(f"GET /ws?room={code} ".encode())
        conn.sendall(b"hello")
        assert client.recv(5) == b"hello"
        conn.close()
        client.close()
    assert all(w.nothing_for(i) for i in range(3))


def test_the_rest_go_to_the_workers_in_turn(workers):
    w = workers(2)
    seen = []
    # No room, a page, codes with no worker's tag (A is tag 8, B tag 9; the workers
    # have 0 and 1): each to the other worker than the last.
    for request in (_request(None), b"GET / HTTP/1.1\r\n\r\n", _request("ABCDEF"),
                    _request("BCDEFG"), _request(None), _request(None)):
        client = w.connect(request)
        seen.append(w.which())
        client.close()
    assert all(a != b for a, b in zip(seen, seen[1:])), seen


def test_a_request_that_comes_after_the_router_took_the_connection_is_routed_too(
        workers, caplog):
    w = workers(2)
    for worker in (1, 0, 1):
        client = w.connect(None)
        deadline = time.monotonic() + WAIT
        while not w.router._waiting:          # polling: the router has not accepted yet
            assert time.monotonic() < deadline
            time.sleep(0.01)
        client.sendall(_request(CODE_ALPHABET[worker] + "ABCDE"))
        conn = w.received(worker)
        assert conn.recv(100).startswith(b"GET /ws?room=")
        conn.close()
        client.close()
    assert not [r for r in caplog.records if r.name == "typerace.router"]
    # The kernel's epoll set holds the listener and the wake-up pipe, nothing handed over.
    with open(f"/proc/self/fdinfo/{w.router._selector.fileno()}") as info:
        assert sum(line.startswith("tfd:") for line in info) == 2


def test_a_room_whose_worker_is_down_goes_to_another(workers):
    w = workers(2)
    w.router.detach(1)                    # worker 1 died (or has not started yet)
    client = w.connect(_request(CODE_ALPHABET[1] + "ABCDE"))
    conn = w.received(0)
    assert conn.recv(100).startswith(b"GET /ws?room=3ABCDE")
    conn.close()
    client.close()


def test_a_connection_that_no_worker_can_take_is_closed(workers):
    w = workers(1)
    w.router.detach(0)
    client = w.connect(_request(None))
    answer = b""
    while chunk := client.recv(1000):     # answered, then closed by the router
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert answer.endswith(b"no worker is ready; try again in a moment\n")


def test_a_connection_that_sends_nothing_is_closed_after_the_wait(workers, monkeypatch):
    monkeypatch.setattr(router_module, "WAIT_S", 0.3)
    w = workers(1)
    client = w.connect(None)
    started = time.monotonic()
    assert client.recv(10) == b""
    assert 0.2 < time.monotonic() - started < 5
    assert w.nothing_for(0)


def test_nothing_else_can_join_the_routers_port(workers):
    w = workers(1)
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        with pytest.raises(OSError):
            other.bind(("127.0.0.1", w.port))
    with pytest.raises(OSError):
        listeners("127.0.0.1", w.port)
