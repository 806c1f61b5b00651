"""The constants the web client shares with the server, written as a JavaScript module.

The server serves this module at /protocol.js (made from the Python values when it is
asked for), and the page's modules import it, so a limit or a code changed here reaches
the browser with no second copy to keep in step. Print it with
`python -m protocol.jsmodule` to host the page's files somewhere else.
"""

from __future__ import annotations

import json

from protocol import messages, scoring, typeable, typing_model
from protocol.codec import JsonCodec
from protocol.codes import CloseCode

PATH = "/protocol.js"

EXPORTS = {
    "JSON_SUBPROTOCOL": JsonCodec.subprotocol,
    "CLOSE_REPLACED": int(CloseCode.REPLACED),
    "KEYS_MAX": messages.KEYS_MAX,
    "SEND_BATCH_MS": messages.SEND_BATCH_MS,
    "RESEND_FIRST_MS": messages.RESEND_FIRST_MS,
    "RESEND_MAX_MS": messages.RESEND_MAX_MS,
    "RESEND_GIVE_UP_MS": messages.RESEND_GIVE_UP_MS,
    "NAME_MAX": messages.NAME_MAX,
    "PASSWORD_MIN": messages.PASSWORD_MIN,
    "PASSWORD_MAX": messages.PASSWORD_MAX,
    "CODE_MAX": messages.CODE_MAX,
    "TITLE_MAX": messages.TITLE_MAX,
    "BODY_MIN": messages.BODY_MIN,
    "BODY_MAX": messages.BODY_MAX,
    "BODY_RAW_MAX": messages.BODY_RAW_MAX,
    "SOURCE_MAX": messages.SOURCE_MAX,
    "REASON_MAX": messages.REASON_MAX,
    "MAX_PLAYERS_MIN": messages.SETTINGS["max_players"].lo,
    "MAX_PLAYERS_MAX": messages.SETTINGS["max_players"].hi,
    "COUNTDOWN_MIN_S": messages.SETTINGS["countdown_s"].lo,
    "COUNTDOWN_MAX_S": messages.SETTINGS["countdown_s"].hi,
    "BACKSPACE": typing_model.BACKSPACE,
    "MAX_WRONG": typing_model.MAX_WRONG,
    "BREAK": typing_model.BREAK,
    "BREAK_KEYS": list(typing_model.BREAK_KEYS),
    "FOLDS": {**typeable.FOLDS, **typeable.CANONICAL_FOLDS},
    "IGNORABLE": typeable.IGNORABLE,
    "NON_STARTERS": typeable.NON_STARTERS,
    "MARKS_MAX": typeable.MARKS_MAX,
    "CHARS_PER_WORD": scoring.CHARS_PER_WORD,
}


def source() -> str:
    """The module's text: one `export const` per shared constant."""
    lines = ["// Generated from the Python package `protocol` (protocol/jsmodule.py): do not edit.",
             "// The server serves it at /protocol.js; the web client's modules import it."]
    lines += [f"export const {name} = {json.dumps(value)};" for name, value in EXPORTS.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(source(), end="")
