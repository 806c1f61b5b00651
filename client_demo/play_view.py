"""How the terminal client draws a PlayModel: prompt_toolkit formatted text
([(style, text)]) for a given width and height. Pure.

The passage is wrapped once per passage and width and shown as a window that scrolls
with the caret; text from the server is made safe to print first (`shown`).
"""

from __future__ import annotations

from bisect import bisect_right
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from client_demo.play_analysis import summary
from client_demo.play_model import CODE, MENU, PlayModel
from protocol.typing_model import BREAK

BAR_WIDTH = 30
NAME_WIDTH = 14
PASSAGE_ROWS = 8         # lines of the passage shown, without a terminal height
PASSAGE_ROWS_MAX = 12

STYLE = {
    "title": "bold", "notice": "fg:ansired bold", "hint": "fg:ansibrightblack",
    "done": "fg:ansigreen", "wrong": "bg:ansired fg:ansiwhite", "caret": "reverse",
    "rest": "", "bar": "fg:ansiblue", "bar.mine": "fg:ansicyan bold", "mine": "bold",
    "finished": "fg:ansigreen bold", "go": "fg:ansigreen bold", "code": "bold fg:ansiyellow",
}


def shown(value) -> str:
    """Text from the server as the terminal may show it: a control character (an escape
    sequence in a name would drive the terminal) becomes '?', one for one, so positions
    in the passage stay the same."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(value))


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@lru_cache(maxsize=4)
def wrap_points(body: str, width: int) -> list[tuple[int, int]]:
    """[(start, end)] line ranges of `body` wrapped at spaces to `width` columns; a line
    keeps its trailing space (or paragraph break, shown as a space) so every character
    of the passage is shown exactly once. Computed once per passage and width: the
    caller must not change the list."""
    width = max(10, width)
    lines, start = [], 0
    while start < len(body):
        end = min(len(body), start + width)
        brk = body.find(BREAK, start, end)
        if brk >= 0:
            end = brk + 1
        elif end < len(body):
            space = body.rfind(" ", start, end)
            if space >= start:
                end = space + 1
        lines.append((start, end))
        start = end
    return lines


@lru_cache(maxsize=4)
def _line_starts(body: str, width: int) -> list[int]:
    return [start for start, _ in wrap_points(body, width)]


@lru_cache(maxsize=4)
def _display(body: str) -> str:
    """The passage as the terminal shows it, one cell per character: a paragraph break
    as a space (the line ends after it), other control characters as '?'."""
    return shown(body.replace(BREAK, " "))


def passage_window(body: str, width: int, caret: int, rows: int) -> list[tuple[int, int]]:
    """The `rows` lines of the wrapped passage to show: the caret's line second from the
    top (one line of what was typed above it), so the passage scrolls with the typing.
    O(log lines) per call: a key on a 10,000-character passage costs a few lines."""
    lines = wrap_points(body, width)
    at = max(0, bisect_right(_line_starts(body, width), caret) - 1)
    first = max(0, min(at - 1, len(lines) - rows))
    return lines[first:first + rows]


def _passage(model: PlayModel, width: int, rows: int) -> list[tuple[str, str]]:
    body = model.body
    text = _display(body)
    typing = model.typing
    if model.spectator or typing is None:
        pos = wrong = 0
        caret = -1                          # nothing marked: everything is "rest"
        bounds = [(len(body), "rest")]
    else:
        pos, wrong = typing.pos, min(len(typing.wrong), len(body) - typing.pos)
        caret = pos + wrong
        # Where each style ends: done up to pos, wrong up to the caret, the caret cell.
        bounds = [(pos, "done"), (caret, "wrong"), (caret + 1, "caret"), (len(body), "rest")]
    out: list[tuple[str, str]] = []
    for start, end in passage_window(body, width, max(caret, 0), rows):
        i = start
        for bound, style in bounds:
            j = min(bound, end)
            if j > i:
                out.append(("class:" + style, text[i:j]))
                i = j
        out.append(("", "\n"))
    return out


def _lanes(model: PlayModel, now_ms: int) -> list[tuple[str, str]]:
    chars = max(1, len(model.body))
    out = []
    for slot in sorted(model.lanes):
        lane = model.lanes[slot]
        mine = not model.spectator and slot == model.slot
        # Our own lane follows the local prediction until the race is over.
        live = mine and model.typing is not None and model.results is None
        pos = model.typing.pos if live else lane.pos
        wpm = model.live_wpm(now_ms) if live and model.started(now_ms) else lane.wpm
        filled = round(BAR_WIDTH * min(pos, chars) / chars)
        name = shown(lane.name)[:NAME_WIDTH].ljust(NAME_WIDTH)
        out += [("class:mine" if mine else "", name + " "),
                ("class:bar.mine" if mine else "class:bar", "█" * filled),
                ("class:hint", "·" * (BAR_WIDTH - filled)),
                ("", f" {round(wpm):>4} wpm "),
                ("class:finished", ordinal(lane.place) if lane.place else ""), ("", "\n")]
    return out


def _results(model: PlayModel) -> list[tuple[str, str]]:
    out = [("class:title", "Results\n"),
           ("class:hint", f"{'#':>2}  {'name':<{NAME_WIDTH}} {'wpm':>6} {'acc':>6} "
                          f"{'time':>7} {'pts':>4}  status\n")]
    for r in model.results or []:
        mine = not model.spectator and r.get("slot") == model.slot
        acc = r.get("accuracy")
        ms = r.get("race_ms")
        line = (f"{r.get('place', ''):>2}  {shown(r.get('name', ''))[:NAME_WIDTH]:<{NAME_WIDTH}} "
                f"{r.get('wpm', 0):>6.1f} "
                f"{(f'{acc * 100:.1f}%' if isinstance(acc, (int, float)) else '-'):>6} "
                f"{(f'{ms / 1000:.2f}s' if isinstance(ms, (int, float)) else '-'):>7} "
                f"{r.get('points', 0):>4}  "
                f"{r.get('status', '')}{'  (flagged)' if r.get('flagged') else ''}\n")
        out.append(("class:mine" if mine else "", line))
        if mine and best_line(r):
            out.append(("class:finished", best_line(r) + "\n"))
    return out


def fixed_1(x: float) -> str:
    """x to one decimal as the web page's toFixed(1) does (half up on the exact binary
    value: 0.25 -> "0.3", where format() gives "0.2"), so both clients say the same."""
    return str(Decimal(x).quantize(Decimal("0.1"), ROUND_HALF_UP))


def best_line(entry: dict) -> str:
    """What the results say about a personal best (the server's `new_best` and
    `previous_best_wpm`), in the web page's words; "" when nothing is new."""
    new = entry.get("new_best") or []
    if not new:
        return ""
    before = entry.get("previous_best_wpm")
    overall = ", and your best on any text!" if "overall" in new else "."
    if "text" in new and isinstance(before, (int, float)):
        margin = entry.get("wpm", 0) - before
        return (f"New personal best on this text: +{fixed_1(margin)} WPM (was {fixed_1(before)})"
                f"{overall}")
    if "text" in new:
        return ("Your first finish on this text is your best on any text!" if "overall" in new
                else "Your first clean finish on this text: a personal best to beat.")
    return "Your best on any text!"


