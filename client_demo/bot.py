"""Bots: clients that race like people. `python -m client_demo bot --wpm 90`.

The plan of keystrokes for a passage is a pure function of the passage, the speed,
the accuracy and a random.Random, so it can be tested without a clock or a server.
The runner only replays that plan against the real server, batching keys about
every SEND_BATCH_MS (protocol/messages.py) as a browser client would.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys

from websockets.exceptions import ConnectionClosed

from client_demo.client import Client, ServerError, room_url
from client_demo.resend import lost_notice
from protocol import scoring
from protocol.codes import ErrorCode, RoomState
from protocol.messages import SEND_BATCH_MS
from protocol.typing_model import BACKSPACE, BREAK, BREAK_KEYS

LATE_NOTICE = 0.3        # how often a typo is noticed one key late
ROWS = ["`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./"]


def _neighbour(ch: str, rng: random.Random) -> str:
    """A plausible wrong key for `ch`: a neighbour on the keyboard; never `ch` itself."""
    lower = ch.lower()
    for row in ROWS:
        i = row.find(lower)
        if i >= 0:
            options = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            wrong = rng.choice(options)
            return wrong.upper() if ch.isupper() else wrong
    return rng.choice([c for c in "etaoinsr" if c != ch])


def plan_keystrokes(passage: str, wpm: float, accuracy: float,
                    rng: random.Random) -> list[tuple[int, str]]:
    """Every keystroke a bot types for `passage`: [(ms after the start, key)].

    Intervals are jittered (log-normal, longer after a space or punctuation). A typo
    is a neighbouring key, sometimes followed by one more key before the bot notices;
    after a pause it deletes them with backspace and types on. A paragraph break is
    typed as a space or Enter, as people do. Typos are as frequent
    as `accuracy` (correct keystrokes / all keystrokes) asks, and all times are scaled
    so that the passage is done when `wpm` says (chars / 5 words in wpm minutes),
    give or take up to 10% of form on the day.
    """
    if not wpm > 0:
        raise ValueError("wpm must be positive")
    if not 0.5 <= accuracy <= 1.0:
        raise ValueError("accuracy must be between 0.5 and 1")
    # accuracy = n / (n + typos * (1 + LATE_NOTICE)), with typos = n * p_typo.
    p_typo = (1.0 / accuracy - 1.0) / (1.0 + LATE_NOTICE)
    steps: list[tuple[float, str]] = []       # (relative interval, key)

    def beat(previous: str) -> float:
        pause = 1.4 if previous in " .,;:!?\n" else 1.0
        return pause * rng.lognormvariate(0.0, 0.35)

    previous = " "
    for i, ch in enumerate(passage):
        if rng.random() < p_typo:
            wrong = [_neighbour(ch, rng)]
            if i + 1 < len(passage) and rng.random() < LATE_NOTICE:
                wrong.append(passage[i + 1])  # typed on, behind the mistake: wrong too
            for key in wrong:
                steps.append((beat(previous), key))
                previous = key
            steps.append((2.5 * beat(previous), BACKSPACE))   # noticing takes a moment
            steps.extend((0.6 * beat(BACKSPACE), BACKSPACE) for _ in wrong[1:])
        key = rng.choice(BREAK_KEYS) if ch == BREAK else ch
        steps.append((beat(previous), key))
        previous = key
    if not steps:
        return []
    # A person's speed varies a few percent from race to race; so does the bot's.
    form = min(1.1, max(0.9, rng.gauss(1.0, 0.04)))
    target_ms = len(passage) / scoring.CHARS_PER_WORD / (wpm * form) * 60_000
    scale = target_ms / sum(interval for interval, _ in steps)
    plan, t = [], 0.0
    for interval, key in steps:
        t += interval * scale
        plan.append((round(t), key))
    return plan


def batches(plan: list[tuple[int, str]], every_ms: int = SEND_BATCH_MS) -> list[tuple[int, str]]:
    """Keystrokes grouped as a client sends them: [(send at ms, keys)], every `every_ms`."""
    out: list[tuple[int, str]] = []
    for t, key in plan:
        send_at = math.ceil(t / every_ms) * every_ms
        if out and out[-1][0] == send_at:
            out[-1] = (send_at, out[-1][1] + key)
        else:
            out.append((send_at, key))
    return out


class Bot:
    """One bot on one connection: joins, races `races` times, collects its results."""

    def __init__(self, url: str, name: str, wpm: float, accuracy: float = 0.97, *,
                 room: str | None = None, watch: str | None = None,
                 practice: int | None = None, codec: str = "json",
                 races: int = 1, rng: random.Random | None = None, out=print,
                 sync_clock: bool = True):
        self.url, self.name, self.wpm, self.accuracy = url, name, wpm, accuracy
        self.room, self.watch, self.codec, self.races = room, watch, codec, races
        self.practice = practice            # a text_id to practise alone on
        self.rng = rng or random.Random()
        self.out = out
        self.client: Client | None = None
        self.results: list[dict] = []       # the `results` messages of its races
        # False: start typing when the race's start is heard of, half a round trip late
        # (how clients did before they synced the server's clock; bench/lag.py compares)
        self.sync_clock = sync_clock

    async def _enter(self) -> None:
        if self.watch:
            await self.client.request({"type": "watch", "code": self.watch})
        elif self.room:
            await self.client.request({"type": "join_room", "code": self.room})
        elif self.practice is not None:
            await self.client.request({"type": "practice", "text_id": self.practice})
        else:
            await self.client.request({"type": "quick_race"})

    async def _type(self, body: str, start_server_ms: int | None = None) -> None:
        """Type `body` from the race's start by the server's clock (estimated from
        ping/pong, so not half a round trip late), or from now when it is unknown."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        if start_server_ms is not None:
            start += (start_server_ms - self.client.server_now_ms()) / 1000
        client = self.client
        try:
            for send_at, keys in batches(plan_keystrokes(body, self.wpm, self.accuracy, self.rng)):
                await asyncio.sleep(max(0.0, start + send_at / 1000 - loop.time()))
                client.type_keys(keys)
                await client.send_keys()
            while client.keys.holding:        # keys refused (`unavailable`): sent again
                await asyncio.sleep(SEND_BATCH_MS / 1000)
                await client.send_keys()
        except ConnectionClosed:
            return                            # the main loop reports the closed connection

    async def run(self) -> list[dict]:
        self.client = await Client.connect(room_url(self.url, self.watch or self.room), self.codec)
        typing: asyncio.Task | None = None
        try:
            await self.client.hello(self.name)
            if self.sync_clock:
                await self.client.sync_clock()
            await self._enter()
            body = None
            while len(self.results) < self.races:
                message = await self.client.recv(timeout=None)
                kind = message.get("type")
                if kind == "countdown":
                    body = message["text"]["body"]
                    if not self.watch and typing is None and self.sync_clock:
                        typing = asyncio.create_task(
                            self._type(body, message.get("start_server_ms")))
                elif self.watch:
                    pass
                elif body is not None and typing is None and (
                        kind == "tick" or (kind == "room" and message["room"]["state"] == RoomState.RACING)):
                    # joined mid-race, or a bot that does not sync (typing from now)
                    typing = asyncio.create_task(self._type(body))
                elif kind == "error":
                    if message.get("code") == ErrorCode.NOT_RACING and typing is not None:
                        typing.cancel()       # the race ended under us (time limit)
                    else:
                        self.out(f"{self.name}: error {message.get('code')}: "
                                 f"{message.get('message')}")
                elif kind in ("left", "kicked"):
                    raise ServerError({"code": kind, "message": "removed from the room"})
                if kind == "results":
                    if typing is not None:
                        typing.cancel()
                    if self.client.keys.lost:
                        self.out(f"{self.name}: {lost_notice(self.client.keys.lost)}")
                        self.client.keys.lost = 0
                    typing, body = None, None
                    self.results.append(message)
                    self.out(self.describe(message))
                    if len(self.results) < self.races and not (self.room or self.watch):
                        await self._enter()
            return self.results
        finally:
            if typing is not None:
                typing.cancel()
            await self.client.close()

    def describe(self, results: dict) -> str:
        """One line for a racer, the whole ranking for a spectator."""
        ranking = results["ranking"]
        if self.watch:
            return f"race {results['race_id']}: " + "; ".join(
                f"{r['place']}. {r['name']} {r['wpm']:.1f} wpm {r['status']}" for r in ranking)
        mine = next((r for r in ranking if r["player_id"] == self.client.player_id), None)
        if mine is None:
            return f"{self.name}: race {results['race_id']} ended without me"
        return (f"{self.name}: place {mine['place']}/{len(ranking)}, {mine['status']}, "
                f"{mine['wpm']:.1f} wpm, {mine['accuracy'] * 100:.1f}% accuracy, "
                f"{mine['race_ms'] / 1000:.1f} s")


