"""Client message validation: dict in, checked `Request` out, in one place.

Every limit a client can hit is declared here, so protocol/REFERENCE.md and the
server agree. A message that breaks a rule raises ProtocolError with the code
protocol/REFERENCE.md names; the connection lives on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from protocol.codes import ErrorCode
from protocol.typeable import IGNORABLE, JOINERS

EMOJI_VARIATIONS = (0xFE00, 0xFE0F)     # a phone's "❤️": names compare without them

NAME_MAX = 24
TOKEN_MAX = 512
CODE_MAX = 32
KEYS_MAX = 2000         # characters in one `input`: far more than anyone types between
                        # two inputs (pasting is flagged, not refused; see
                        # server/core/integrity.py)
SEND_BATCH_MS = 100     # clients send the keys typed at most this long after: ten inputs
                        # a second per racer, well inside the message rate (--msg-rate)
# An `input` refused with `unavailable` (its room's process is out of reach, REFERENCE.md)
# is sent again by clients, in order and before later keys (client_demo/resend.py and
# client_demo/web/resend.js): first after RESEND_FIRST_MS, then twice as long each time,
# up to RESEND_MAX_MS; after RESEND_GIVE_UP_MS of trouble the held keys are dropped.
RESEND_FIRST_MS = 500
RESEND_MAX_MS = 4000
RESEND_GIVE_UP_MS = 30_000
TITLE_MAX = 80
BODY_MAX = 10_000       # characters in a passage (about 1,800 words), as stored
BODY_MIN = 20
BODY_RAW_MAX = 2 * BODY_MAX   # a submitted body before its whitespace is normalized
SOURCE_MAX = 120
PAGE_MAX = 100
MAX_PLAYERS_LIMIT = 100
COUNTDOWN_MAX_S = 60
ID_LIMIT = 2**53        # ids stay exact in JavaScript numbers
PASSWORD_MIN = 8        # an account's password: 8-256 characters (`weak_password`)
PASSWORD_MAX = 256
REASON_MAX = 200        # why a player reports a text


class ProtocolError(Exception):
    """A client's mistake: becomes an `error` {code, message} and nothing else."""

    def __init__(self, code: ErrorCode, message: str, close: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.close = close          # a WebSocket close code when the connection must end


@dataclass(frozen=True)
class Str:
    max_len: int
    min_len: int = 0
    code: ErrorCode = ErrorCode.BAD_MESSAGE       # the error a length outside the limits gets
    rule: str = ""                  # said when a value is far too long, if the limit
                                    # a person should know is not max_len


@dataclass(frozen=True)
class Int:
    lo: int
    hi: int


@dataclass(frozen=True)
class Map:
    pass


@dataclass(frozen=True)
class Bool:
    pass


GHOST_NAMED = ("best", "top")    # the player's own best on the text; the text's leader


@dataclass(frozen=True)
class GhostRef:
    """`practice.ghost`: one of GHOST_NAMED, or {race_id, slot} naming a saved result."""


# type -> {field: (kind, required)}. Unknown extra fields are ignored (forward compatible).
SCHEMAS: dict[str, dict[str, tuple[object, bool]]] = {
    "hello": {"name": (Str(256, 0, ErrorCode.INVALID_NAME), True), "token": (Str(TOKEN_MAX), False)},
    "ping": {},
    "quick_race": {},
    "create_room": {"settings": (Map(), False)},
    "join_room": {"code": (Str(CODE_MAX, 1), True)},
    "watch": {"code": (Str(CODE_MAX, 1), True)},
    "list_races": {},
    "leave": {},
    "start": {},
    "kick": {"slot": (Int(0, MAX_PLAYERS_LIMIT * 100), True)},
    "configure": {"settings": (Map(), True)},
    "rematch": {},
    "input": {"keys": (Str(KEYS_MAX), True)},
    "list_texts": {"offset": (Int(0, 10**9), False), "limit": (Int(1, PAGE_MAX), False),
                   "author": (Str(64), False)},
    "submit_text": {"title": (Str(1000), True),
                    "body": (Str(BODY_RAW_MAX, 0, ErrorCode.TEXT_INVALID,
                                 f"a text is at most {BODY_MAX} characters"), True),
                    "source": (Str(1000), False)},
    "practice": {"text_id": (Int(1, ID_LIMIT), False), "ghost": (GhostRef(), False),
                 "weak_keys": (Bool(), False)},
    "player_stats": {"player_id": (Str(64), False)},
    "text_stats": {"text_id": (Int(1, ID_LIMIT), True)},
    "leaderboard": {"text_id": (Int(1, ID_LIMIT), False)},
    "replay": {"race_id": (Str(64, 1), True)},
    "race_analysis": {"race_id": (Str(64, 1), True),
                      "slot": (Int(0, MAX_PLAYERS_LIMIT * 100), True)},
    "key_stats": {"player_id": (Str(64), False)},
    # Accounts. A password is never echoed in an error message.
    "register": {"name": (Str(256, 0, ErrorCode.INVALID_NAME), True),
                 "password": (Str(PASSWORD_MAX, PASSWORD_MIN, ErrorCode.WEAK_PASSWORD), True)},
    "login": {"name": (Str(256, 0, ErrorCode.INVALID_NAME), True),
              "password": (Str(PASSWORD_MAX, 1), True)},
    "change_password": {"password": (Str(PASSWORD_MAX, 1), True),
                        "new_password": (Str(PASSWORD_MAX, PASSWORD_MIN,
                                             ErrorCode.WEAK_PASSWORD), True)},
    "report_text": {"text_id": (Int(1, ID_LIMIT), True), "reason": (Str(REASON_MAX, 1), True)},
    # Competitions (server/core/competition.py).
    "daily": {},
    "points_board": {"window": (Str(8, 1), True)},
}



def _practice_rules(args: dict) -> None:
    if args.get("ghost") in GHOST_NAMED and "text_id" not in args:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"a \"{args['ghost']}\" ghost needs 'text_id'")
    if args.get("weak_keys") and ("text_id" in args or "ghost" in args):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "a weak-key passage is composed for you: "
                            "'weak_keys' takes no 'text_id' or 'ghost'")


