"""What the terminal client shows and sends, from protocol messages and key presses. Pure.

`PlayModel` takes server messages (`on_message`) and key presses (`on_key`), both with
the local time passed in, and answers with the requests to send. `render()` turns it
into prompt_toolkit formatted text ([(style, text)]) for a given width. The TUI shell in
play.py only moves bytes and keys; every decision is here and unit-tested.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from protocol import scoring
from protocol.messages import CODE_MAX, KEYS_MAX
# The server's own typing model (pure): the local prediction is then exactly what the
# server will compute from the same keys, so the passage marking never disagrees.
from protocol.typing_model import BACKSPACE, BREAK, TypingState, as_typed

MENU, CODE, ROOM = "menu", "code", "room"
ENTER, ESCAPE, BACKSPACE_KEY, QUIT = "enter", "escape", "backspace", "quit"
BAR_WIDTH = 30
NAME_WIDTH = 14
PASSAGE_ROWS = 8         # lines of the passage shown, without a terminal height
PASSAGE_ROWS_MAX = 12


@dataclass
class Lane:
    slot: int
    name: str
    pos: int = 0
    wpm: float = 0.0
    place: int = 0


class PlayModel:
    def __init__(self, name: str):
        self.name = name
        self.player_id: str | None = None
        self.account: str | None = None       # the account logged in to; None: a guest
        self.mode = MENU
        self.code_kind: str | None = None     # "join" | "watch" while typing a code
        self.code = ""
        self.notice = ""
        self.quit = False
        self.room: dict | None = None
        self.slot: int | None = None
        self.spectator = False
        self._offsets: list[int] = []         # samples of server clock - local clock
        self._reset_race()

    def _reset_race(self) -> None:
        self.race_id = None
        self.text: dict | None = None
        self.body = ""
        self.start_ms: int | None = None      # server clock
        self.typing: TypingState | None = None
        self.lanes: dict[int, Lane] = {}
        self.finish: dict | None = None       # our own `finish`
        self.results: list[dict] | None = None
        self.done_ms: int | None = None       # server clock when the local prediction finished
        self.outbox = ""

    # ---- clock ----------------------------------------------------------------

    def _sample(self, server_ms, now_ms: int) -> None:
        """A server stamp is never later than the server's time at receipt, so the
        largest recent offset is the best (latency-free) estimate."""
        if isinstance(server_ms, (int, float)):
            self._offsets = (self._offsets + [int(server_ms) - now_ms])[-50:]

    def server_now(self, now_ms: int) -> int:
        return now_ms + (max(self._offsets) if self._offsets else 0)

    # ---- state questions ------------------------------------------------------

    @property
    def state(self) -> str:
        return (self.room or {}).get("state", "")

    @property
    def is_host(self) -> bool:
        return (not self.spectator and self.room is not None and self.slot is not None
                and self.room.get("host") == self.slot)

    def started(self, now_ms: int) -> bool:
        return self.start_ms is not None and self.server_now(now_ms) >= self.start_ms

    def can_type(self, now_ms: int) -> bool:
        return (self.mode == ROOM and self.typing is not None and not self.spectator
                and self.slot is not None and self.results is None and self.finish is None
                and not self.typing.finished and self.started(now_ms))

    def live_wpm(self, now_ms: int) -> float:
        if self.finish is not None:
            return float(self.finish.get("wpm", 0))
        if self.typing is None or self.start_ms is None:
            return 0.0
        end = self.done_ms if self.done_ms is not None else self.server_now(now_ms)
        return scoring.wpm(self.typing.pos, end - self.start_ms)

    def live_accuracy(self) -> float:
        if self.typing is None:
            return 1.0
        return scoring.accuracy(self.typing.correct_keystrokes, self.typing.keystrokes)

    # ---- messages from the server -------------------------------------------

    def on_message(self, msg: dict, now_ms: int) -> None:
        kind = msg.get("type")
        self._sample(msg.get("server_ms"), now_ms)
        handler = getattr(self, "_on_" + str(kind), None)
        if handler is not None:
            handler(msg, now_ms)

    def _on_welcome(self, msg, now_ms):
        self.player_id = msg.get("player_id")
        self.name = msg.get("name") or self.name
        self.account = msg.get("account")

    def _enter_room(self, room: dict, slot, spectator: bool) -> None:
        if self.room is None or room.get("room_id") != self.room.get("room_id"):
            self._reset_race()
        self.mode, self.code_kind, self.code, self.notice = ROOM, None, "", ""
        self.slot, self.spectator = slot, spectator
        self._update_room(room)

    def _on_joined(self, msg, now_ms):
        self._enter_room(msg.get("room") or {}, msg.get("slot"), False)

    def _on_watching(self, msg, now_ms):
        self._enter_room(msg.get("room") or {}, None, True)

    def _on_room(self, msg, now_ms):
        room = msg.get("room") or {}
        if self.room is not None and room.get("room_id") == self.room.get("room_id"):
            self._update_room(room)

    def _update_room(self, room: dict) -> None:
        self.room = room
        names = {p.get("slot"): str(p.get("name", "")) for p in room.get("players") or []}
        for slot, name in names.items():
            if slot in self.lanes:
                self.lanes[slot].name = name
        if room.get("state") == "countdown" and self.text is not None:
            # Late joiners and leavers before the start.
            for slot in [s for s in self.lanes if s not in names]:
                del self.lanes[slot]
            for slot, name in names.items():
                self.lanes.setdefault(slot, Lane(slot, name))

    def _on_countdown(self, msg, now_ms):
        if msg.get("race_id") != self.race_id or self.results is not None:
            self._reset_race()
            self.race_id = msg.get("race_id")
        self.text = msg.get("text") or {}
        self.body = str(self.text.get("body", ""))
        self.start_ms = msg.get("start_server_ms")
        if self.typing is None:
            self.typing = TypingState(self.body)
        for p in (self.room or {}).get("players") or []:
            self.lanes.setdefault(p.get("slot"), Lane(p.get("slot"), str(p.get("name", ""))))

    def _lane(self, slot) -> Lane:
        if slot not in self.lanes:
            self.lanes[slot] = Lane(slot, f"Player {slot}")
        return self.lanes[slot]

    def _on_tick(self, msg, now_ms):
        if self.text is None:
            return
        if isinstance(msg.get("race_ms"), int) and self.start_ms is not None:
            self._sample(self.start_ms + msg["race_ms"], now_ms)
        for entry in msg.get("p") or []:
            if len(entry) < 4:
                continue
            slot, pos, wpm, place = entry[:4]
            lane = self._lane(slot)
            lane.pos, lane.wpm, lane.place = pos, wpm, place

    def _on_finish(self, msg, now_ms):
        if self.text is None:
            return
        lane = self._lane(msg.get("slot"))
        lane.pos, lane.wpm, lane.place = len(self.body), msg.get("wpm", 0), msg.get("place", 0)
        if not self.spectator and msg.get("slot") == self.slot:
            self.finish = msg

    def _on_results(self, msg, now_ms):
        self.results = list(msg.get("ranking") or [])
        for entry in self.results:
            if entry.get("slot") in self.lanes:
                self.lanes[entry["slot"]].place = entry.get("place", 0)
        self.outbox = ""

    def _on_resume(self, msg, now_ms):
        """Our own state after a reconnect: the server's supersedes unsent keys."""
        if self.typing is None:
            return
        self.outbox = ""
        self.typing.pos = max(0, min(len(self.body), int(msg.get("pos", 0))))
        self.typing.wrong = list(str(msg.get("wrong", "")))

    def _on_left(self, msg, now_ms):
        if msg.get("reason"):
            self.notice = f"The room closed ({msg['reason']})."
        self._to_menu()

    def _on_kicked(self, msg, now_ms):
        self._to_menu()
        self.notice = "The host removed you from the room."

    def _on_error(self, msg, now_ms):
        code = msg.get("code", "error")
        if code == "not_racing":
            return                      # keys that arrived just after the race ended
        self.notice = f"{msg.get('message', code)} ({code})"

    def _to_menu(self) -> None:
        self.mode, self.room, self.slot, self.spectator = MENU, None, None, False
        self._reset_race()

    # ---- keys -----------------------------------------------------------------

    def on_key(self, key: str, now_ms: int) -> list[dict]:
        """A key press: one printable character, or ENTER, ESCAPE, BACKSPACE_KEY, QUIT.
        Returns the requests to send (typed keys wait in `outbox`: see take_input)."""
        if key == QUIT:
            self.quit = True
            return []
        if self.mode == MENU:
            return self._menu_key(key)
        if self.mode == CODE:
            return self._code_key(key)
        return self._room_key(key, now_ms)

    def _menu_key(self, key: str) -> list[dict]:
        self.notice = ""
        choice = key.lower() if len(key) == 1 else key
        if choice == "r":
            return [{"type": "quick_race"}]
        if choice == "p":
            return [{"type": "practice"}]
        if choice in ("j", "w"):
            self.mode, self.code_kind, self.code = CODE, "join" if choice == "j" else "watch", ""
        elif choice in ("x", ESCAPE):
            self.quit = True
        return []

    def _code_key(self, key: str) -> list[dict]:
        if key == ESCAPE:
            self.mode, self.code_kind = MENU, None
        elif key == BACKSPACE_KEY:
            self.code = self.code[:-1]
        elif key == ENTER and self.code.strip():
            kind = "join_room" if self.code_kind == "join" else "watch"
            return [{"type": kind, "code": self.code.strip()}]
        elif len(key) == 1 and key.isprintable() and len(self.code) < CODE_MAX:
            self.code += key
        return []

    def _room_key(self, key: str, now_ms: int) -> list[dict]:
        if self.can_type(now_ms):
            if key == BACKSPACE_KEY:
                self._type(BACKSPACE, now_ms)
            elif key == ENTER:
                self._type(BREAK, now_ms)      # types a paragraph break (or is wrong)
            elif len(key) == 1 and key.isprintable():
                self._type(key, now_ms)
            elif key == ESCAPE:
                return self._leave()
            return []
        if key == ESCAPE:
            return self._leave()
        if key == ENTER and self.is_host and not (self.room or {}).get("public"):
            if self.state == "waiting":
                return [{"type": "start"}]
            if self.state == "finished" and self.results is not None:
                return [{"type": "rematch"}]
        return []

    def _type(self, keys: str, now_ms: int) -> None:
        keys = as_typed(keys)          # as the server will judge them
        self.typing.feed(keys)
        self.outbox += keys
        if self.typing.finished and self.done_ms is None:
            self.done_ms = self.server_now(now_ms)

    def _leave(self) -> list[dict]:
        self._to_menu()
        return [{"type": "leave"}]

    def take_input(self) -> dict | None:
        """The next `input` message of typed keys, or None (the shell calls this every
        ~100 ms, so a fast typist sends ~10 messages a second, well under the limit)."""
        if not self.outbox:
            return None
        keys, self.outbox = self.outbox[:KEYS_MAX], self.outbox[KEYS_MAX:]
        return {"type": "input", "keys": keys}


