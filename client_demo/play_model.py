"""What the terminal client knows and sends, from protocol messages and key presses. Pure.

`PlayModel` takes server messages (`on_message`) and key presses (`on_key`), both with
the local time passed in, and answers with the requests to send; play_view.py draws it.
The TUI shell in play.py only moves bytes and keys; every decision is here and
unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import scoring
from protocol.codes import ErrorCode
from protocol.messages import CODE_MAX, KEYS_MAX
# The server's own typing model (pure): the local prediction is then exactly what the
# server will compute from the same keys, so the passage marking never disagrees.
from protocol.typing_model import BACKSPACE, BREAK, TypingState, as_typed

MENU, CODE, ROOM = "menu", "code", "room"
ENTER, ESCAPE, BACKSPACE_KEY, QUIT = "enter", "escape", "backspace", "quit"


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
        self.clock = None                     # protocol.clocksync.ClockSync, once synced
        self.daily: dict | None = None        # the last `daily`: the text of the day
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
        self.analysis: dict | None = None     # `race_analysis` of our result (play_analysis.py)
        self.done_ms: int | None = None       # server clock when the local prediction finished
        self.outbox = ""

    # ---- clock ----------------------------------------------------------------

    def _sample(self, server_ms, now_ms: int) -> None:
        """A server stamp is never later than the server's time at receipt, so the
        largest recent offset is the best (latency-free) estimate."""
        if isinstance(server_ms, (int, float)):
            self._offsets = (self._offsets + [int(server_ms) - now_ms])[-50:]

    def server_now(self, now_ms: int) -> int:
        """The server's clock: NTP-style from ping/pong once synced (play.py hands over
        the Client's ClockSync), the stamps seen until then."""
        if self.clock is not None and self.clock.synced:
            return round(self.clock.server_now(now_ms))
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

    def follow_ups(self, msg: dict) -> list[dict]:
        """What the client asks on its own after a message: the text of the day and
        the player's place on it, at the start and again after each race; after a race
        we raced, its analysis."""
        asks = [{"type": "daily"}] if msg.get("type") in ("welcome", "results") else []
        if msg.get("type") == "results" and (analysis := self.analysis_request()):
            asks.append(analysis)         # shown under the results (play_analysis.py)
        return asks

    def _on_daily(self, msg, now_ms):
        self.daily = msg

    def _on_welcome(self, msg, now_ms):
        self.player_id = msg.get("player_id")
        self.name = msg.get("name") or self.name
        self.account = msg.get("account")
        if msg.get("renamed_from"):
            self.notice = (f"\u201c{msg['renamed_from']}\u201d belongs to an account now, so you"
                           f" race as {self.name}. If it is yours, log in with its password.")

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

    def _on_race_analysis(self, msg, now_ms):
        if msg.get("race_id") == self.race_id and msg.get("slot") == self.slot:
            self.analysis = msg

    def analysis_request(self) -> dict | None:
        """What to ask once `results` came: the analysis of our own result, if we raced."""
        if self.spectator or self.results is None or self.race_id is None:
            return None
        if any(r.get("slot") == self.slot and not r.get("ghost") for r in self.results):
            return {"type": "race_analysis", "race_id": self.race_id, "slot": self.slot}
        return None

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
        if code == ErrorCode.NOT_RACING:
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
        if choice == "d" and self.daily:
            return [{"type": "practice", "text_id": self.daily["text"]["text_id"]}]
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
        if key == ENTER and not self.spectator:
            return self._again()
        return []

    def _again(self) -> list[dict]:
        """Enter between races: the host starts a private room or asks for its rematch;
        after the results, a quick race brings a new quick race, practice a new text."""
        kind = (self.room or {}).get("kind")
        finished = self.state == "finished" and self.results is not None
        if kind == "quick" and finished:
            return [{"type": "quick_race"}]
        if kind == "practice" and finished:
            return [{"type": "practice"}]
        if self.is_host and kind == "private":
            if self.state == "waiting":
                return [{"type": "start"}]
            if finished:
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
