"""The flag table of docs/configuration.md, made from `Config` (server/config.py).

    python -m server.configdoc            print the table
    python -m server.configdoc --write    put it into docs/configuration.md

tests/test_docs.py fails when the page's table is not the one this makes, or names a
flag `python -m server --help` does not have, so the reference cannot drift.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

from server.config import Config, flags

PAGE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
BEGIN = "<!-- flags: made by `python -m server.configdoc --write` from server/config.py -->"
END = "<!-- end of flags -->"


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _number(value) -> str:
    """10.0 as 10, 0.01 as 0.01, 67108864 as 67108864 (not 6.71089e+07)."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _default(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"`{value}`" if isinstance(value, str) else _number(value)


def _allowed(f) -> str:
    meta = f.metadata
    if isinstance(f.default, bool):
        return "`true`, `1`, `yes` or `on` switch it on"
    if meta["choices"]:
        return ", ".join(f"`{choice}`" for choice in meta["choices"])
    if meta["min"] is not None:
        return f"{_number(meta['min'])} to {_number(meta['max'])}"
    return "repeatable" if meta["repeat"] else ""


def table() -> str:
    rows = ["| flag | environment | default | allowed | meaning |", "|---|---|---|---|---|"]
    for f in flags():
        meaning = f.metadata["help"].replace("|", "\\|")
        rows.append(f"| `{flag(f.name)}` | `TYPERACE_{f.name.upper()}` | {_default(f.default)} "
                    f"| {_allowed(f)} | {meaning} |")
    return "\n".join(rows) + "\n"


def generated_part(page: str) -> str:
    """The table as the page has it (between the markers)."""
    start, end = page.index(BEGIN) + len(BEGIN), page.index(END)
    return page[start:end].strip("\n") + "\n"


def write(path: Path = PAGE) -> None:
    page = path.read_text(encoding="utf-8")
    start, end = page.index(BEGIN) + len(BEGIN), page.index(END)
    path.write_text(page[:start] + "\n" + table() + page[end:], encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    elif sys.argv[1:]:
        sys.exit("usage: python -m server.configdoc [--write]")
    else:
        print(table(), end="")