POINTS_WINDOWS = ("day", "week", "all")     # day: UTC; week: ISO week, UTC


def _known_window(args: dict) -> None:
    if args["window"] not in POINTS_WINDOWS:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"window must be one of {', '.join(POINTS_WINDOWS)}")


# Rules across the fields of one message, checked after each field passed.
RULES = {"practice": _practice_rules, "points_board": _known_window}

# Message types whose field errors carry their own code instead of bad_message:
# protocol/REFERENCE.md promises `text_invalid` for anything wrong with a submitted text.
FIELD_ERROR_CODES = {"submit_text": ErrorCode.TEXT_INVALID}

SETTINGS = {
    "max_players": Int(2, MAX_PLAYERS_LIMIT),
    "countdown_s": Int(0, COUNTDOWN_MAX_S),
    "text_id": Int(1, ID_LIMIT),
}


@dataclass(frozen=True)
class Request:
    type: str
    id: int | None
    args: dict = field(default_factory=dict)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(name: str, kind, value):
    if isinstance(kind, Str):
        if not isinstance(value, str):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"field '{name}' must be a string")
        if not kind.min_len <= len(value) <= kind.max_len:
            if kind.code != ErrorCode.BAD_MESSAGE and kind.min_len == 0:   # names: see clean_name
                rule = f" ({kind.rule}; it has {len(value)})" if kind.rule else ""
                raise ProtocolError(kind.code, f"field '{name}' is far too long{rule}")
            raise ProtocolError(kind.code,
                                f"field '{name}' must be {kind.min_len}-{kind.max_len} characters")
        if not value.isascii() and not _text(value):
            # JSON can carry lone surrogates ("\ud800"); they can't be stored or sent.
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"field '{name}' is not valid Unicode text")
    elif isinstance(kind, Int):
        if not _is_int(value):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"field '{name}' must be an integer")
        if not kind.lo <= value <= kind.hi:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"field '{name}' must be {kind.lo}..{kind.hi}")
    elif isinstance(kind, Bool):
        if not isinstance(value, bool):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"field '{name}' must be true or false")
    elif isinstance(kind, Map):
        if not isinstance(value, dict):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"field '{name}' must be a map")
    elif isinstance(kind, GhostRef):
        if isinstance(value, str) and value in GHOST_NAMED:
            return value
        if not isinstance(value, dict):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"field '{name}' must be \"best\", \"top\" "
                                "or {race_id, slot}")
        return {"race_id": _check(f"{name}.race_id", Str(64, 1), value.get("race_id")),
                "slot": _check(f"{name}.slot", Int(0, MAX_PLAYERS_LIMIT * 100),
                               value.get("slot"))}
    return value


