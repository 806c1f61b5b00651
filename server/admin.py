"""`python -m server admin`: the operator's actions on the store, also while servers run
on it (SQLite in WAL mode takes a second writer; Redis serves many clients).

    python -m server admin --db FILE reports
    python -m server admin --redis-url URL hide-text 12

Actions: `reports`, `hide-text ID`, `restore-text ID`, `ban PLAYER_ID`,
`unban PLAYER_ID`, `daily-text ID` (today's text of the day, UTC). Each prints what it did (one line; `reports` one line per reported
text) and exits 0. A mistake (an unknown action, a missing or malformed argument, an
id nothing has, a database that isn't there) is one line on stderr and exit 1 (2 for
usage), never a traceback.

Running servers see the change without a restart: a ban at the player's next hello
or login (the store is read then), a hidden or restored text within a second
(server/net/trust.py), listings and leaderboards at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import time

from server.config import Config
from server.core import competition
from server.store import Store, StoreError

PROG = "python -m server admin"
NEEDS_ID = {"hide-text": "a text id", "restore-text": "a text id", "ban": "a player id",
            "unban": "a player id", "daily-text": "a text id"}
ACTIONS = ["reports", *NEEDS_ID]
REPORTS_SHOWN = 100
SHOWN_CHARS = 60            # of a title or a reason, on a report line


class Refused(Exception):
    """What the operator asked can't be done; the message is the one line to print."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise Refused(f"{message} (see --help)", 2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="The operator's actions on a Typerace store, "
                     "also while the server runs: list reported texts, hide or restore a "
                     "text, ban or unban a player, pin today's text of the day.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", help="the server's SQLite file (default: $TYPERACE_DB, "
                       f"else {Config.db})")
    where.add_argument("--redis-url", help="the servers' Redis instead of --db (default: "
                       "$TYPERACE_REDIS_URL)")
    parser.add_argument("action", choices=ACTIONS, help="what to do")
    parser.add_argument("id", nargs="?", help="the text id or player id the action is about")
    return parser


def _shown(value: str | None, limit: int = SHOWN_CHARS) -> str:
    """A player's words on the operator's terminal: one line, no control characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in value or "")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _text_id(raw: str) -> int:
    # ASCII digits only: str.isdigit() also takes "²" (int() then fails) and "٣" (3).
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) < 2**53:
        raise Refused(f"{raw!r} is not a text id (a positive integer)", 2)
    return int(raw)


def _player_id(raw: str) -> str:
    if not raw or not raw.isascii() or not raw.isprintable() or " " in raw:
        raise Refused(f"{raw!r} is not a player id", 2)
    return raw


def _where(args, environ) -> tuple[str, str]:
    """("--redis-url", URL) or ("--db", FILE): the store the operator means."""
    redis_url = args.redis_url or (None if args.db else environ.get("TYPERACE_REDIS_URL"))
    if redis_url:
        return "--redis-url", redis_url
    return "--db", args.db or environ.get("TYPERACE_DB") or Config.db


def _open_store(flag: str, value: str) -> Store:
    if flag == "--redis-url":
        from server.store.redis import RedisStore
        return RedisStore(value)
    if not os.path.isfile(value):
        # sqlite3 would make an empty database there: an operator's typo must not.
        raise Refused(f"--db {value}: no such database file")
    from server.store.sqlite import SqliteStore
    return SqliteStore(value)


async def _reports(store: Store) -> list[str]:
    reported = await store.reported_texts(REPORTS_SHOWN)
    if not reported:
        return ["no text has been reported"]
    lines = []
    for r in reported:
        author = f"by {_shown(r.author_name)} ({r.author})" if r.author else "library text"
        lines.append(f"text {r.text_id}: {r.reports} report{'s' * (r.reports != 1)}"
                     f"{', hidden' if r.hidden else ''}; \"{_shown(r.title)}\" {author}; "
                     f"latest: \"{_shown(r.last_reason)}\"")
    return lines


async def _hide(store: Store, raw: str, hide: bool) -> list[str]:
    text_id = _text_id(raw)
    was = await store.set_text_hidden(text_id, hide)
    if was is None:
        raise Refused(f"no text has id {text_id}")
    title = _shown((await store.get_text(text_id)).title)
    if hide:
        return [f"text {text_id} (\"{title}\") was hidden already" if was else
                f"text {text_id} (\"{title}\") hidden: out of lists, races and practice"]
    return [f"text {text_id} (\"{title}\") restored; reports no longer hide it" if was else
            f"text {text_id} (\"{title}\") was not hidden; reports no longer hide it"]


async def _pin_daily(store: Store, raw: str) -> list[str]:
    text_id = _text_id(raw)
    text = await store.get_text(text_id)
    if text is None:
        raise Refused(f"no text has id {text_id}")
    if text.hidden:
        raise Refused(f"text {text_id} is hidden: restore it first")
    day = competition.day_of(int(time.time() * 1000)).isoformat()
    await store.pin_daily_text(day, text_id)
    return [f"text {text_id} (\"{_shown(text.title)}\") is the text of {day} (UTC) "
            "from now to midnight"]


async def _ban(store: Store, raw: str, ban: bool) -> list[str]:
    player_id = _player_id(raw)
    was = (await store.check_identity(player_id, "")).banned
    name = await store.set_banned(player_id, ban)
    if name is None:
        raise Refused(f"no player has id {player_id!r}")
    who = f"player {player_id} ({_shown(name)})"
    if ban:
        return [f"{who} was banned already" if was else
                f"{who} banned: their next hello or login is refused, their results are "
                "off the leaderboards"]
    return [f"{who} unbanned: their results are back on the leaderboards" if was else
            f"{who} was not banned"]


async def run(args, flag: str, value: str) -> list[str]:
    if args.action in NEEDS_ID and args.id is None:
        raise Refused(f"{args.action} needs {NEEDS_ID[args.action]}", 2)
    if args.action == "reports" and args.id is not None:
        raise Refused("reports takes no argument", 2)
    store = _open_store(flag, value)
    await store.open()
    try:
        if args.action == "reports":
            return await _reports(store)
        if args.action in ("hide-text", "restore-text"):
            return await _hide(store, args.id, args.action == "hide-text")
        if args.action == "daily-text":
            return await _pin_daily(store, args.id)
        return await _ban(store, args.id, args.action == "ban")
    finally:
        await store.close()


def main(argv: list[str], environ=None) -> int:
    environ = os.environ if environ is None else environ
    flag = value = None
    try:
        args = build_parser().parse_args(argv)
        flag, value = _where(args, environ)
        lines = asyncio.run(run(args, flag, value))
    except Refused as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.status
    except (StoreError, sqlite3.Error, OSError) as exc:
        where = "" if str(exc).startswith("--") else f"{flag} {value}: "   # named already
        print(f"{PROG}: error: {where}{exc}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0
