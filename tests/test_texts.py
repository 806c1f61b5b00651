"""The text library: the starter set, validation, operator files (pure parts)."""

from __future__ import annotations

import pytest

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
    ("T", "too short", None, "20-2000 characters"),
    ("T", "x" * 2001, None, "(it has 2001)"),
    ("T", "  abcdefghij  \n\t abcdefgh  ", None, "(it has 19)"),
    ("T", "Tab\tand\nnewline are fine but a bell \x07 is not", None, "U+0007"),
    ("T", "A zero width\u200bspace cannot be typed by anyone", None, "U+200B"),
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


def test_whitespace_is_normalized_to_single_spaces():
    text = validate_text("  A   title ", "  One\ttwo\n\nthree \u00a0 four five six seven  ",
                         " a  book ")
    assert text == {"title": "A title", "body": "One two three four five six seven",
                    "source": "a book"}


def test_a_texts_file_is_split_on_blank_lines_with_optional_titles():
    content = ("# The first one\nIts body runs over\ntwo lines of the file.\n\n\n"
               "No title here, so the first words become the title of this passage.\n")
    first, second = parse_texts_file(content, "mine.txt")
    assert first == {"title": "The first one", "source": "mine.txt #1",
                     "body": "Its body runs over two lines of the file."}
    assert second["title"] == "No title here, so the first"
    assert second["source"] == "mine.txt #2"


def test_a_bad_passage_in_a_texts_file_is_named():
    content = "A fine passage that is long enough.\n\nshort\n"
    with pytest.raises(TextInvalid) as refused:
        parse_texts_file(content, "ops.txt")
    assert "ops.txt: passage 2" in str(refused.value)