def _race_status(model: PlayModel, now_ms: int) -> list[tuple[str, str]]:
    if model.results is not None:
        return [("class:title", "Race over")]
    if model.start_ms is None:
        return []
    left = model.start_ms - model.server_now(now_ms)
    if left > 0:
        return [("class:title", f"Starts in {-(-left // 1000)}")]
    if model.spectator:
        return [("class:go", "Racing")]
    if model.finish is not None:
        f = model.finish
        return [("class:finished", f"Finished {ordinal(f.get('place', 0))}! "
                                   f"{f.get('wpm', 0):.1f} wpm, "
                                   f"{f.get('accuracy', 0) * 100:.1f}% accuracy")]
    return [("class:go", "Go! "), ("", f"{model.live_wpm(now_ms):.0f} wpm, "
                                       f"{model.live_accuracy() * 100:.0f}% accuracy")]


def _daily(model: PlayModel) -> list[tuple[str, str]]:
    """The menu's line for the text of the day: its title and the player's place."""
    if not model.daily:
        return []
    daily = model.daily
    you = daily.get("you")
    place = (f"you: {ordinal(you['place'])}, "
             f"{you['best_wpm']:.0f} WPM" if you else "not raced yet")
    return [("", "  d  text of the day: "), ("class:title", shown(daily["text"]["title"])),
            ("class:hint", f"  ({place})\n")]