# ---- rendering --------------------------------------------------------------------

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
                          f"{'time':>7}  status\n")]
    for r in model.results or []:
        mine = not model.spectator and r.get("slot") == model.slot
        acc = r.get("accuracy")
        ms = r.get("race_ms")
        line = (f"{r.get('place', ''):>2}  {shown(r.get('name', ''))[:NAME_WIDTH]:<{NAME_WIDTH}} "
                f"{r.get('wpm', 0):>6.1f} "
                f"{(f'{acc * 100:.1f}%' if isinstance(acc, (int, float)) else '-'):>6} "
                f"{(f'{ms / 1000:.2f}s' if isinstance(ms, (int, float)) else '-'):>7}  "
                f"{r.get('status', '')}{'  (flagged)' if r.get('flagged') else ''}\n")
        out.append(("class:mine" if mine else "", line))
    return out


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


def render(model: PlayModel, now_ms: int, width: int = 80,
           height: int | None = None) -> list[tuple[str, str]]:
    who = f"  {shown(model.name)}" + ("  (account)" if model.account else "  (guest)")
    out: list[tuple[str, str]] = [("class:title", "Typerace"), ("", who + "\n")]
    if model.notice:
        out.append(("class:notice", shown(model.notice) + "\n"))
    out.append(("", "\n"))
    if model.mode == MENU:
        out += [("", "  r  quick race against anyone\n"), ("", "  p  practice alone\n"),
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
    if room.get("code"):
        out += [("", "  join code "), ("class:code", shown(room["code"])),
                ("", "  watch code "), ("class:code", shown(room.get("watch_code", "")))]
    out.append(("", f"  {room.get('spectators', 0)} watching\n"))
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
    hints = ["Esc leave"]
    if model.is_host and not room.get("public"):
        if model.state == "waiting":
            hints.insert(0, "Enter start the race")
        elif model.results is not None:
            hints.insert(0, "Enter rematch")
    out.append(("class:hint", "\n" + " · ".join(hints) + "\n"))
    return out
