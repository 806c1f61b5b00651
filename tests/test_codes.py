"""The wire's closed sets of values are types (protocol/codes.py), the reference lists
the same error codes, and no error code is written as a bare string in the server."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

from protocol.codes import CloseCode, ErrorCode, RacerStatus, RoomState
from server.core.race import IllegalTransition, Race
from server.core.texts import Text

ROOT = pathlib.Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "protocol" / "REFERENCE.md"
# Where a call takes an error code: the position of the code among its arguments.
RAISERS = {"ProtocolError": 0, "send_error": 1, "Str": 2}


def documented_error_codes(text: str) -> set[str]:
    """The codes in the first column of the table under "## Errors"."""
    section = text.split("\n## Errors", 1)[1].split("\n## ", 1)[0]
    codes: set[str] = set()
    for line in section.splitlines():
        cells = line.split("|")
        if line.startswith("| `") and len(cells) > 2:
            codes.update(re.findall(r"`([a-z_]+)`", cells[1]))
    return codes


def test_the_reference_lists_exactly_the_error_codes_of_the_enum():
    assert documented_error_codes(REFERENCE.read_text(encoding="utf-8")) == {
        code.value for code in ErrorCode}


def test_the_reference_check_sees_a_code_missing_from_the_table():
    """The check itself can fail: a table without `room_lost` is told apart."""
    text = REFERENCE.read_text(encoding="utf-8")
    cut = re.sub(r"\n\| `room_lost` \|[^\n]*", "", text)
    assert cut != text
    assert {c.value for c in ErrorCode} - documented_error_codes(cut) == {"room_lost"}


def literal_error_codes(folder: pathlib.Path) -> list[str]:
    """Every call of ProtocolError, send_error or Str (a field's limit, protocol/
    messages.py) given a bare string as its error code."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in RAISERS:
                continue
            at = RAISERS[name]
            code = node.args[at] if len(node.args) > at else None
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                found.append(f"{path.relative_to(folder)}:{node.lineno} {code.value}")
    return found


@pytest.mark.parametrize("folder", ["server", "protocol"])
def test_no_error_code_is_a_bare_string(folder):
    assert literal_error_codes(ROOT / folder) == []


def test_the_literal_check_finds_a_bare_string_code(tmp_path):
    """The check itself can fail."""
    (tmp_path / "h.py").write_text(
        "raise ProtocolError('not_host', 'no')\n"
        "app.delivery.send_error(conn, 'internal', 'bug', None)\n"
        "raise ProtocolError(ErrorCode.NOT_HOST, 'fine')\n"
        "NAME = Str(256, 0, 'invalid_name')\n")
    assert literal_error_codes(tmp_path) == ["h.py:1 not_host", "h.py:2 internal",
                                             "h.py:4 invalid_name"]


def test_the_enums_are_their_wire_values():
    assert RoomState.FINISHED == "finished" and RacerStatus.DNF == "dnf"
    assert ErrorCode.NOT_RACING == "not_racing" and CloseCode.POLICY == 1008
    assert f"{RoomState.RACING}" == "racing"      # as messages and logs show it


def _race() -> Race:
    text = Text(7, "Fox", "test", "the quick fox")
    return Race("r1.1", text, [(0, "p1", "Ann")], start_ms=1000, countdown_s=1)


def test_a_race_goes_countdown_racing_finished():
    race = _race()
    assert race.state is RoomState.COUNTDOWN
    race.advance(1000)
    assert race.state is RoomState.RACING
    race.end(2000)
    assert race.state is RoomState.FINISHED
    race.end(3000)                                # ending an ended race changes nothing
    assert race.state is RoomState.FINISHED


def test_an_illegal_transition_names_the_race_and_its_state():
    race = _race()
    race.end(500)
    with pytest.raises(IllegalTransition, match="r1.1 can't go to racing: it is finished"):
        race._move(RoomState.RACING)
