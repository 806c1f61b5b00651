"""The authoritative typed-text model: what counts as progress, what blocks it."""

from hypothesis import given
from hypothesis import strategies as st

from protocol.typing_model import BACKSPACE as BS
from protocol.typing_model import MAX_WRONG, TypingState


def test_correct_keys_advance_the_position():
    t = TypingState("hello world")
    assert t.feed("hello") == 5
    assert t.pos == 5 and t.wrong_text == "" and not t.finished


def test_a_wrong_character_blocks_progress_until_deleted():
    t = TypingState("hello")
    t.feed("hx")
    assert (t.pos, t.wrong_text) == (1, "x")
    t.feed("ello")                       # the right keys, but after the mistake
    assert t.pos == 1 and t.wrong_text == "xello"
    t.feed(BS * 5 + "ello")
    assert t.pos == 5 and t.finished


def test_backspace_deletes_correct_characters_too_and_stops_at_the_start():
    t = TypingState("abc")
    t.feed("ab" + BS)
    assert t.pos == 1
    t.feed(BS * 3)
    assert t.pos == 0 and t.wrong_text == ""
    t.feed("abc")
    assert t.finished


def test_at_most_max_wrong_characters_stand_beyond_pos():
    t = TypingState("a" * 50)
    t.feed("x" * (MAX_WRONG + 5))
    assert t.pos == 0 and len(t.wrong) == MAX_WRONG
    # Deleting the standing ones is enough: the extra ones were never kept.
    t.feed(BS * MAX_WRONG + "a")
    assert t.pos == 1 and t.wrong == []


def test_finishing_stops_input_and_reports_how_many_keys_were_applied():
    t = TypingState("go")
    assert t.feed("go now") == 2
    assert t.finished and t.pos == 2
    assert t.keystrokes == 2
    assert t.feed("more") == 0 and t.keystrokes == 2


def test_keystrokes_count_every_character_key_but_not_backspace():
    t = TypingState("cat")
    t.feed("cx" + BS + "at")
    assert t.keystrokes == 4             # c, x, a, t
    assert t.correct_keystrokes == 3
    t2 = TypingState("cat")
    t2.feed("x" * (MAX_WRONG + 2))       # wrong keys past the cap still count as typed
    assert t2.keystrokes == MAX_WRONG + 2 and t2.correct_keystrokes == 0


def test_the_right_character_typed_behind_a_mistake_is_not_a_correct_keystroke():
    t = TypingState("ab")
    t.feed("xa")
    assert t.correct_keystrokes == 0 and t.keystrokes == 2


# ---- against a plain reference model -------------------------------------------

PASSAGE = "abc ab"


def reference(passage: str, keys: str) -> tuple[str, int, int]:
    """The typed text as a person sees it, the keystrokes and the correct ones."""
    typed, strokes, correct = "", 0, 0
    for ch in keys:
        if typed == passage:
            break
        if ch == BS:
            typed = typed[:-1]
            continue
        strokes += 1
        good = passage.startswith(typed) and len(typed) < len(passage)
        if good and passage[len(typed)] == ch:
            typed += ch
            correct += 1
        elif not good and len(typed) - _prefix(passage, typed) >= MAX_WRONG:
            continue                          # the cap: not kept
        else:
            typed += ch
    return typed, strokes, correct


def _prefix(passage: str, typed: str) -> int:
    n = 0
    while n < min(len(passage), len(typed)) and passage[n] == typed[n]:
        n += 1
    return n


@given(st.lists(st.text(alphabet="abc x\b", max_size=12), max_size=8))
def test_any_keys_in_any_batches_match_the_reference_model(batches):
    state = TypingState(PASSAGE)
    for keys in batches:
        state.feed(keys)
    typed, strokes, correct = reference(PASSAGE, "".join(batches))
    assert PASSAGE[:state.pos] + state.wrong_text == typed
    assert state.pos == _prefix(PASSAGE, typed)
    assert state.finished == (typed == PASSAGE)
    assert (state.keystrokes, state.correct_keystrokes) == (strokes, correct)
    assert len(state.wrong) <= MAX_WRONG
