"""The terminal client, headless: prompt_toolkit reads keys from a pipe and draws into a
string buffer, against the real server on port 0. A protocol client plays the other side."""

from __future__ import annotations

import asyncio
import io
import re
import time

import pytest
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output.vt100 import Vt100_Output

from client_demo import __main__ as cli
from client_demo.play import PlayApp
from client_demo.play_model import CODE, MENU, ROOM
from client_demo.play_view import render

PASSAGE = "The quick brown fox jumps over the lazy dog."
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


async def until(predicate, timeout: float = 20.0, what: str = "condition"):
    """Wait for the app's state to satisfy `predicate` (polled; a deadline, not a sleep)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Terminal:
    """A running PlayApp with a key pipe and a captured screen."""

    def __init__(self, url: str, name: str):
        self._pipe_cm = create_pipe_input()
        self.keys = self._pipe_cm.__enter__()
        self.screen = io.StringIO()
        output = Vt100_Output(self.screen, lambda: Size(rows=40, columns=100), term="xterm",
                              enable_cpr=False)
        self.tui = PlayApp(url, name, "json", input=self.keys, output=output)
        self.model = self.tui.model
        self.task = asyncio.create_task(self.tui.run())

    def press(self, text: str) -> None:
        self.keys.send_text(text)

    def drawn(self) -> str:
        """Everything written to the terminal so far, escape codes removed."""
        return ANSI.sub("", self.screen.getvalue())

    def view(self) -> str:
        return "".join(t for _, t in render(self.model, int(time.time() * 1000), 99))

    async def type_passage(self, text: str) -> None:
        for i in range(0, len(text), 6):        # a few keys per read, like a fast typist
            self.press(text[i:i + 6])
            await asyncio.sleep(0)

    async def stop(self) -> int:
        if not self.task.done():
            self.press("\x03")                   # Ctrl-C
        code = await asyncio.wait_for(self.task, 10)
        self._pipe_cm.__exit__(None, None, None)
        return code


@pytest.fixture
async def short_server(make_server, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text(f"# Foxes\n{PASSAGE}\n", encoding="utf-8")
    return await make_server(texts=str(texts), countdown_s=1, practice_countdown_s=1,
                             lobby_wait_s=60)


@pytest.fixture
async def terminal(short_server):
    opened = []

    async def open_terminal(name: str) -> Terminal:
        term = Terminal(f"ws://127.0.0.1:{short_server.port}/ws", name)
        opened.append(term)
        await until(lambda: term.model.player_id is not None, what="welcome")
        return term

    yield open_terminal
    for term in opened:
        assert await term.stop() == 0, term.tui.error


async def test_quick_race_from_the_terminal_against_another_player(terminal, short_server,
                                                                   connect):
    tia = await terminal("Tia")
    assert "quick race" in tia.drawn()
    tia.press("r")
    await until(lambda: tia.model.mode == ROOM, what="seated")
    bob = await connect("Bob", "msgpack", target=short_server)
    await bob.request({"type": "quick_race"})
    await bob.expect("countdown")

    await until(lambda: tia.model.can_type(int(time.time() * 1000)), what="race start")
    await until(lambda: len(tia.model.lanes) == 2, what="two lanes")
    await bob.send({"type": "input", "keys": PASSAGE[:20]})
    # A typo, marked wrong, then corrected with backspace.
    tia.press(PASSAGE[:10] + "#")
    await until(lambda: tia.model.typing.wrong == ["#"], what="the typo")
    assert "#" not in tia.view()                  # the passage shows, never the typed char
    tia.press("\x7f")
    await tia.type_passage(PASSAGE[10:])
    await until(lambda: tia.model.finish is not None, what="Tia's finish")
    assert tia.model.finish["place"] == 1
    await until(lambda: tia.model.lanes and any(
        lane.name == "Bob" and lane.pos == 20 for lane in tia.model.lanes.values()),
        what="Bob's lane at 20")
    await bob.send({"type": "input", "keys": PASSAGE[20:]})

    await until(lambda: tia.model.results is not None, what="results")
    assert [(r["name"], r["status"]) for r in tia.model.results] == [
        ("Tia", "finished"), ("Bob", "finished")]
    results = await bob.expect("results")
    assert results["ranking"][0]["accuracy"] == pytest.approx(len(PASSAGE) / (len(PASSAGE) + 1),
                                                              abs=1e-4)
    await until(lambda: "Results" in tia.drawn(), what="results drawn")
    screen = tia.drawn()
    assert "Tia" in screen and "Bob" in screen and "finished" in screen
    tia.press("\x1b")                             # Esc: back to the menu
    await until(lambda: tia.model.mode == MENU, what="menu")


async def test_join_a_private_room_by_code_and_race(terminal, short_server, connect):
    host = await connect("Hana", "json", target=short_server)
    joined = await host.request({"type": "create_room", "settings": {"countdown_s": 1}})
    code = joined["room"]["code"]

    tom = await terminal("Tom")
    tom.press("j")
    await until(lambda: tom.model.mode == CODE, what="code entry")
    tom.press(code.lower() + "\r")
    await until(lambda: tom.model.mode == ROOM, what="seated by code")
    assert tom.model.room["code"] == code
    await host.expect("room", where=lambda m: len(m["room"]["players"]) == 2)
    tom.press("\r")                               # not the host: Enter does nothing
    await host.send({"type": "start"})
    await host.expect("countdown")
    await until(lambda: tom.model.can_type(int(time.time() * 1000)), what="race start")
    await tom.type_passage(PASSAGE)
    finish = await host.expect("finish")
    assert finish["slot"] == tom.model.slot
    await host.close()                            # the host drops: the race ends
    await until(lambda: tom.model.results is not None, what="results")
    assert tom.model.results[0]["name"] == "Tom"


async def test_a_dropped_connection_reconnects_into_the_race(terminal, short_server, connect):
    host = await connect("Hana", "json", target=short_server)
    joined = await host.request({"type": "create_room", "settings": {"countdown_s": 1}})
    tom = await terminal("Tom")
    tom.press("j" + joined["room"]["code"] + "\r")
    await host.expect("room", where=lambda m: len(m["room"]["players"]) == 2)
    await host.send({"type": "start"})
    await until(lambda: tom.model.can_type(int(time.time() * 1000)), what="race start")
    tom.press(PASSAGE[:12])
    await host.expect("tick", where=lambda m: [tom.model.slot, 12] in [p[:2] for p in m["p"]])

    old_client = tom.tui.client
    (conn,) = [c for c in short_server.conns.values() if c.name == "Tom"]
    conn.link.close(1011, "test: the connection drops")
    await until(lambda: tom.tui.client is not old_client, what="a new connection")
    await until(lambda: any(m.get("type") == "resume" for m in tom.tui.client.seen),
                what="the seat given back")
    assert tom.model.mode == ROOM and tom.model.typing.pos == 12
    await tom.type_passage(PASSAGE[12:])
    await host.expect("finish", where=lambda m: m["slot"] == tom.model.slot)
    await host.close()
    await until(lambda: tom.model.results is not None, what="results")
    assert [(r["name"], r["status"]) for r in tom.model.results][0] == ("Tom", "finished")


async def test_practice_alone_and_a_bad_code_says_so(terminal):
    pia = await terminal("Pia")
    pia.press("w")
    pia.press("NOSUCH\r")
    await until(lambda: "room_not_found" in pia.model.notice, what="the error")
    await until(lambda: "room_not_found" in pia.drawn(), what="the error drawn")
    pia.press("\x1b")
    await until(lambda: pia.model.mode == MENU, what="menu")
    pia.press("p")
    await until(lambda: pia.model.can_type(int(time.time() * 1000)), timeout=30,
                what="practice start")
    await pia.type_passage(PASSAGE)
    await until(lambda: pia.model.results is not None, what="results")
    assert [r["status"] for r in pia.model.results] == ["finished"]
    assert pia.model.results[0]["accuracy"] == 1


def test_play_is_a_subcommand(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["play", "--help"])
    assert done.value.code == 0
    assert "--url" in capsys.readouterr().out


async def test_an_unreachable_server_is_reported(unused_tcp_port):
    tui = PlayApp(f"ws://127.0.0.1:{unused_tcp_port}/ws", "Ann")
    assert await tui.run() == 1
    assert "cannot connect" in tui.error
