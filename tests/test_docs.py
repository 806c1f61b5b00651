"""The documentation cannot drift from the code it describes: the configuration
reference is the table Config makes and names exactly the flags `python -m server
--help` has, and every link between the pages leads somewhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from server import configdoc

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "protocol" / "REFERENCE.md",
         *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FLAG_ROW = re.compile(r"^\| `(--[a-z-]+)` \| `TYPERACE_[A-Z_]+` \|.*\| (.*) \|$", re.MULTILINE)


def server_help() -> str:
    done = subprocess.run([sys.executable, "-m", "server", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    return " ".join(done.stdout.split())


def test_the_configuration_reference_is_the_table_config_makes():
    page = configdoc.PAGE.read_text(encoding="utf-8")
    assert configdoc.generated_part(page) == configdoc.table(), \
        "docs/configuration.md is stale: run python -m server.configdoc --write"


def test_the_configuration_reference_names_every_flag_of_help_and_no_other():
    help_text = server_help()
    documented = dict(FLAG_ROW.findall(configdoc.PAGE.read_text(encoding="utf-8")))
    flags = set(re.findall(r"\[(--[a-z-]+)", help_text))
    assert flags and set(documented) == flags
    for flag, meaning in documented.items():
        # --help says it in the same words (its lines wrapped elsewhere).
        assert meaning.replace("\\|", "|") in help_text, flag


def anchors(page: Path) -> set[str]:
    """GitHub's ids of a page's headings: lower case, punctuation dropped, spaces -> '-'."""
    ids = set()
    for heading in re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.MULTILINE):
        ids.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return ids


def test_every_link_between_the_pages_leads_to_a_file_and_heading_that_exist():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue                        # http(s):, mailto:
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []
