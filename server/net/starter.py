"""The built-in passages written for this project, read from the package's data."""

from __future__ import annotations

import json
from importlib import resources

from server.core.texts import normalize_body


def starter_texts() -> list[dict]:
    """The starter set: [{title, source, body}]."""
    data = resources.files("server").joinpath("data/starter_texts.json").read_text("utf-8")
    return [dict(t, body=normalize_body(t["body"])) for t in json.loads(data)]
