"""`python -m server admin` as an operator runs it: a real process on the store of a
server that keeps running, which notices every action without a restart."""

from __future__ import annotations

import asyncio
import sys

import pytest
from websockets.exceptions import ConnectionClosed

from client_demo.client import Client, ServerError

from .helpers import write_texts
from .rooms import eventually
from .test_accounts import PASSWORD, refused, register
from .test_reports import listed, report, written_by
from .typist import practise
from tests.redis_fixture import redis_server  # noqa: F401


async def admin(*args: str) -> tuple[int, list[str], list[str]]:
    """Run the command; (exit status, stdout lines, stderr lines)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "admin", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode().splitlines(), err.decode().splitlines()


async def done(*args: str) -> str:
    """An action that worked: exit 0, one line out, nothing on stderr."""
    status, out, err = await admin(*args)
    assert (status, len(out), err) == (0, 1, []), (args, status, out, err)
    return out[0]


@pytest.fixture
async def server(make_server, tmp_path):
    return await make_server(texts=write_texts(tmp_path), practice_countdown_s=0,
                             max_wpm=10_000)


def practice_refused(client: Client, text_id: int):
    async def check():
        try:
            await client.request({"type": "practice", "text_id": text_id})
        except ServerError as exc:
            return exc.code == "text_not_found"
        await client.request({"type": "leave"})
        return False
    return check


@pytest.mark.default_transport         # store rules through the operator's command
async def test_the_operator_lists_reports_and_hides_and_restores_a_running_servers_text(
        server, connect):
    db = ["--db", server.config.db]
    ann, bob, cy = [await connect(name) for name in ("Ann", "Bob", "Cy")]
    text_id = await written_by(ann)
    library = server.library.race_text_ids[0]
    assert await done(*db, "reports") == "no text has been reported"
    await report(bob, text_id, "rude\nwords\x1b[31m")
    await report(cy, text_id, "spam")
    await report(cy, library, "typo in line 2")
    status, lines, err = await admin(*db, "reports")
    assert status == 0 and err == [] and len(lines) == 2
    assert lines[0].startswith(f"text {text_id}: 2 reports;") and "by Ann" in lines[0]
    assert lines[1].startswith(f"text {library}: 1 report;") and "library text" in lines[1]
    assert "\x1b" not in "".join(lines)           # a player's words can't drive the terminal

    line = await done(*db, "hide-text", str(text_id))
    assert line.startswith(f"text {text_id} (\"Mine\") hidden")
    assert text_id not in await listed(bob)                       # at once
    await eventually(practice_refused(bob, text_id), what="practice refused")   # <= 1 s
    assert "was hidden already" in await done(*db, "hide-text", str(text_id))
    assert ", hidden;" in (await admin(*db, "reports"))[1][0]

    assert "restored" in await done(*db, "restore-text", str(text_id))
    assert text_id in await listed(bob)
    await eventually(lambda: _practice_allowed(bob, text_id), what="practice allowed again")
    # The operator read it: reports no longer hide it.
    await report(await connect("Di"), text_id)
    assert text_id in await listed(bob)


async def _practice_allowed(client: Client, text_id: int) -> bool:
    return not await practice_refused(client, text_id)()


async def test_a_banned_player_is_refused_at_the_door_and_leaves_the_boards(server, connect):
    db = ["--db", server.config.db]
    ann = await connect("Ann")
    await register(ann, "Ann")
    await practise(ann)
    bob = await connect("Bob")
    await practise(bob)
    token = ann.welcome["token"]
    board = await bob.request({"type": "leaderboard"})
    assert {e["player_id"] for e in board["entries"]} == {ann.player_id, bob.player_id}

    line = await done(*db, "ban", ann.player_id)
    assert line.startswith(f"player {ann.player_id} (Ann) banned")
    board = await bob.request({"type": "leaderboard"})
    assert [e["player_id"] for e in board["entries"]] == [bob.player_id]
    # The next hello with the token, and a login with the password, are shown the door.
    for attempt in ({"type": "hello", "name": "Ann", "token": token},
                    {"type": "login", "name": "Ann", "password": PASSWORD}):
        client = await connect(None, "msgpack")
        assert (await refused(client, attempt))["code"] == "banned"
        with pytest.raises(ConnectionClosed):
            await client.recv()
        assert client.ws.close_code == 1008
    # A banned guest too.
    guest_token = bob.welcome["token"]
    await done(*db, "ban", bob.player_id)
    assert (await refused(await connect(None), {"type": "hello", "name": "Bob",
                                                "token": guest_token}))["code"] == "banned"

    assert "unbanned" in await done(*db, "unban", ann.player_id)
    assert "was not banned" in await done(*db, "unban", ann.player_id)
    back = await connect("Ann", token=token)
    board = await back.request({"type": "leaderboard"})
    assert [e["player_id"] for e in board["entries"]] == [ann.player_id]


@pytest.mark.default_transport         # the operator's command, not the transport
async def test_operator_mistakes_are_one_clear_line_and_a_non_zero_exit(server, tmp_path):
    db = ["--db", server.config.db]
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("not a database at all\n" * 200)
    for args, status, message in [
            ([*db, "hide-text", "99999"], 1, "no text has id 99999"),
            ([*db, "restore-text", "12abc"], 2, "'12abc' is not a text id"),
            ([*db, "hide-text", "-4"], 2, "'-4' is not a text id"),
            # Ids are ASCII digits: "²" made int() raise, "٣" acted on text 3.
            ([*db, "hide-text", "²"], 2, "'²' is not a text id"),
            ([*db, "hide-text", "①"], 2, "'①' is not a text id"),
            ([*db, "restore-text", "٣"], 2, "'٣' is not a text id"),
            ([*db, "ban", ""], 2, "'' is not a player id"),
            ([*db, "ban", "pnobody"], 1, "no player has id 'pnobody'"),
            ([*db, "unban"], 2, "unban needs a player id"),
            ([*db, "reports", "7"], 2, "reports takes no argument"),
            ([*db, "explode"], 2, "invalid choice: 'explode'"),
            ([], 2, "the following arguments are required: action"),
            (["--db", str(tmp_path / "missing.db"), "reports"], 1,
             f"--db {tmp_path / 'missing.db'}: no such database file"),
            (["--db", str(not_a_db), "reports"], 1, f"--db {not_a_db}: not a SQLite database"),
            ([*db, "--redis-url", "redis://127.0.0.1:1", "reports"], 2, "not allowed with"),
            (["--redis-url", "redis://127.0.0.1:1", "reports"], 1,
             "--redis-url redis://127.0.0.1:1: cannot connect"),
            (["--redis-url", "http://example.com", "reports"], 1, "only redis:// URLs")]:
        got, out, err = await admin(*args)
        assert (got, out, len(err)) == (status, [], 1), (args, got, out, err)
        assert err[0].startswith("python -m server admin: error: ") and message in err[0], err
    assert not (tmp_path / "missing.db").exists()            # a typo made no database


@pytest.mark.default_transport         # store rules through the operator's command
async def test_the_admin_command_acts_on_the_servers_redis(make_server, redis_server, tmp_path):
    server = await make_server(redis_url=redis_server.url, texts=write_texts(tmp_path))
    url = f"ws://127.0.0.1:{server.port}/ws"
    ann = await Client.connect(url)
    await ann.hello("Ann")
    text_id = await written_by(ann)
    where = ["--redis-url", redis_server.url]
    await done(*where, "hide-text", str(text_id))
    assert text_id not in await listed(ann)
    await eventually(practice_refused(ann, text_id), what="practice refused")
    await done(*where, "ban", ann.player_id)
    status, lines, _ = await admin(*where, "reports")
    assert (status, lines) == (0, ["no text has been reported"])
    again = await Client.connect(url)
    with pytest.raises(ServerError) as refused_hello:
        await again.hello("Ann", ann.welcome["token"])
    assert refused_hello.value.code == "banned"
    for client in (ann, again):
        await client.close()