def request_id(message: dict) -> int | None:
    """The echoable `id` of a message, or None when absent or not an integer."""
    value = message.get("id")
    return value if _is_int(value) and -ID_LIMIT <= value <= ID_LIMIT else None


def plain_input(message: dict) -> str | None:
    """The keys of a well-formed `input`, with or without a valid id (the hot path: the
    web page numbers every message, and the clients that send inputs again number them,
    client_demo/resend.py); None for anything else, which then goes through `parse`
    (and gets its error there, e.g. for JSON's lone surrogates)."""
    if message.get("type") == "input" and ("id" not in message or request_id(message)
                                            is not None):
        keys = message.get("keys")
        if type(keys) is str and len(keys) <= KEYS_MAX and (keys.isascii() or _text(keys)):
            return keys
    return None


def _text(value: str) -> bool:
    """Whether a string is valid Unicode text (JSON can carry lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse(message: dict) -> Request:
    """Validate one decoded client message."""
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "every message needs a string field 'type'")
    if "id" in message and request_id(message) is None:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "field 'id' must be an integer")
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {kind[:40]!r}")
    args = {}
    try:
        for name, (field_kind, required) in schema.items():
            if name in message and message[name] is not None:
                args[name] = _check(name, field_kind, message[name])
            elif required:
                raise ProtocolError(ErrorCode.BAD_MESSAGE, f"'{kind}' needs field '{name}'")
    except ProtocolError as exc:
        raise ProtocolError(FIELD_ERROR_CODES.get(kind, exc.code), exc.message) from None
    if kind in RULES:
        RULES[kind](args)
    return Request(kind, request_id(message), args)


def parse_settings(settings: dict) -> dict:
    """Room settings a host may set; unknown keys are refused so typos are seen."""
    out = {}
    for name, value in settings.items():
        kind = SETTINGS.get(name)
        if kind is None:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"unknown setting {str(name)[:40]!r}")
        if value is None and name == "text_id":
            out[name] = None
            continue
        out[name] = _check(f"settings.{name}", kind, value)
    return out


def _visible(ch: str) -> bool:
    """A character that shows by itself: a letter, digit, punctuation or symbol (not a
    space, nor a combining mark, which only decorates the character before it)."""
    return unicodedata.category(ch)[0] in "LNPS"


# Characters that show nothing, yet are letters, symbols or marks (so isprintable() lets
# them by): the Hangul fillers, the combining grapheme joiner, the Khmer inherent vowels,
# the Mongolian variation selectors and the other Default_Ignorable_Code_Points (the
# texts' IGNORABLE, protocol/typeable.py) but the emoji variation selectors; in a name
# the zero-width joiners and the braille blank too. "Ann" with any of these after it
# would read as "Ann" and be another name.
INVISIBLE_IN_NAMES = re.compile("[" + "".join(
    f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in IGNORABLE if (lo, hi) != EMOJI_VARIATIONS)
    + JOINERS + "\u2800]")


def clean_name(name: str) -> str:
    """Trimmed player name, or ProtocolError invalid_name."""
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX or not name.isprintable() or not any(
            map(_visible, name)):
        raise ProtocolError(ErrorCode.INVALID_NAME, f"a name is 1-{NAME_MAX} printable characters, "
                            "at least one of them a letter, digit or symbol")
    if INVISIBLE_IN_NAMES.search(name):
        raise ProtocolError(ErrorCode.INVALID_NAME, "a name can't hold invisible characters "
                            "(fillers, joiners, blank braille)")
    return name
