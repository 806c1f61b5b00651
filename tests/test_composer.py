"""The weak-key passage composer (server/core/composer.py): real words, the player's
weakest bigram far more often than in the library, the same passage for the same seed."""

from __future__ import annotations

from server.core.composer import PASSAGE_CHARS, compose, vocabulary
from server.net.starter import starter_texts

LIBRARY = [t["body"] for t in starter_texts()]
WORDS = vocabulary(LIBRARY)


def rate(bigram: str, text: str) -> float:
    """Occurrences of the bigram per character of text."""
    return sum(text.startswith(bigram, i) for i in range(len(text))) / len(text)


def test_the_weakest_bigram_appears_at_least_three_times_as_often_as_in_the_library():
    library = " ".join(LIBRARY)
    for weak in (["qu", "ck", "ph"], ["th", "er"], ["wh"], ["e ", "ng"], [" k", "zz"]):
        passage = compose(WORDS, weak, seed=7)
        assert rate(weak[0], passage) >= 3 * rate(weak[0], library), (weak, passage)


def test_a_passage_is_real_words_of_about_a_minute_and_the_same_for_a_seed():
    passage = compose(WORDS, ["qu", "ck"], seed=1)
    assert set(passage.split()) <= set(WORDS)
    assert PASSAGE_CHARS <= len(passage) < PASSAGE_CHARS + 20
    assert compose(WORDS, ["qu", "ck"], seed=1) == passage
    assert compose(WORDS, ["qu", "ck"], seed=2) != passage


def test_a_bigram_no_word_carries_is_skipped_and_none_at_all_composes_nothing():
    assert "qu" in compose(WORDS, ["q9", "qu"], seed=3)
    assert compose(WORDS, ["q9", "$%"], seed=3) is None
    assert compose([], ["qu"], seed=3) is None


def test_the_vocabulary_is_lower_cased_letters_each_word_once():
    assert vocabulary(["The cat, the CAT's 2 dogs: naïve x"]) == ["the", "cat", "dogs", "naïve"]
