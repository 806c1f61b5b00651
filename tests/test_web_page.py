"""The web page's files over HTTP: every ES module the page loads is served as JavaScript
under the page's Content-Security-Policy, and /protocol.js gives the browser the server's
own limits and codes."""

from __future__ import annotations

import json
import re

from protocol import messages, typing_model
from protocol.codes import CloseCode
from protocol.codec import JsonCodec
from server.net.http import CSP

from .helpers import http_get

MODULE_SCRIPT = re.compile(rb'<script type="module" src="([^"]+)"')
IMPORT = re.compile(rb'^import .*? from "\./([^"]+)";$|^export \{.*\} from "\./([^"]+)";$',
                    re.MULTILINE | re.DOTALL)
EXPORT_CONST = re.compile(r"^export const (\w+) = (.+);$", re.MULTILINE)


async def test_every_module_of_the_page_is_served_as_javascript_under_the_policy(server):
    status, headers, page = await http_get(server.port, "/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"] == CSP
    assert b"http-equiv" not in page.lower()          # the header is the one policy
    todo = [name.decode() for name in MODULE_SCRIPT.findall(page)]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        status, headers, body = await http_get(server.port, "/" + name)
        # Browsers refuse a module served with any other type.
        assert (status, headers["content-type"]) == (200, "text/javascript; charset=utf-8"), name
        assert headers["content-security-policy"] == CSP
        todo += [(a or b).decode() for a, b in IMPORT.findall(body)]
    assert {"app.js", "protocol.js", "typing.js", "scoring.js", "connection.js"} <= seen


async def test_protocol_js_gives_the_browser_the_servers_limits_and_codes(server):
    status, _, body = await http_get(server.port, "/protocol.js")
    assert status == 200
    exported = {name: json.loads(value) for name, value in EXPORT_CONST.findall(body.decode())}
    assert exported["KEYS_MAX"] == messages.KEYS_MAX == 2000
    assert exported["SEND_BATCH_MS"] == messages.SEND_BATCH_MS == 100
    assert exported["CLOSE_REPLACED"] == CloseCode.REPLACED == 4000
    assert exported["MAX_WRONG"] == typing_model.MAX_WRONG
    assert exported["BACKSPACE"] == typing_model.BACKSPACE
    assert exported["JSON_SUBPROTOCOL"] == JsonCodec.subprotocol
    assert exported["NAME_MAX"] == messages.NAME_MAX
    assert (exported["PASSWORD_MIN"], exported["PASSWORD_MAX"]) == (8, 256)
