"""`python -m client_demo play`: race from a terminal (prompt_toolkit full-screen app).

The shell only moves things: server messages and key presses go into PlayModel
(play_model.py, pure), its requests go to the server, `render()` (play_view.py, pure)
is drawn. Typed keys are batched and sent every FLUSH_S.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time

from prompt_toolkit.application import Application
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.styles import Style
from websockets.exceptions import ConnectionClosed

from client_demo.client import Client, room_url
from client_demo.resend import lost_notice
from client_demo.play_model import BACKSPACE_KEY, ENTER, ESCAPE, QUIT, PlayModel
from client_demo.play_view import STYLE, render
from protocol.codes import CloseCode
from protocol.messages import SEND_BATCH_MS

FLUSH_S = SEND_BATCH_MS / 1000
REFRESH_S = 0.1          # redraw rate for the countdown and live wpm
RECONNECT_DELAYS_S = (0.2, 0.5, 1, 2, 4, 8)
HOLDING = "the race's server is out of reach: your keys will be sent again"


def now_ms() -> int:
    return int(time.time() * 1000)


class PlayApp:
    def __init__(self, url: str, name: str, codec: str = "json", input=None, output=None,
                 password: str | None = None, first: dict | None = None):
        self.url = url
        self._first = first           # a join_room or watch to send once welcomed
        self.codec = codec
        self.model = PlayModel(name)
        self._password = password     # log in to the account `name` (once: then the token)
        self.client: Client | None = None
        self.error: str | None = None
        self._sending: set[asyncio.Task] = set()
        self.app = Application(
            layout=Layout(Window(FormattedTextControl(self._draw, focusable=True),
                                 wrap_lines=True)),
            key_bindings=self._bindings(), style=Style.from_dict(STYLE), full_screen=True,
            input=input, output=output, refresh_interval=REFRESH_S)

    def _draw(self):
        size = self.app.output.get_size() if self.app.output else None
        width, height = (size.columns, size.rows) if size else (80, None)
        return render(self.model, now_ms(), max(20, width - 1), height)

    def _bindings(self) -> KeyBindings:
        kb = KeyBindings()

        def press(key: str) -> None:
            for request in self.model.on_key(key, now_ms()):
                self._send(request)
            if self.model.quit:
                self.app.exit()

        kb.add("c-c")(lambda e: press(QUIT))
        kb.add("c-d")(lambda e: press(QUIT))
        kb.add("escape", eager=True)(lambda e: press(ESCAPE))
        kb.add("enter")(lambda e: press(ENTER))
        kb.add("backspace")(lambda e: press(BACKSPACE_KEY))

        @kb.add(Keys.Any)
        def _(event):
            for ch in event.data:
                if ch.isprintable():
                    press(ch)
        return kb

    def _send(self, message: dict) -> None:
        if self.client is None:
            return
        task = asyncio.get_running_loop().create_task(self._send_quietly(message))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_quietly(self, message: dict) -> None:
        try:
            await self.client.send(message)
        except ConnectionClosed:
            pass                  # the receiver notices and reconnects

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.client.recv(timeout=None)
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                if code == CloseCode.REPLACED or not await self._reconnect():
                    self.error = (f"the server closed the connection ({code})"
                                  if code != CloseCode.REPLACED else
                                  "you connected again elsewhere with the same identity")
                    self.app.exit()
                    return
                continue
            self.model.on_message(message, now_ms())
            for request in self.model.follow_ups(message):
                self._send(request)
            self.app.invalidate()

    async def _reconnect(self) -> bool:
        """Say hello again with our token: the server gives back a held seat (joined,
        the race so far, our own progress), which the model takes like any message."""
        token = (self.client.welcome or {}).get("token")
        for delay in RECONNECT_DELAYS_S:
            self.model.notice = "connection lost; reconnecting…"
            self.app.invalidate()
            await asyncio.sleep(delay)
            try:
                client = await Client.connect(self.url, self.codec)
                welcome = await client.hello(self.model.name, token)
                self.model.clock = await client.sync_clock()
            except (OSError, ConnectionClosed, TimeoutError):
                continue
            self.client = client
            self.model.notice = ""
            self.model.on_message(welcome, now_ms())
            return True
        return False

    async def _flush(self) -> None:
        """Typed keys go every FLUSH_S; keys the server refused go again, in order
        (client_demo/resend.py), and the player is told while they wait or are dropped."""
        while True:
            await asyncio.sleep(FLUSH_S)
            message = self.model.take_input()
            client = self.client
            if message is not None:
                client.type_keys(message["keys"])
            try:
                await client.send_keys()
            except ConnectionClosed:
                pass              # the receiver reconnects; resume restores our progress
            keys = client.keys
            if keys.lost:
                self.model.notice, keys.lost = lost_notice(keys.lost), 0
            elif keys.holding:
                self.model.notice = HOLDING
            elif self.model.notice == HOLDING:
                self.model.notice = ""

    async def run(self) -> int:
        try:
            self.client = await Client.connect(self.url, self.codec)
            if self._password is not None:
                password, self._password = self._password, None
                welcome = await self.client.login(self.model.name, password)
            else:
                welcome = await self.client.hello(self.model.name)
            self.model.clock = await self.client.sync_clock()
        except (OSError, ConnectionClosed, TimeoutError) as exc:
            self.error = f"cannot connect to {self.url}: {exc}"
            return 1
        except Exception as exc:           # ServerError: e.g. invalid_name
            self.error = str(exc)
            await self.client.close()
            return 1
        self.model.on_message(welcome, now_ms())
        for request in self.model.follow_ups(welcome):
            self._send(request)
        if self._first is not None:
            self._send(self._first)
        tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._flush())]
        try:
            await self.app.run_async()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.client.close()
        return 1 if self.error else 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "play", help="race from a terminal",
        description="A full-screen terminal client: quick race, practice, join or watch "
        "a room by code; live lanes, the passage with typed and wrong characters, results.")
    p.add_argument("--url", default="ws://127.0.0.1:8765/ws",
                   help="server WebSocket URL (default: %(default)s)")
    p.add_argument("--name", default=None, help="your name as a guest (default: your login "
                   "name)")
    p.add_argument("--login", metavar="NAME", default=None,
                   help="log in to your account NAME instead (the password is asked for, "
                   "without echo)")
    p.add_argument("--codec", choices=("json", "msgpack"), default="msgpack",
                   help="wire codec (default: %(default)s)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--join", metavar="CODE", help="join this private room at once (the "
                       "code rides in the URL, for a load balancer to route by)")
    where.add_argument("--watch", metavar="CODE", help="watch this room at once")
    p.set_defaults(run=main)


def default_name() -> str:
    try:
        return getpass.getuser()[:24] or "Player"
    except Exception:
        return "Player"


def main(args: argparse.Namespace) -> int:
    password = None
    if args.login:
        try:
            password = getpass.getpass(f"Password for {args.login}: ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 130
    code = args.join or args.watch
    first = None
    if code:
        first = {"type": "join_room" if args.join else "watch", "code": code}
    tui = PlayApp(room_url(args.url, code), args.login or args.name or default_name(),
                  args.codec, password=password, first=first)
    try:
        code = asyncio.run(tui.run())
    except KeyboardInterrupt:
        code = 130
    if tui.error:
        print(f"typerace: {tui.error}", file=sys.stderr)
    return code
