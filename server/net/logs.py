"""Structured log lines: one event name plus fields, as JSON or as `key=value` text.

    event(log, "conn_open", conn=17, ip="10.0.0.3")

gives, with --log-format json:
    {"ts": "2026-11-27T19:03:04.512Z", "level": "info", "event": "conn_open", "conn": 17, ...}
and with --log-format text:
    2026-11-27T19:03:04.512Z info conn_open conn=17 ip=10.0.0.3
Plain log calls (tracebacks and all) go through the same formatter.
"""

from __future__ import annotations

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
