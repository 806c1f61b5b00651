"""Passages: the Text value, validation and operator text files. Pure."""

from __future__ import annotations

import re
import string
from dataclasses import asdict, dataclass
from functools import cached_property

from protocol.messages import BODY_MAX, BODY_MIN, SOURCE_MAX, TITLE_MAX
from protocol.typeable import JOINERS, fold
from protocol.typing_model import BREAK


class TextInvalid(ValueError):
    """A passage that can't be raced; the message says what is wrong."""


GENERATED_ID = 0        # the text_id a generated passage's results are saved under


@dataclass(frozen=True)
class Text:
    text_id: int
    title: str
    source: str
    body: str
    author: str | None = None       # player_id of the writer; None for library texts
    author_name: str | None = None
    created_ms: int = 0
    completions: int = 0
    hidden: bool = False            # reported or hidden by an operator: out of every list
    generated: bool = False         # composed for one player (server/core/composer.py):
                                    # no stored text, text_id GENERATED_ID, shown as null

    def __post_init__(self):
        # Texts stored before passages were folded (an em dash, a decomposed accent)
        # are folded as they are read, so every passage raced is typeable; a folded
        # body is returned as it is (ASCII at once, other text after one scan).
        object.__setattr__(self, "body", fold(self.body))

    @cached_property
    def words(self) -> int:
        return count_words(self.body)

    @property
    def chars(self) -> int:
        return len(self.body)

    @property
    def shown_id(self) -> int | None:
        """The text_id clients see: null for a generated passage."""
        return None if self.generated else self.text_id

    def race_view(self) -> dict:
        """What `countdown` carries."""
        view = {"text_id": self.shown_id, "title": self.title, "source": self.source,
                "body": self.body, "words": self.words, "chars": self.chars}
        if self.generated:
            view["generated"] = True
        return view

    def listing(self) -> dict:
        """What `texts`, `text_created` and `text_stats` carry."""
        view = asdict(self)
        del view["hidden"]              # listings only ever show visible texts
        view.update(words=self.words, chars=self.chars)
        return view


# Not words on their own: a lone dash, an ellipsis, a bullet, quotes.
_PUNCTUATION = string.punctuation + "¡¿§¶°·。、，！？：；「」『』（）《》【】"
# Chinese and Japanese are written without spaces; as word processors do, each
# ideograph or kana counts as a word.
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                  "\U00020000-\U0002fa1f]")


def count_words(body: str) -> int:
    """Words as a reader counts them: runs of text between spaces, where two dashes
    ("word--word", an em dash folded) and two or more dots ("wait...what") also part
    words, and a run without a letter or digit (a lone "-", "...") is no word."""
    cjk = 0
    if not body.isascii():
        body, cjk = _CJK.subn(" ", body)
    spaced = body.replace("--", " ").replace("..", " ")
    return cjk + sum(1 for run in spaced.split() if run.strip(_PUNCTUATION))


def _spaced(value: str) -> str:
    """Every run of whitespace one space, and joiners only inside words: a joiner at
    the edge of a word joins nothing. Linear (str.split and str.strip), so no input
    makes it slow; a regex that looked around each run of joiners backtracked over
    them, quadratically (60 KB of joiners took 3.4 s)."""
    words = value.split()
    if not value.isascii():
        words = [word for word in (word.strip(JOINERS) for word in words) if word]
    return " ".join(words)


def _one_line(value: str) -> str:
    return _spaced(fold(value))


def normalize_body(body: str) -> str:
    """A passage as it is stored and typed: folded (protocol/typeable.py), each line a
    paragraph (blank lines dropped) with one BREAK between paragraphs, every other run
    of whitespace one space. Keeping the writer's line breaks loses nothing: a break
    is typed as a space or Enter (protocol/typing_model.py)."""
    return BREAK.join(filter(None, map(_spaced, fold(body).splitlines())))


def _unprintable(value: str, allowed: str = JOINERS) -> str | None:
    """A description of the first character nobody can type, or None."""
    if value.isprintable():
        return None
    for index, ch in enumerate(value):
        if not ch.isprintable() and ch not in allowed:
            return f"U+{ord(ch):04X} at character {index + 1}"
    return None


def validate_text(title: str, body: str, source: str | None = None) -> dict:
    """A passage as players will type it (normalize_body), printable characters only,
    body BODY_MIN-BODY_MAX characters, title 1-TITLE_MAX, source at most SOURCE_MAX;
    title and source are folded onto one line. Returns {title, body, source}; raises
    TextInvalid saying what is wrong."""
    body = normalize_body(body)
    title = _one_line(title)
    source = _one_line(source or "")
    if not BODY_MIN <= len(body) <= BODY_MAX:
        raise TextInvalid(f"the text must be {BODY_MIN}-{BODY_MAX} characters after "
                          f"whitespace is normalized (it has {len(body)})")
    bad = _unprintable(body, JOINERS + BREAK)
    if bad:
        raise TextInvalid(f"the text may contain printable characters only "
                          f"(found {bad})")
    if not 1 <= len(title) <= TITLE_MAX:
        raise TextInvalid(f"the title must be 1-{TITLE_MAX} characters (it has {len(title)})")
    bad = _unprintable(title)
    if bad:
        raise TextInvalid(f"the title may contain printable characters only (found {bad})")
    if len(source) > SOURCE_MAX:
        raise TextInvalid(f"the source must be at most {SOURCE_MAX} characters "
                          f"(it has {len(source)})")
    bad = _unprintable(source)
    if bad:
        raise TextInvalid(f"the source may contain printable characters only (found {bad})")
    return {"title": title, "body": body, "source": source}


def parse_texts_file(content: str, filename: str) -> list[dict]:
    """Passages separated by blank lines. A passage whose first line starts with '# '
    takes that line as its title; otherwise the title is the passage's first words.
    Every passage must pass validate_text; TextInvalid names the one that does not."""
    passages = []
    for number, block in enumerate(_blocks(content), start=1):
        lines = block.splitlines()
        title = None
        if lines[0].startswith("# "):
            title = lines[0][2:].strip()[:TITLE_MAX]
            lines = lines[1:]
        body = normalize_body(" ".join(lines))
        if not body:
            continue
        if not title:
            title = " ".join(body.split()[:6])[:TITLE_MAX]
        try:
            passages.append(validate_text(title, body, f"{filename} #{number}"))
        except TextInvalid as exc:
            raise TextInvalid(f"{filename}: passage {number}: {exc}") from None
    return passages


def _blocks(content: str):
    block: list[str] = []
    for line in content.splitlines():
        if line.strip():
            block.append(line)
        elif block:
            yield "\n".join(block)
            block = []
    if block:
        yield "\n".join(block)
