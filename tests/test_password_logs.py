"""Passwords never reach the logs, even at --log-level debug: a real server process,
every account request (right and wrong), then its whole output is searched."""

from __future__ import annotations

import asyncio
import re
import signal

import pytest

from client_demo.client import Client, ServerError

from .test_server_cli import run_server

SECRETS = ["first-Secret-111", "wrong-Secret-222", "second-Secret-333", "tiny-44",
           "unknown-Secret-555"]


@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_no_password_is_ever_logged(tmp_path, log_format):
    proc = await run_server("--port", "0", "--db", str(tmp_path / "logs.db"),
                            "--log-level", "debug", "--log-format", log_format)
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        port = re.search(r"ws://127\.0\.0\.1:(\d+)/ws", line).group(1)
        url = f"ws://127.0.0.1:{port}/ws"
        first, wrong, second, tiny, unknown = SECRETS
        ann = await Client.connect(url)
        await ann.hello("Ann")
        with pytest.raises(ServerError):
            await ann.request({"type": "register", "name": "Ann", "password": tiny})
        account = await ann.request({"type": "register", "name": "Ann", "password": first})
        phone = await Client.connect(url, "msgpack")
        with pytest.raises(ServerError):
            await phone.login("Ann", wrong)
        with pytest.raises(ServerError):
            await phone.login("Nobody", unknown)
        await phone.login("Ann", first)
        with pytest.raises(ServerError):
            await phone.request({"type": "change_password", "password": wrong,
                                 "new_password": second})
        await phone.request({"type": "change_password", "password": first,
                             "new_password": second})
        await phone.close()
        await ann.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    logged = (out + err).decode()
    # The log did record all of it (so the search below searched something)...
    for name in ("account_registered", "login_failed", "password_changed", "weak_password",
                 "bad_credentials"):
        assert name in logged, name
    assert account["token"] not in logged
    # ...and no password, in any form.
    for secret in SECRETS:
        assert secret not in logged, secret
