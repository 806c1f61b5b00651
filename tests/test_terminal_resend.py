"""The terminal client sends keys the server refused again: between it and the real
server, a proxy answers a stretch of its inputs `unavailable` as a process of a cluster
does when Redis has been away too long (tests/refusing.py). The player is told the keys
wait; they go again in order and the practice ends finished at accuracy 1."""

from __future__ import annotations

import time

from client_demo.play import HOLDING
from tests.refusing import REFUSALS, REFUSE_FROM, Refuser, proxy
from tests.test_terminal_client import PASSAGE, Terminal, short_server, until  # noqa: F401


async def test_the_terminal_sends_refused_keys_again_and_says_they_wait(short_server):  # noqa: F811
    refuser = Refuser()
    async with proxy(refuser, f"ws://127.0.0.1:{short_server.port}/ws") as url:
        pia = Terminal(url, "Pia")
        try:
            await until(lambda: pia.model.player_id is not None, what="welcome")
            pia.press("p")
            await until(lambda: pia.model.can_type(int(time.time() * 1000)), timeout=30,
                        what="practice start")
            for n, at in enumerate(range(0, 6 * REFUSE_FROM, 6), 1):   # one input each
                pia.press(PASSAGE[at:at + 6])
                await until(lambda: refuser.inputs == n, what=f"input {n}")
            await pia.type_passage(PASSAGE[6 * REFUSE_FROM:])
            await until(lambda: pia.model.notice == HOLDING, what="the keys wait")
            await until(lambda: "out of reach" in pia.drawn(), what="said on screen")
            await until(lambda: pia.model.results is not None, what="results")
            assert [r["status"] for r in pia.model.results] == ["finished"]
            assert pia.model.results[0]["accuracy"] == 1
            await until(lambda: pia.model.notice == "", what="the notice goes")
        finally:
            assert await pia.stop() == 0, pia.tui.error
    assert len(refuser.refused) >= REFUSALS
