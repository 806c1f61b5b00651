"""Property tests (hypothesis): the codecs, message validation and the typing model
hold their promises for any input, not just the ones we thought of."""

from __future__ import annotations

import json
import unicodedata

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.codec import JSON, MSGPACK, DecodeError
from protocol.messages import SCHEMAS, ProtocolError, clean_name, parse, parse_settings
from protocol.typing_model import BACKSPACE, MAX_WRONG, TypingState

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Properties over whole nested messages (up to 20 leaves of any kind; an example takes
# ~20 ms to draw): 100 examples, Hypothesis's own default, still try a hundred different
# structures a run, each with values of every kind.
NESTED = settings(FAST, max_examples=100)

# Values both codecs carry unchanged: JSON-safe scalars (finite floats, 64-bit ints).
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64 - 1),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=12), inner, max_size=6)),
    max_leaves=20)
messages = st.dictionaries(st.text(max_size=12), values, max_size=8)


@NESTED
@given(messages)
def test_every_message_survives_a_round_trip_through_both_codecs(message):
    assert JSON.decode(JSON.encode(message)) == message
    assert MSGPACK.decode(MSGPACK.encode(message)) == message


@FAST
@given(st.binary(max_size=300))
def test_garbage_bytes_only_ever_raise_decode_error(frame):
    for codec in (MSGPACK, JSON):
        try:
            assert isinstance(codec.decode(frame), dict)
        except DecodeError:
            pass


@FAST
@given(st.one_of(st.text(max_size=300),
                 st.integers(1, 100_000).map(lambda n: "[" * n),      # nesting bombs
                 st.integers(1, 5000).map(lambda n: '{"a":' * n)))
def test_garbage_text_only_ever_raises_decode_error(frame):
    for codec in (JSON, MSGPACK):
        try:
            assert isinstance(codec.decode(frame), dict)
        except DecodeError:
            pass


@NESTED
@given(messages, st.data())
def test_mutated_msgpack_frames_only_ever_raise_decode_error(message, data):
    frame = bytearray(MSGPACK.encode(message))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(frame) - 1))
        frame[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(frame)))
    try:
        MSGPACK.decode(bytes(frame[:cut]))
    except DecodeError:
        pass


def test_a_huge_declared_msgpack_container_is_refused_without_allocating_it():
    frame = b"\xdd\xff\xff\xff\xff"        # "an array of 4 billion items follows"
    with pytest.raises(DecodeError):
        MSGPACK.decode(frame)
    # A map whose last value declares a 4 GB string (with 0 bytes of it there).
    frame = msgpack.packb({"type": "x"})[:-1] + b"\xdb\xff\xff\xff\xf0"
    with pytest.raises(DecodeError):
        MSGPACK.decode(frame)


# Messages that look like real requests: a known (or unknown) type and fields of
# every kind, right or wrong.
field_names = st.sampled_from(sorted({f for s in SCHEMAS.values() for f in s} |
                                     {"id", "settings", "x"}))
requests = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(sorted(SCHEMAS)), values)},
    optional={"id": values},
).flatmap(lambda base: st.dictionaries(field_names, values, max_size=5).map(
    lambda extra: {**extra, **base}))


@NESTED
@given(requests)
def test_parse_only_ever_raises_protocol_error(message):
    try:
        request = parse(message)
    except ProtocolError as exc:
        assert isinstance(exc.code, str) and exc.code and exc.code != "internal"
        return
    assert request.type in SCHEMAS
    assert request.id is None or isinstance(request.id, int)
    for name, (kind, required) in SCHEMAS[request.type].items():
        assert name in request.args or not required


@NESTED
@given(st.dictionaries(st.one_of(st.sampled_from(["max_players", "countdown_s", "text_id"]),
                                 st.text(max_size=5)), values, max_size=4))
def test_parse_settings_only_ever_raises_protocol_error(settings_map):
    try:
        parsed = parse_settings(settings_map)
    except ProtocolError as exc:
        assert exc.code == "bad_message"
        return
    assert set(parsed) <= {"max_players", "countdown_s", "text_id"}


@FAST
@given(st.text(max_size=60))
def test_clean_name_gives_a_valid_name_or_invalid_name(name):
    try:
        cleaned = clean_name(name)
    except ProtocolError as exc:
        assert exc.code == "invalid_name"
        return
    assert 1 <= len(cleaned) <= 24 and cleaned.isprintable() and cleaned == cleaned.strip()
    assert any(unicodedata.category(ch)[0] in "LNPS" for ch in cleaned)   # something shows


passages = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF),
                   min_size=1, max_size=60)


@st.composite
def passage_and_keys(draw):
    """A passage and batches of keys: mostly right, some wrong, some backspaces."""
    passage = draw(passages)
    alphabet = st.one_of(st.sampled_from(passage), st.just(BACKSPACE),
                         st.characters(min_codepoint=32, max_codepoint=0x2FF))
    batches = draw(st.lists(st.text(alphabet=alphabet, max_size=20), max_size=30))
    return passage, batches


@FAST
@given(passage_and_keys())
def test_any_keys_keep_the_typed_text_consistent_with_the_passage(case):
    passage, batches = case
    state = TypingState(passage)
    for keys in batches:
        before = state.keystrokes
        applied = state.feed(keys)
        assert 0 <= applied <= len(keys)
        assert applied == len(keys) or state.finished     # only finishing stops early
        assert 0 <= state.pos <= len(passage)
        assert len(state.wrong) <= MAX_WRONG
        # What stands typed is the correct prefix; wrong characters stand after it
        # and the first of them is really wrong.
        if state.wrong and state.pos < len(passage):
            assert state.wrong[0] != passage[state.pos]
        assert not (state.finished and state.wrong)
        assert state.correct_keystrokes <= state.keystrokes
        assert state.keystrokes - before == sum(1 for k in keys[:applied] if k != BACKSPACE)


@FAST
@given(passages)
def test_typing_the_passage_exactly_finishes_it(passage):
    state = TypingState(passage)
    state.feed(passage)
    assert state.finished and state.pos == len(passage)
    assert state.keystrokes == state.correct_keystrokes == len(passage)


@FAST
@given(passage_and_keys())
def test_pos_is_the_longest_correct_prefix_of_the_typed_text(case):
    """Replay the keys as a plain editor would; the model must agree with it."""
    passage, batches = case
    state = TypingState(passage)
    typed: list[str] = []
    for keys in batches:
        for ch in keys[:state.feed(keys)]:
            if ch == BACKSPACE:
                if typed:
                    typed.pop()
            else:
                wrong_so_far = len(typed) - _prefix(typed, passage)
                if wrong_so_far < MAX_WRONG:
                    typed.append(ch)
        assert state.pos == _prefix(typed, passage)
        assert "".join(typed) == passage[:state.pos] + state.wrong_text


def _prefix(typed: list[str], passage: str) -> int:
    n = 0
    while n < len(typed) and n < len(passage) and typed[n] == passage[n]:
        n += 1
    return n


def test_json_codec_refuses_nan_and_infinity_in_frames():
    for frame in ('{"type":"x","v":NaN}', '{"type":"x","v":Infinity}'):
        try:
            JSON.decode(frame)
            raise AssertionError("accepted " + frame)
        except DecodeError:
            pass
    assert json.loads(JSON.encode({"a": 1})) == {"a": 1}
