"""Passages: the Text value, the built-in starter set and operator text files. Pure."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources

TITLE_MAX = 80


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


def starter_texts() -> list[dict]:
    """The built-in passages written for this project: [{title, source, body}]."""
    data = resources.files("server").joinpath("data/starter_texts.json").read_text("utf-8")
    return [dict(t, body=normalize_body(t["body"])) for t in json.loads(data)]


def parse_texts_file(content: str, filename: str) -> list[dict]:
    """Passages separated by blank lines. A passage whose first line starts with '# '
    takes that line as its title; otherwise the title is the passage's first words."""
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
        passages.append({"title": title, "source": f"{filename} #{number}", "body": body})
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
