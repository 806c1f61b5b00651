"""The text library: the starter set, validation, operator files (pure parts)."""

from __future__ import annotations

import pytest

from protocol.messages import BODY_MAX
from server.core.texts import TextInvalid, parse_texts_file, validate_text
from server.net.starter import starter_texts


def test_the_starter_set_has_at_least_40_raceable_passages():
    texts = starter_texts()
    assert len(texts) >= 40
    assert len({t["body"] for t in texts}) == len(texts)
    assert len({t["title"] for t in texts}) == len(texts)
    for t in texts:
        assert 15 <= len(t["body"].split()) <= 120, t["title"]
        assert t["title"] and t["source"]
        # Each passes the same rules as a player's text.
        assert validate_text(t["title"], t["body"], t["source"]) == t


@pytest.mark.parametrize("title, body, source, complaint", [
    ("T", "too short", None, f"20-{BODY_MAX} characters"),
    ("T", "x" * (BODY_MAX + 1), None, f"20-{BODY_MAX} characters after whitespace is "
                                      f"normalized (it has {BODY_MAX + 1})"),
    ("T", "  abcdefghij  \n\t abcdefgh  ", None, "(it has 19)"),
    ("T", "Tab\tand\nnewline are fine but a bell \x07 is not", None, "U+0007"),
    ("T", "A private-use character\ue000 cannot be typed by anyone", None, "U+E000"),
    ("", "A body that is long enough to be typed.", None, "title must be 1-80"),
    ("   ", "A body that is long enough to be typed.", None, "title must be 1-80"),
    ("x" * 81, "A body that is long enough to be typed.", None, "(it has 81)"),
    ("Bad\x00title", "A body that is long enough to be typed.", None, "title may contain"),
    ("T", "A body that is long enough to be typed.", "s" * 121, "source must be at most"),
])
def test_invalid_texts_are_refused_saying_what_is_wrong(title, body, source, complaint):
    with pytest.raises(TextInvalid) as refused:
        validate_text(title, body, source)
    assert complaint in str(refused.value)


def test_whitespace_is_normalized_to_single_spaces_and_lines_to_paragraphs():
    text = validate_text("  A   title ", "  One\ttwo\n\nthree \u00a0 four five six seven  ",
                         " a  book ")
    assert text == {"title": "A title", "body": "One two\nthree four five six seven",
                    "source": "a book"}


def test_every_line_break_is_one_paragraph_break_and_blank_lines_add_none():
    body = "First line\r\nsecond line\n\n\n   \n\tThird\u2029fourth\n"
    assert validate_text("T", body)["body"] == "First line\nsecond line\nThird\nfourth"


def test_a_text_of_the_limit_is_accepted_and_the_limit_counts_the_stored_form():
    assert len(validate_text("T", "y" * BODY_MAX)["body"]) == BODY_MAX
    # Spaces that whitespace normalization removes don't count...
    assert len(validate_text("T", "ab  " * (BODY_MAX // 3))["body"]) == 3 * (BODY_MAX // 3) - 1
    # ... and folding counts as stored: an ellipsis is three characters.
    with pytest.raises(TextInvalid, match=f"it has {BODY_MAX + 2}"):
        validate_text("T", "y" * (BODY_MAX - 1) + "\u2026")


def test_a_texts_file_is_split_on_blank_lines_with_optional_titles():
    content = ("# The first one\nIts body runs over\ntwo lines of the file.\n\n\n"
               "No title here, so the first words become the title of this passage.\n")
    first, second = parse_texts_file(content, "mine.txt")
    # Blank lines separate passages there, so a passage is one paragraph.
    assert first == {"title": "The first one", "source": "mine.txt #1",
                     "body": "Its body runs over two lines of the file."}
    assert second["title"] == "No title here, so the first"
    assert second["source"] == "mine.txt #2"


def test_a_bad_passage_in_a_texts_file_is_named():
    content = "A fine passage that is long enough.\n\nshort\n"
    with pytest.raises(TextInvalid) as refused:
        parse_texts_file(content, "ops.txt")
    assert "ops.txt: passage 2" in str(refused.value)


def test_a_texts_file_passage_over_the_limit_is_named_with_the_limit():
    content = "A fine passage that is long enough.\n\n" + "word " * (BODY_MAX // 5 + 1)
    with pytest.raises(TextInvalid) as refused:
        parse_texts_file(content, "ops.txt")
    assert f"ops.txt: passage 2: the text must be 20-{BODY_MAX} characters" in str(refused.value)


def test_a_texts_file_is_folded_like_a_players_text():
    (passage,) = parse_texts_file("# \u201cQuoted\u201d\nIt\u2019s a test \u2014 of folding.", "f")
    assert passage["title"] == '"Quoted"'
    assert passage["body"] == "It's a test -- of folding."
