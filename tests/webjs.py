"""Running the web client's ES modules under node, as a browser gets them: the files of
client_demo/web next to the protocol.js that the server generates (protocol/jsmodule.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from protocol import jsmodule

WEB = Path(__file__).resolve().parent.parent / "client_demo" / "web"
NODE = shutil.which("node")

needs_node = pytest.mark.skipif(NODE is None and not os.environ.get("CI"),
                                reason="node is not installed")


def run_module(tmp_path: Path, module: str, runner: str, cases) -> dict:
    """Run `runner` (an ES module's source) with the URL of `module` as argv[1] and
    `cases` as JSON on stdin; return what it prints as JSON."""
    assert NODE, "node is required in CI"
    site = tmp_path / "web"
    shutil.copytree(WEB, site)          # package.json tells node these .js are ES modules
    (site / "protocol.js").write_text(jsmodule.source(), encoding="utf-8")
    done = subprocess.run([NODE, "--input-type=module", "-e", runner, (site / module).as_uri()],
                          input=json.dumps(cases), capture_output=True, text=True, timeout=60,
                          check=True)
    return json.loads(done.stdout)
