"""No legal keystroke is lost to a stall: what a client sent at its pace while the server
or the network stood still arrives as one burst, and is taken; a real flood, with no
silence before it, is still refused."""

from __future__ import annotations

from server.core.ratelimit import TokenBucket
from tests.helpers import write_texts
from tests.stepping import step, until_start


def taken(bucket: TokenBucket, n: int, now: float) -> int:
    return sum(bucket.take(now) for _ in range(n))


def test_a_backlog_after_a_silence_may_use_what_the_silence_earned():
    bucket = TokenBucket(30, 60, now=0.0, backlog_s=12)
    assert taken(bucket, 10, 0.0) == 10
    # 8 s of silence at 10 messages a second: 80 arrive at once, all taken.
    assert taken(bucket, 80, 8.0) == 80
    # A flood right after: in all, never more than one burst and the rate over the time.
    flood = sum(taken(bucket, 5, 8.5 + i / 100) for i in range(500))    # 5 s
    assert 10 + 80 + flood <= 60 + 30 * 13.5 + 1


def test_without_a_silence_the_burst_is_all_there_is():
    bucket = TokenBucket(30, 60, now=0.0, backlog_s=12)
    assert taken(bucket, 200, 0.5) == 60
    plain = TokenBucket(30, 60, now=0.0)                  # no backlog credit at all
    assert taken(plain, 80, 8.0) == 60


def test_credit_stops_at_backlog_s_and_unused_credit_does_not_stay():
    bucket = TokenBucket(30, 60, now=0.0, backlog_s=12)
    assert taken(bucket, 60, 0.0) == 60
    assert taken(bucket, 1000, 100.0) == 60 + 30 * 12      # a long silence: 12 s worth
    bucket = TokenBucket(30, 60, now=0.0, backlog_s=12)
    assert taken(bucket, 5, 10.0) == 5                      # a small backlog...
    assert taken(bucket, 1, 10.5) == 1
    assert taken(bucket, 200, 11.2) == 60                   # ...keeps no extra past it


async def test_inputs_held_up_by_an_eight_second_stall_are_all_taken(
        make_stepped_server, connect, tmp_path):
    server = await make_stepped_server(texts=write_texts(tmp_path, "# Long\n" + "abc " * 60),
                                       practice_countdown_s=0, max_wpm=100_000)
    ann = await connect("Ann", target=server)
    await ann.request({"type": "practice"})
    body = (await until_start(server, ann))["text"]["body"]
    # Ten inputs a second (a third of --msg-rate), each 1 character, and the server
    # stands still for 8 s: the 80 inputs of the stall arrive together.
    await step(server, 8000)
    for ch in body[:80]:
        await ann.send({"type": "input", "keys": ch})
    # The rest at the same pace, the server's clock moving with it: the race finishes
    # only if none of the 80 was refused (a lost key leaves the text wrong).
    for ch in body[80:]:
        await step(server, 100)
        await ann.send({"type": "input", "keys": ch})
    await ann.expect("finish", timeout=30)
    errors = [m for m in ann.seen if m.get("type") == "error"]
    assert errors == [], errors
