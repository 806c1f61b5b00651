"""Every passage can be typed on an ordinary keyboard: the fold of typographic
characters, Unicode NFC for texts and keys, joiners inside words, paragraph breaks typed
as a space or Enter, and words counted as a reader counts them."""

from __future__ import annotations

import unicodedata

import pytest

from protocol.typeable import FOLDS, MARKS_MAX, fold, typeable
from protocol.typing_model import BACKSPACE, TypingState, as_typed
from server.core.texts import (Text, TextInvalid, count_words, normalize_body,
                               parse_texts_file, validate_text)


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


def test_other_unprintable_characters_are_still_refused_by_name():
    # (U+2063, an invisible separator, was the example here: it is default-ignorable,
    # so it is now dropped like the other invisible characters.)
    for ch in ("\u0007", "\ue000", "\U000F0000", "\u0378"):   # bell, private use, unassigned
        with pytest.raises(TextInvalid, match=f"U\\+{ord(ch):04X}"):
            validate_text("T", f"an unprintable{ch}character that cannot be typed")


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


UNICODE_SPACES = ["\u00a0", "\u202f", "\u2009", "\u3000", "\u2002", "\u2003", "\u205f",
                  "\u1680", "\u2800"]


@pytest.mark.parametrize("space", UNICODE_SPACES)
def test_every_unicode_space_typed_as_a_key_types_a_space(space):
    """A Mac's Option+Space, a French keyboard's narrow no-break space, a Japanese IME's
    full-width space: each is the space bar (and a paragraph break, which a space types)."""
    assert as_typed(space) == " "
    typing = TypingState("one two\nthree")
    typing.feed(as_typed(f"one{space}two{space}three"))
    assert typing.finished and typing.wrong == []


def test_the_fold_table_maps_every_unicode_space_to_a_space():
    spaces = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Zs"]
    assert [FOLDS.get(ch) for ch in spaces if ch != " "] == [" "] * (len(spaces) - 1)


INVISIBLE = ["\u034f", "\ufe0f", "\U000e0100", "\u3164", "\u180b", "\u115f", "\uffa0",
             "\u17b4", "\u2063", "\U000e0041"]


@pytest.mark.parametrize("invisible", INVISIBLE)
def test_invisible_characters_are_dropped_so_a_typist_who_types_what_she_sees_finishes(
        invisible):
    stored = validate_text(f"A{invisible}title", f"Words{invisible} with an invisible{invisible}"
                           f" character {invisible} inside", f"a {invisible}source")
    assert stored == {"title": "Atitle", "body": "Words with an invisible character inside",
                      "source": "a source"}
    typing = TypingState(stored["body"])
    typing.feed(as_typed(f"Words{invisible} with an invisible"))   # a key of it: nothing
    assert typing.pos == len("Words with an invisible") and typing.wrong == []


def test_an_emoji_keeps_its_picture_without_its_variation_selector():
    stored = validate_text("Emoji", "I \u2764\ufe0f typing and \U0001F468\u200d\U0001F469"
                           "\u200d\U0001F467 too")["body"]
    assert stored == "I \u2764 typing and \U0001F468\u200d\U0001F469\u200d\U0001F467 too"


def test_a_character_canonically_equal_to_a_folded_one_folds_like_it():
    # U+1FFD (Greek oxia) is U+00B4 (an acute accent) after NFC: both fold to '.
    assert fold("it\u1ffds") == fold("it\u00b4s") == "it's"


def test_a_run_of_combining_marks_is_cut_to_the_stream_safe_limit():
    marks = "\u0346\u0316" * 40                     # out of order: NFC must sort them
    folded = fold("a" + marks + " e\u0301")
    assert folded.endswith(" \u00e9")
    assert len(folded) == 1 + MARKS_MAX + 2
    assert fold("a" + "\u0301" * MARKS_MAX) == "\u00e1" + "\u0301" * (MARKS_MAX - 1)


PLANE = 0x10000


@pytest.mark.parametrize("plane", range(0x110000 // PLANE))
def test_every_stored_character_is_typeable_over_all_code_points(plane):
    """A property over ALL of Unicode (range(0x110000), a plane of 65,536 code points
    a test): whatever character a text holds (inside a word, at a word's edge, alone;
    in the title and the source), what is stored, by submit_text or from a --texts
    file, holds only characters a keyboard types or a fold produces, and paragraph
    breaks."""
    untypeable, accepted = {}, []
    for code in range(plane * PLANE, (plane + 1) * PLANE):
        if 0xD800 <= code <= 0xDFFF:
            continue                       # lone surrogates never get past the codec
        ch = chr(code)
        try:
            text = validate_text(f"T{ch}", f"A wo{ch}rd, an edge{ch} and {ch} alone.", f"s{ch}")
        except TextInvalid:
            continue                       # refused: nothing stored
        accepted.append(ch)
        bad = {c for c in "".join(text.values()) if c != "\n" and not typeable(c)}
        if bad:
            untypeable[f"U+{code:04X}"] = sorted(f"U+{ord(c):04X}" for c in bad)
    assert untypeable == {}
    # A --texts file stores what validate_text does: the accepted ones, 1,000 a file
    # (but line breaks, which shape the file itself).
    in_files = [ch for ch in accepted if len(f"a{ch}b".splitlines()) == 1]
    for at in range(0, len(in_files), 1000):
        chunk = in_files[at:at + 1000]
        passages = parse_texts_file("\n\n".join(
            f"# T{ch}\nA wo{ch}rd, an edge{ch}\nand {ch} alone." for ch in chunk), "f.txt")
        assert len(passages) == len(chunk)
        stored = "".join("".join(p.values()) for p in passages)
        assert all(c == "\n" or typeable(c) for c in set(stored))
    if plane in (0, 1, 2):                 # letters of every script, symbols, emoji, CJK
        assert len(accepted) > 20_000
    for ch in INVISIBLE + UNICODE_SPACES[:-1] + ["\u2800"]:
        if ord(ch) // PLANE == plane:
            assert not typeable(ch)
