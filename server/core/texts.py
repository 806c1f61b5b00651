"""Passages: the Text value, validation and operator text files. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from protocol.messages import BODY_MAX, BODY_MIN, SOURCE_MAX, TITLE_MAX


class TextInvalid(ValueError):
    """A passage that can't be raced; the message says what is wrong."""


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

    @property
    def words(self) -> int:
        return len(self.body.split())

    @property
    def chars(self) -> int:
        return len(self.body)

    def race_view(self) -> dict:
        """What `countdown` carries."""
        return {"text_id": self.text_id, "title": self.title, "source": self.source,
                "body": self.body, "words": self.words, "chars": self.chars}

    def listing(self) -> dict:
        """What `texts`, `text_created` and `text_stats` carry."""
        view = asdict(self)
        view.update(words=self.words, chars=self.chars)
        return view


def normalize_body(body: str) -> str:
    """Collapse every run of whitespace to one space: what players type is one line."""
    return " ".join(body.split())


def _unprintable(value: str) -> str | None:
    """A description of the first character nobody can type, or None."""
    for index, ch in enumerate(value):
        if not ch.isprintable():
            return f"U+{ord(ch):04X} at character {index + 1}"
    return None


def validate_text(title: str, body: str, source: str | None = None) -> dict:
    """A passage as players will type it: whitespace normalized to single spaces,
    printable characters only, body 20-2000 characters, title 1-80, source at most
    120. Returns {title, body, source}; raises TextInvalid saying what is wrong."""
    body = normalize_body(body)
    title = " ".join(title.split())
    source = " ".join((source or "").split())
    if not BODY_MIN <= len(body) <= BODY_MAX:
        raise TextInvalid(f"the text must be {BODY_MIN}-{BODY_MAX} characters after "
                          f"whitespace is normalized (it has {len(body)})")
    bad = _unprintable(body)
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