def render(model: PlayModel, now_ms: int, width: int = 80,
           height: int | None = None) -> list[tuple[str, str]]:
    who = f"  {shown(model.name)}" + ("  (account)" if model.account else "  (guest)")
    out: list[tuple[str, str]] = [("class:title", "Typerace"), ("", who + "\n")]
    if model.notice:
        out.append(("class:notice", shown(model.notice) + "\n"))
    out.append(("", "\n"))
    if model.mode == MENU:
        out += [("", "  r  quick race against anyone\n"), ("", "  p  practice alone\n")]
        out += _daily(model)
        out += [
                ("", "  j  join a private room by code\n"), ("", "  w  watch a race by code\n"),
                ("", "  x  quit\n")]
        return out
    if model.mode == CODE:
        label = "Join code" if model.code_kind == "join" else "Watch code"
        out += [("", f"{label}: "), ("class:code", model.code), ("class:caret", " "), ("", "\n"),
                ("class:hint", "Enter to go, Esc to go back\n")]
        return out

    room = model.room or {}
    kind = {"quick": "Quick race", "practice": "Practice", "private": "Private room"}.get(
        room.get("kind"), "Room")
    out.append(("class:title", kind))
    out.append(("", f"  {model.state}"))
    if model.spectator:
        out.append(("class:hint", "  (watching)"))
    solo = room.get("kind") == "practice"      # practice and ghost races: nobody to invite
    if room.get("code") and not solo:
        out += [("", "  join code "), ("class:code", shown(room["code"])),
                ("", "  watch code "), ("class:code", shown(room.get("watch_code", "")))]
    out.append(("", "\n" if solo else f"  {room.get('spectators', 0)} watching\n"))
    if model.text is None:
        names = ", ".join(shown(p.get("name", "")) for p in room.get("players") or [])
        out += [("", f"Players: {names}\n\n")]
    else:
        out += [("class:title", shown(model.text.get("title", ""))), ("", "   ")]
        out += _race_status(model, now_ms) + [("", "\n\n")]
        rows = PASSAGE_ROWS if height is None else max(3, min(PASSAGE_ROWS_MAX, height // 2))
        out += _passage(model, width, rows) + [("", "\n")]
        out += _lanes(model, now_ms)
        if model.results is not None:
            out += [("", "\n")] + _results(model)
            if model.analysis is not None:
                out += [("", "\n")] + summary(model.analysis, shown)      # play_analysis.py
    hints = ["Esc leave"]
    finished = model.state == "finished" and model.results is not None
    if finished and room.get("kind") in ("quick", "practice") and not model.spectator:
        hints.insert(0, "Enter race again" if room.get("kind") == "quick" else "Enter next text")
    elif model.is_host and room.get("kind") == "private":
        if model.state == "waiting":
            hints.insert(0, "Enter start the race")
        elif finished:
            hints.insert(0, "Enter rematch")
    out.append(("class:hint", "\n" + " · ".join(hints) + "\n"))
    return out
