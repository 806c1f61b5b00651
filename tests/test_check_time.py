"""Every check a client's text meets is linear: each is timed on worst-case inputs of the
largest size a message may carry, and each must take well under the 50 ms bound (they take
1-10 ms; the quadratic regex this replaced took 3.4 s on the first input)."""

from __future__ import annotations

import time

import pytest

from protocol import messages
from protocol.messages import BODY_RAW_MAX, KEYS_MAX, REASON_MAX, ProtocolError
from protocol.typing_model import TypingState, as_typed
from server.core.texts import TextInvalid, count_words, validate_text

BOUND_MS = 50


def worst_cases(size: int) -> dict[str, str]:
    """Inputs of `size` characters made to hurt: runs that a backtracking regex or an
    insertion sort would go over again and again."""
    half = size // 2
    return {
        "a run of joiners between two letters": "a" + "\u200d" * (size - 2) + "a",
        "joiners at word edges": ("\u200c" * 9 + " ") * (size // 10),
        "one letter under many marks, out of order": "a" + "\u0346" * half + "\u0316" * (size - half - 1),
        "runs of marks just under the limit": ("a" + "\u0346\u0316" * 15) * (size // 31),
        "marks beyond the BMP among others": "a" + "\u0301\U0001d165" * half,
        "characters that fold to three": "\u2026" * size,
        "invisible tags": "\U000e0041" * size,
        "unicode spaces": "\u3000\u00a0" * half,
        "line breaks": "a\u2029" * half,
        "ideographs": "\u65e5" * size,
        "dots and dashes": ".-" * half,
        "plain words": "word " * (size // 5),
    }


def slowest_ms(check, value) -> float:
    """The best of three timings (a loaded machine adds noise, never removes work)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        try:
            check(value)
        except (TextInvalid, ProtocolError):
            pass
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


CHECKS = {
    "submit_text body": (lambda v: validate_text("T", v), BODY_RAW_MAX),
    "submit_text title": (lambda v: validate_text(v, "A body long enough to pass."), 1000),
    "submit_text source": (lambda v: validate_text("T", "A body long enough to pass.", v), 1000),
    "submit_text message": (lambda v: messages.parse(
        {"type": "submit_text", "title": v[:1000], "body": v, "source": v[:1000]}), BODY_RAW_MAX),
    "count_words": (count_words, BODY_RAW_MAX),
    "input keys": (lambda v: TypingState(v).feed(as_typed(v)), KEYS_MAX),
    "input message": (lambda v: messages.parse({"type": "input", "keys": v}), KEYS_MAX),
    "hello name": (lambda v: messages.clean_name(
        messages.parse({"type": "hello", "name": v}).args["name"]), 256),
    "report reason": (lambda v: messages.parse(
        {"type": "report_text", "text_id": 1, "reason": v}), REASON_MAX),
}


@pytest.mark.parametrize("check", CHECKS)
def test_every_text_check_is_fast_on_its_worst_input(check):
    run, size = CHECKS[check]
    times = {name: slowest_ms(run, value) for name, value in worst_cases(size).items()}
    slow = {name: round(ms, 1) for name, ms in times.items() if ms >= BOUND_MS}
    assert slow == {}, f"{check} took over {BOUND_MS} ms on {slow}"
