"""Client errors in the log: a line each for the first few, then one count per address
and interval (server/net/logs.py ErrorLines); the metrics count every one."""

from __future__ import annotations

import asyncio

import pytest

from server.net.logs import ERROR_LINES_PER_ADDRESS, ERROR_LINES_PER_CONN, ErrorLines

from .test_metrics_logs import scrape


class Conn:
    """Only told apart by identity."""


def test_a_connection_gets_its_first_few_lines_and_the_rest_are_counted():
    lines = ErrorLines(per_conn=3, per_address=10)
    a, b = Conn(), Conn()
    logged = [lines.line(a, "10.0.0.1", "bad_message")[0] for _ in range(5)]
    assert logged == [True, True, True, False, False]
    assert lines.line(b, "10.0.0.1", "unknown_type") == (True, False)   # its own three
    assert lines.end("10.0.0.1") == (2, {"bad_message": 2})
    assert lines.line(a, "10.0.0.1", "bad_message") == (True, True)     # a new window


def test_an_address_gets_its_few_lines_whatever_its_connections():
    lines = ErrorLines(per_conn=3, per_address=10)
    conns = [Conn() for _ in range(100)]
    logged = sum(lines.line(conn, "10.0.0.1", code)[0]
                 for conn in conns for code in ("bad_message", "unknown_type"))
    assert logged == 10
    assert lines.end("10.0.0.1") == (190, {"bad_message": 95, "unknown_type": 95})
    # Another address has lines of its own; an address that left nothing out: no summary.
    assert lines.line(conns[0], "10.0.0.2", "bad_message") == (True, True)
    assert lines.end("10.0.0.2") is None
    assert lines.windows == {}


async def test_a_flood_of_bad_messages_logs_a_few_lines_and_one_count(
        make_server, connect, json_log):
    server = await make_server()
    server.delivery.client_errors.lines.interval_s = 2.0     # the window, shortened
    clients = [await connect(f"Bad{n}", "json", target=server) for n in range(10)]
    for client in clients:
        for _ in range(30):
            await client.send_raw("not json{")
    for client in clients:                    # every bad message was answered
        for _ in range(30):
            assert (await client.expect("error"))["code"] == "bad_message"

    errors = [line for line in json_log() if line["event"] == "error"]
    assert len(errors) == ERROR_LINES_PER_ADDRESS < 10 * ERROR_LINES_PER_CONN
    assert {line["code"] for line in errors} == {"bad_message"}
    assert len({line["player"] for line in errors}) >= ERROR_LINES_PER_ADDRESS // \
        ERROR_LINES_PER_CONN                  # no connection took more than its share
    metrics = await scrape(server)
    assert metrics[("typerace_errors_total", (("code", "bad_message"),))] == 300

    async with asyncio.timeout(30):           # the window ends: one line with the count
        while not (summary := [line for line in json_log()
                               if line["event"] == "errors_not_logged"]):
            await asyncio.sleep(0.05)
    assert len(summary) == 1
    assert summary[0]["ip"] == "127.0.0.1" and summary[0]["count"] == 300 - len(errors)
    assert summary[0]["codes"] == f"bad_message:{300 - len(errors)}"

    # A new window: the next error has its line again.
    await clients[0].send_raw("not json{")
    await clients[0].expect("error")
    assert len([line for line in json_log() if line["event"] == "error"]) == len(errors) + 1
