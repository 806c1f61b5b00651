"""`python -m server` as an operator runs it: flags, environment, --texts, /healthz."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys

import pytest

from client_demo.client import Client
from protocol.messages import BODY_MAX
from server.config import ConfigError, load_config

from .helpers import http_get, json_body, write_texts


async def run_server(*args, env=None):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


@pytest.mark.parametrize("args, message", [
    (["--port", "abc"], "--port: expected int, got 'abc'"),
    (["--tick-hz", "0"], "--tick-hz: must be at least 1"),
    (["--max-players", "1"], "--max-players: must be at least 2"),
    (["--countdown-s", "-1"], "--countdown-s: must be at least 0"),
    (["--log-level", "loud"], "--log-level: one of debug, info, warning, error"),
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    # Not a finite number: nan removed the message rate limit (and, when they were flags,
    # the failed-login limits), made --drain-s fail at
    # SIGTERM (the race was not drained) and --match-widen-s a traceback at start.
    (["--msg-rate", "nan"], "--msg-rate: expected a finite number, got 'nan'"),
    (["--ping-interval-s", "NaN"], "--ping-interval-s: expected a finite number"),
    (["--room-rate", "nan"], "--room-rate: expected a finite number"),
    (["--texts-per-hour", "nan"], "--texts-per-hour: expected a finite number"),
    (["--match-widen-s", "nan"], "--match-widen-s: expected a finite number"),
    (["--drain-s", "nan"], "--drain-s: expected a finite number"),
    (["--drain-s", "inf"], "--drain-s: expected a finite number, got 'inf'"),
    (["--drain-s", "-0"], "--drain-s: expected a number, got '-0' (write 0)"),
    (["--max-players", "٣"], "--max-players: expected int, got '٣'"),
    (["--max-players", "1_0"], "--max-players: expected int, got '1_0'"),
    (["--log-format", "json", "--tick-hz", "1e400"], "--tick-hz: expected int"),
    # A worker's hand-off channel is its supervisor's to give (server/net/workers.py).
    (["--reuse-port", "1"], "unrecognized arguments: --reuse-port 1"),
    (["--handoff-fd", "3"], "unrecognized arguments: --handoff-fd 3"),
    # One store: --db and --redis-url both on the command line is a contradiction.
    (["--db", "a.db", "--redis-url", "redis://127.0.0.1:1"],
     "--db and --redis-url name two stores"),
    # A guessable secret lets anyone forge any player's token.
    (["--secret", "changeme"], "--secret: too weak: a secret needs at least 32 characters"),
    (["--secret", "changeme" * 8], "10 of them different"),
])
async def test_bad_flags_fail_with_a_clear_message(args, message):
    proc = await run_server(*args)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert message in err.decode() and "Traceback" not in err.decode()


async def test_an_unusable_texts_file_fails_with_a_clear_message(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n\n", encoding="utf-8")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Caf\xe9 au lait is a fine passage to type.".encode("latin-1"))
    for path, message in [(empty, "no passages found"), (latin1, "can't read it as UTF-8"),
                          (tmp_path / "missing.txt", "No such file")]:
        proc = await run_server("--port", "0", "--db", str(tmp_path / "t.db"),
                                "--texts", str(path))
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 2, err.decode()
        assert f"--texts {path}" in err.decode() and message in err.decode()
        assert "Traceback" not in err.decode()


async def test_a_host_that_does_not_resolve_is_named_in_one_line(tmp_path):
    proc = await run_server("--host", "nosuch.invalid", "--port", "0",
                            "--db", str(tmp_path / "t.db"))
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "python -m server: error: --host nosuch.invalid: no such address"), lines


async def test_a_texts_file_passage_over_the_limit_fails_with_one_line_naming_it(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text("# Fine\nA passage that is long enough.\n\n# Chapter one\n"
                    + "word " * (BODY_MAX // 5 + 1), encoding="utf-8")
    proc = await run_server("--port", "0", "--db", str(tmp_path / "t.db"), "--texts", str(path))
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().strip().splitlines() == [
        f"python -m server: error: book.txt: passage 2: the text must be 20-{BODY_MAX} "
        f"characters after whitespace is normalized (it has {BODY_MAX + 4})"]


async def test_a_weak_secret_in_the_environment_is_refused_too(tmp_path):
    proc = await run_server("--port", "0", "--db", str(tmp_path / "t.db"),
                            env={**os.environ, "TYPERACE_SECRET": "hunter2"})
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().strip().splitlines() == [
        "python -m server: error: --secret: too weak: a secret needs at least 32 characters, "
        "10 of them different (make one with python3 -c 'import secrets; "
        "print(secrets.token_urlsafe(32))')"]


async def test_db_on_the_command_line_wins_over_a_redis_url_in_the_environment(tmp_path):
    # The environment names a Redis nobody runs: before, it silently won over --db and
    # the server failed to start (or, with a live Redis, used the other store).
    env = {**os.environ, "TYPERACE_REDIS_URL": "redis://127.0.0.1:1/0"}
    db = tmp_path / "mine.db"
    proc = await run_server("--port", "0", "--db", str(db), env=env)
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line.startswith("Typerace listening on"), line
        assert db.exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)


def test_flags_win_over_environment_which_wins_over_defaults():
    env = {"TYPERACE_TICK_HZ": "20", "TYPERACE_MAX_PLAYERS": "4"}
    config = load_config(["--tick-hz", "30"], environ=env)
    assert (config.tick_hz, config.max_players, config.countdown_s) == (30, 4, 5)
    assert load_config([], environ={}).port == 8765
    with pytest.raises(ConfigError, match="TYPERACE|--lobby-wait-s"):
        load_config([], environ={"TYPERACE_LOBBY_WAIT_S": "soon"})
    redis_env = {"TYPERACE_REDIS_URL": "redis://127.0.0.1:1"}
    assert load_config(["--db", "x.db"], environ=redis_env).redis_url is None
    assert load_config([], environ=redis_env).redis_url == "redis://127.0.0.1:1"


async def test_the_server_runs_from_the_command_line_with_its_own_texts(tmp_path, transport):
    texts = write_texts(tmp_path, "# Only\nOnly this passage is raced here.\n")
    proc = await run_server("--port", "0", "--db", str(tmp_path / "cli.db"),
                            "--texts", texts, "--countdown-s", "0", "--practice-countdown-s", "0",
                            "--log-level", "warning",
                            env={**os.environ, "TYPERACE_TRANSPORT": transport})
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        port = int(re.search(r"ws://127\.0\.0\.1:(\d+)/ws", line).group(1))
        status, _, body = await http_get(port, "/healthz")
        assert status == 200 and json_body(body)["status"] == "ok"
        client = await Client.connect(f"ws://127.0.0.1:{port}/ws", "msgpack")
        await client.hello("Ann")
        await client.request({"type": "practice"})
        countdown = await client.expect("countdown")
        assert countdown["text"]["body"] == "Only this passage is raced here."
        assert countdown["text"]["title"] == "Only"
        await client.expect("room", where=lambda m: m["room"]["state"] == "racing")
        await client.send({"type": "input", "keys": countdown["text"]["body"]})
        results = await client.expect("results")
        assert results["ranking"][0]["status"] == "finished"
        await client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0


def test_the_transport_comes_from_a_flag_or_the_environment_and_picks_its_loop():
    assert load_config([], environ={}).transport == "websockets"
    config = load_config([], environ={"TYPERACE_TRANSPORT": "picows"})
    assert (config.transport, config.event_loop) == ("picows", "uvloop")
    config = load_config(["--transport", "picows", "--loop", "asyncio"], environ={})
    assert config.event_loop == "asyncio"            # picows runs on asyncio's loop too
    assert load_config([], environ={}).event_loop == "asyncio"
    with pytest.raises(ConfigError, match="--transport: one of websockets, picows"):
        load_config(["--transport", "fast"], environ={})


@pytest.mark.parametrize("missing", ["picows", "uvloop"])
async def test_picows_without_the_fast_extra_is_a_one_line_error(tmp_path, missing):
    """As if `pip install 'typerace[fast]'` had not been run: the import fails."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", f"import sys; sys.modules[{missing!r}] = None; "
        "from server.__main__ import main; sys.exit(main())",
        "--transport", "picows", "--port", "0", "--db", str(tmp_path / "t.db"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode() == (f"python -m server: error: --transport picows needs the {missing} "
                            "package (pip install 'typerace[fast]')\n")
    assert out == b""
