"""Every passage can be typed on an ordinary keyboard: the fold of typographic
characters, Unicode NFC for texts and keys, joiners inside words, paragraph breaks typed
as a space or Enter, and words counted as a reader counts them."""

from __future__ import annotations

import unicodedata

import pytest

from protocol.typeable import FOLDS, fold
from protocol.typing_model import BACKSPACE, TypingState, as_typed
from server.core.texts import Text, TextInvalid, count_words, normalize_body, validate_text


@pytest.mark.parametrize("typographic, keyboard", [
    ("\u2014", "--"), ("\u2015", "--"), ("\u2013", "-"), ("\u2010", "-"), ("\u2011", "-"),
    ("\u2212", "-"), ("\u2018", "'"), ("\u2019", "'"), ("\u201a", "'"), ("\u201c", '"'),
    ("\u201d", '"'), ("\u201e", '"'), ("\u00ab", '"'), ("\u00bb", '"'), ("\u2039", "'"),
    ("\u2032", "'"), ("\u2033", '"'), ("\u2026", "..."), ("\u2022", "-"), ("\ufb01", "fi"),
    ("\u2044", "/"), ("\u00ad", ""), ("\u200b", ""), ("\ufeff", ""), ("\u200f", ""),
    ("\u202e", ""),
])
def test_typographic_punctuation_folds_to_what_a_keyboard_types(typographic, keyboard):
    assert fold(f"a{typographic}b") == f"a{keyboard}b"


def test_the_fold_table_gives_only_keyboard_characters_and_leaves_ascii_alone():
    for typographic, keyboard in FOLDS.items():
        assert not typographic.isascii()
        assert keyboard.isascii() and keyboard.isprintable()
    ascii_text = "Plain ASCII -- with 'quotes', \"double\" and ... dots!"
    assert fold(ascii_text) is ascii_text        # nothing to do, nothing paid


def test_letters_accents_and_other_scripts_stay_as_they_are():
    for text in ["Fran\u00e7ais \u00e0 l'\u00e9cole", "\u0420\u0443\u0441\u0441\u043a\u0438\u0439",
                 "\u65e5\u672c\u8a9e\u306e\u6587", "\u0639\u0631\u0628\u064a",
                 "\u00fc\u00df \u00f8 \u0142", "\u00b7 \u00d7 \u20ac 5\u00b0"]:
        assert fold(text) == text


def test_texts_are_composed_so_a_decomposed_accent_is_one_character():
    decomposed = "Cafe\u0301 au lait, cre\u0300me bru\u0302le\u0301e"
    body = normalize_body(decomposed)
    assert body == unicodedata.normalize("NFC", decomposed)
    assert body.startswith("Caf\u00e9 ") and len(body) < len(decomposed)


def test_nfd_and_nfc_forms_of_a_passage_are_stored_the_same():
    nfc = "Un caf\u00e9 cr\u00e8me, na\u00efve fa\u00e7ade \u00e0 Z\u00fcrich."
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    assert validate_text("T", nfd) == validate_text("T", nfc)


def test_a_keyboard_that_sends_composed_characters_types_a_decomposed_text():
    body = normalize_body("Cafe\u0301 noir is strong enough")
    typing = TypingState(body)
    typing.feed(as_typed("Caf\u00e9 noir"))
    assert typing.pos == len("Caf\u00e9 noir") and typing.wrong == []
    # ... and keys sent decomposed are composed before they are judged.
    typing = TypingState(body)
    typing.feed(as_typed("Cafe\u0301 noir"))
    assert typing.pos == len("Caf\u00e9 noir") and typing.wrong == []


def test_a_phones_smart_punctuation_types_the_folded_passage():
    body = normalize_body("It\u2019s \u201cdone\u201d \u2014 really\u2026")
    assert body == "It's \"done\" -- really..."
    typing = TypingState(body)
    typing.feed(as_typed("It\u2019s \u201cdone\u201d \u2014 really\u2026"))
    assert typing.finished and typing.correct_keystrokes == len(body)


def test_ascii_keys_are_passed_through_untouched():
    keys = "plain keys" + BACKSPACE
    assert as_typed(keys) is keys


def test_joiners_are_allowed_inside_words_and_dropped_at_their_edges():
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u06a9\u0647 \u0628\u0646\u0648\u06cc\u0633\u0645 \u0627\u06cc\u0646 \u0645\u062a\u0646 \u0631\u0627"
    hindi = "\u0915\u094d\u200d\u0937 \u0939\u093f\u0928\u094d\u0926\u0940 \u092e\u0947\u0902 \u0932\u093f\u0916\u093e \u0917\u092f\u093e \u092a\u093e\u0920"
    for body in (persian, hindi):
        stored = validate_text("T", body)["body"]
        assert stored == body                        # the joiner inside a word stays
    edges = validate_text("T", "\u200cedge\u200d joiners \u200c do nothing here at all")["body"]
    assert edges == "edge joiners do nothing here at all"


def test_other_invisible_characters_are_still_refused_by_name():
    with pytest.raises(TextInvalid, match="U\\+2063"):
        validate_text("T", "an invisible\u2063separator that cannot be typed")


def test_a_paragraph_break_is_typed_with_space_or_enter_and_nothing_else():
    body = normalize_body("One paragraph.\n\nAnother one.")
    assert body == "One paragraph.\nAnother one."
    for key in (" ", "\n"):
        typing = TypingState(body)
        typing.feed("One paragraph." + key + "Another one.")
        assert typing.finished and typing.correct_keystrokes == len(body)
    typing = TypingState(body)
    typing.feed("One paragraph.x")
    assert typing.pos == len("One paragraph.") and typing.wrong == ["x"]
    # A space in the passage is not a paragraph break: Enter does not type it.
    typing = TypingState("a b")
    typing.feed("a\n")
    assert typing.pos == 1 and typing.wrong == ["\n"]


@pytest.mark.parametrize("body, words", [
    ("The quick brown fox.", 4),
    ("He paused -- then ran.", 4),          # a spaced dash is no word
    ("He paused--then ran.", 4),             # an em dash (folded) parts two words
    ("well-known, don't, e.g. 3.14 and 10,000", 6),
    ("wait...what ... really", 3),
    ("- a bulleted line\n- another", 4),
    ("\u65e5\u672c\u8a9e\u306e\u6587\u3002", 5),     # each ideograph or kana is a word
    ("\u0915\u094d\u200d\u0937 \u0939\u093f\u0928\u094d\u0926\u0940", 2),
])
def test_words_are_counted_as_a_reader_counts_them(body, words):
    assert count_words(body) == words


def test_a_text_stored_before_folding_is_folded_when_read():
    old = Text(7, "Old", "", "It\u2019s an old text \u2014 typed as Cafe\u0301.")
    assert old.body == "It's an old text -- typed as Caf\u00e9."
    assert old.chars == len(old.body) and old.words == 7
    assert old.race_view()["body"] == old.body