def bot_names(count: int, name: str | None) -> list[str]:
    """One bot is NAME (default Bot); several are NAME-1..N."""
    base = name or "Bot"
    return [base] if count == 1 else [f"{base}-{i}" for i in range(1, count + 1)]


async def run_bots(url: str, count: int = 1, name: str | None = None, seed: int | None = None,
                   **options) -> list[list[dict]]:
    """`count` bots in this process, racing side by side; each one's results."""
    bots = [Bot(url, bot_name, rng=random.Random(None if seed is None else seed + i), **options)
            for i, bot_name in enumerate(bot_names(count, name))]
    return await asyncio.gather(*(bot.run() for bot in bots))


# ---- command line ----------------------------------------------------------------

def _positive(kind):
    def parse(raw: str):
        try:
            value = kind(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {raw!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {raw}")
        return value
    return parse


def _accuracy(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction, got {raw!r}") from None
    if not 0.5 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0.5 and 1, got {raw}")
    return value


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "bot", help="race (or watch) with bots that type like people",
        description="Bots join a quick race (or a private room, or watch a room), type the "
        "passage at about --wpm with jittered key intervals and corrected typos, print "
        "their results and exit after --races races.")
    p.add_argument("--url", default="ws://127.0.0.1:8765/ws", help="server WebSocket URL "
                   "(default: %(default)s)")
    p.add_argument("--wpm", type=_positive(float), default=60.0,
                   help="typing speed, words per minute (default: %(default)s)")
    p.add_argument("--accuracy", type=_accuracy, default=0.97,
                   help="correct keystrokes / all keystrokes, 0.5-1 (default: %(default)s)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--room", metavar="CODE", help="join this private room instead of a "
                       "quick race (its host starts the races)")
    where.add_argument("--watch", metavar="CODE", help="watch a room (join code, watch code "
                       "or public room_id) and print its results")
    where.add_argument("--practice", metavar="TEXT_ID", type=_positive(int),
                       help="practise alone on this text (e.g. one a player wrote)")
    p.add_argument("--count", type=_positive(int), default=1,
                   help="bots in this process, named NAME-1..N (default: %(default)s)")
    p.add_argument("--name", help="bot name (default: Bot, or Bot-1..N with --count)")
    p.add_argument("--codec", choices=("json", "msgpack"), default="json",
                   help="wire codec (default: %(default)s)")
    p.add_argument("--races", type=_positive(int), default=1,
                   help="races to run (or watch) before exiting (default: %(default)s)")
    p.add_argument("--seed", type=int, help="random seed, for repeatable typing")
    p.set_defaults(run=main)


def main(args: argparse.Namespace) -> int:
    try:
        asyncio.run(run_bots(args.url, args.count, args.name, args.seed, wpm=args.wpm,
                             accuracy=args.accuracy, room=args.room, watch=args.watch,
                             practice=args.practice, codec=args.codec, races=args.races,
                             out=lambda line: print(line, flush=True)))
    except ServerError as exc:
        print(f"bot: the server refused: {exc}", file=sys.stderr)
        return 1
    except (OSError, EOFError) as exc:
        print(f"bot: can't reach {args.url}: {exc}", file=sys.stderr)
        return 1
    except ConnectionClosed as exc:
        print(f"bot: the server closed the connection: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
