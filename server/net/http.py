"""Plain HTTP on the WebSocket port: the web client, /healthz, /metrics, and 404
otherwise; the same answers on either transport (server/net/transport).

Only GET and HEAD (the headers of the GET, no body) are served; any other method is
405. A bad request gets its 4xx and no log line: strangers must not fill the log.
(picows itself answers anything but a GET over HTTP/1.1 with 400: see docs.)
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import PurePath
from typing import Callable

from protocol import jsmodule
from server.net.limits import ConnectionLimits
from server.net.metrics import CONTENT_TYPE
from server.net.transport import WS_PATH, HttpResponse

METHODS = ("GET", "HEAD")
# The page never needs anything from elsewhere; a strict policy blunts injected markup.
# Sent as a header with every file of the page (index.html carries no copy of it).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'none'")
# The page's file types, by suffix: not the platform's mimetypes table, which may call
# .js "text/plain" (Windows) or not know it, and browsers refuse a module of such a type.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}
PROTOCOL_JS = jsmodule.source().encode()


@dataclass(frozen=True, slots=True)
class Answers:
    """What the routes read of the server (built once by server/net/app.py)."""
    refusal: Callable[[str], str | None]   # why a handshake from this address is refused
    health: Callable[[], dict]             # /healthz
    metrics: Callable[[], bytes]           # /metrics, rendered


def response(status: int, body: bytes, content_type: str,
             extra: dict | None = None) -> HttpResponse:
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", **(extra or {})}
    return HttpResponse(status, body, content_type, tuple(headers.items()))


def json_response(status: int, data: dict) -> HttpResponse:
    return response(status, json.dumps(data).encode(), "application/json")


def _web_files() -> frozenset[str]:
    try:
        folder = resources.files("client_demo").joinpath("web")
        return frozenset(item.name for item in folder.iterdir()
                         if item.is_file() and not item.name.startswith("."))
    except (OSError, ModuleNotFoundError):
        return frozenset()


WEB_FILES = _web_files()     # the only names served: nothing a URL says reaches open()


def _static(name: str) -> HttpResponse | None:
    """A file of client_demo/web, by its plain name (read anew: edits show at once)."""
    if name not in WEB_FILES:
        return None
    try:
        body = resources.files("client_demo").joinpath("web", name).read_bytes()
    except OSError:
        return None
    kind = CONTENT_TYPES.get(PurePath(name).suffix, "application/octet-stream")
    return page_file(body, kind)


def page_file(body: bytes, content_type: str) -> HttpResponse:
    return response(200, body, content_type, {"Content-Security-Policy": CSP})


def route(answers: Answers, method: str, path: str, ip: str) -> HttpResponse | None:
    """None lets the WebSocket handshake go on (only at /ws)."""
    allowed = ("GET",) if path == WS_PATH else METHODS     # a handshake is a GET
    if method not in allowed:
        return response(405, b"method not allowed\n", "text/plain; charset=utf-8",
                        {"Allow": ", ".join(allowed)})
    found = _route(answers, path, ip)
    if found is not None and method == "HEAD":
        found = dataclasses.replace(found, head=True)    # the GET's headers, no body
    return found


def _route(answers: Answers, path: str, ip: str) -> HttpResponse | None:
    if path == WS_PATH:
        refusal = answers.refusal(ip)
        if refusal is not None:
            # 429 for one address over its share, 503 when the whole server is full.
            status = 429 if refusal == ConnectionLimits.PER_IP else 503
            return response(status, refusal.encode() + b"\n", "text/plain; charset=utf-8",
                            {"Retry-After": "10"})
        return None
    if path == "/healthz":
        health = answers.health()
        return json_response(200 if health["status"] == "ok" else 503, health)
    if path == "/metrics":
        return response(200, answers.metrics(), CONTENT_TYPE)
    if path == jsmodule.PATH:
        return page_file(PROTOCOL_JS, CONTENT_TYPES[".js"])
    if path == "/":
        path = "/index.html"
    found = _static(path[1:])
    if found is not None:
        return found
    return response(404, b"not found\n", "text/plain; charset=utf-8")
