"""The operator's first minute: ./scripts/serve installs the project only when .venv is
new or pyproject.toml changed, and installing it prints no setuptools warning."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

FAKE_PIP = """#!/bin/sh
echo "pip $*" >> "$(dirname "$0")/../calls"
"""
FAKE_PYTHON = """#!/bin/sh
echo "python $*" >> "$(dirname "$0")/../calls"
"""


def _checkout_with_a_venv(tmp_path: pathlib.Path) -> pathlib.Path:
    """scripts/serve and pyproject.toml, beside a .venv whose pip and python only say
    they were called (the script's own logic is what is under test)."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "serve", tmp_path / "scripts" / "serve")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in (("pip", FAKE_PIP), ("python", FAKE_PYTHON)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    return tmp_path


def _serve(checkout: pathlib.Path, *args: str) -> list[str]:
    calls = checkout / ".venv" / "calls"
    calls.unlink(missing_ok=True)
    subprocess.run([str(checkout / "scripts" / "serve"), *args], check=True, timeout=60)
    return calls.read_text().splitlines()


def test_serve_installs_once_and_again_only_when_pyproject_changes(tmp_path):
    checkout = _checkout_with_a_venv(tmp_path)
    assert _serve(checkout, "--port", "0") == ["pip install -q -e .",
                                              "python -m server --port 0"]
    assert _serve(checkout, "--help") == ["python -m server --help"]     # no pip at all
    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# a new dependency\n")
    assert _serve(checkout) == ["pip install -q -e .", "python -m server"]
    assert _serve(checkout) == ["python -m server"]


def test_an_editable_install_of_the_project_prints_no_setuptools_warning(tmp_path):
    """What scripts/serve runs (pip install -e .), into a scratch prefix: setuptools used
    to warn about folders named like the packages (its import finder for a flat
    layout); the root as a plain .pth has nothing to warn about."""
    project = tmp_path / "project"
    archive = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True,
                             capture_output=True).stdout.decode().split("\0")
    for name in filter(None, archive):
        if (ROOT / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, project / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-v", "--no-deps", "--prefix",
         str(tmp_path / "prefix"), "-e", str(project)],
        capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    output = done.stdout + done.stderr
    assert "Successfully installed typerace" in output
    assert "Please be careful with folders" not in output
    pth = [p.read_text() for p in (tmp_path / "prefix").rglob("__editable__*.pth")]
    assert pth == [str(project) + "\n"] or pth == [str(project)]
