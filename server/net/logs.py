"""Structured log lines: one event name plus fields, as JSON or as `key=value` text.

    event(log, "conn_open", conn=17, ip="10.0.0.3")

gives, with --log-format json:
    {"ts": "2026-11-27T19:03:04.512Z", "level": "info", "event": "conn_open", "conn": 17, ...}
and with --log-format text:
    2026-11-27T19:03:04.512Z info conn_open conn=17 ip=10.0.0.3
Plain log calls (tracebacks and all) go through the same formatter.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

EVENT = "typerace_event"          # LogRecord attribute holding (event, fields)


def event(logger: logging.Logger, name: str, level: int = logging.INFO,
          exc_info: bool = False, **fields) -> None:
    """One event line; with exc_info, the exception being handled follows it."""
    if logger.isEnabledFor(level):
        logger.log(level, name, exc_info=exc_info, extra={EVENT: (name, fields)})


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + \
        f".{int(record.msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": _timestamp(record), "level": record.levelname.lower(),
                "logger": record.name}
        named = getattr(record, EVENT, None)
        if named is not None:
            line["event"] = named[0]
            line.update(named[1])
        else:
            line["event"] = "log"
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def _text_value(value) -> str:
    text = str(value)
    if not text or any(ch.isspace() or ch in '"=' for ch in text):
        return json.dumps(text, ensure_ascii=False)
    return text


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        named = getattr(record, EVENT, None)
        if named is not None:
            body = " ".join([named[0]] + [f"{k}={_text_value(v)}" for k, v in named[1].items()])
        else:
            body = record.getMessage()
        line = f"{_timestamp(record)} {record.levelname.lower()} {record.name} {body}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup(log_format: str, level: str, stream=None) -> None:
    """Configure the root logger once, for `python -m server`."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # websockets logs every HTTP response and close at info, picows every connection
    # and disconnection (our conn_* lines say it), and websockets at debug every
    # frame's content: passwords and tokens. Never below info.
    for library in ("websockets", "picows"):
        logging.getLogger(library).setLevel(logging.INFO if level == "debug"
                                            else logging.WARNING)


# ---- client errors: a line each for the first few, then a count ----------------------

ERROR_LINES_PER_CONN = 3         # `error` lines a connection gets in an interval
ERROR_LINES_PER_ADDRESS = 10     # ... and all the connections of one address together
ERROR_LINES_INTERVAL_S = 60.0


class _Window:
    __slots__ = ("lines", "per_conn", "left_out", "codes")

    def __init__(self):
        self.lines = 0
        self.per_conn: dict[int, int] = {}    # id(conn) -> its lines in this window
        self.left_out = 0
        self.codes: dict[str, int] = {}       # code -> errors left out


class ErrorLines:
    """Which client `error`s get a log line of their own (no clock here: the caller
    ends each window, see ClientErrorLog).

    A client's error is its own mistake, and a hostile one makes them by the thousand
    (100 connections sending 28 bad inputs a second wrote 3.5 MB of log in 10 s). Each
    address has a window of `interval_s` from its first error: in it, a connection's
    first `per_conn` errors and the address's first `per_address` get a line; the rest
    are only counted, and when the window ends its address gets one summary line (see
    `end`). The metrics count every error, logged or not."""

    def __init__(self, per_conn: int = ERROR_LINES_PER_CONN,
                 per_address: int = ERROR_LINES_PER_ADDRESS,
                 interval_s: float = ERROR_LINES_INTERVAL_S):
        self.per_conn = per_conn
        self.per_address = per_address
        self.interval_s = interval_s
        self.windows: dict[str, _Window] = {}

    def line(self, conn, ip: str, code: str) -> tuple[bool, bool]:
        """(whether this error gets a line, whether it opened its address's window: the
        caller calls `end(ip)` once `interval_s` has passed). `conn` is only told apart
        from the address's other connections (by identity: nothing is kept alive)."""
        window = self.windows.get(ip)
        opened = window is None
        if opened:
            window = self.windows[ip] = _Window()
        key = id(conn)
        mine = window.per_conn.get(key, 0)
        if mine < self.per_conn and window.lines < self.per_address:
            window.per_conn[key] = mine + 1
            window.lines += 1
            return True, opened
        window.left_out += 1
        window.codes[code] = window.codes.get(code, 0) + 1
        return False, opened

    def end(self, ip: str) -> tuple[int, dict[str, int]] | None:
        """Close the address's window: what it left out (how many, how many of each
        code), or None when it left nothing out."""
        window = self.windows.pop(ip, None)
        if window is None or not window.left_out:
            return None
        return window.left_out, window.codes


class ClientErrorLog:
    """The log lines of client errors (`internal` is ours, not theirs, and always gets
    its line), held to ErrorLines on the event loop's clock: `error` lines as they are
    allowed, an `errors_not_logged` line when an address's window ends."""

    def __init__(self, logger: logging.Logger, lines: ErrorLines | None = None):
        self.log = logger
        self.lines = lines or ErrorLines()

    def error(self, conn, code: str) -> None:
        ip = conn.ip
        if not self.log.isEnabledFor(logging.INFO):
            return
        allowed, opened = self.lines.line(conn, ip, code)
        if opened:           # one timer per address that errs, once per interval
            asyncio.get_running_loop().call_later(self.lines.interval_s, self._end, ip)
        if allowed:
            event(self.log, "error", code=code, player=conn.player_id, ip=ip)

    def _end(self, ip: str) -> None:
        left_out = self.lines.end(ip)
        if left_out is not None:
            count, codes = left_out
            event(self.log, "errors_not_logged", ip=ip, count=count,
                  codes=",".join(f"{code}:{n}" for code, n in sorted(codes.items())),
                  interval_s=self.lines.interval_s)
