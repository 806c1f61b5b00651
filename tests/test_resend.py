"""Keys refused with `unavailable` are sent again, in order, before keys typed later
(client_demo/resend.py, with a fake clock), and the web page's copy (resend.js, under
node) does exactly what the Python one does, step by step."""

from __future__ import annotations

import itertools

from client_demo.resend import PROBE, Resender
from protocol.messages import KEYS_MAX, RESEND_FIRST_MS, RESEND_GIVE_UP_MS, RESEND_MAX_MS

from .webjs import needs_node, run_module


class Wire:
    """The client's side of the connection: numbers what `take` gives, as a client does."""

    def __init__(self) -> None:
        self.keys = Resender()
        self.ids = itertools.count(1)

    def flush(self, now: int) -> list[tuple[int, str | None]]:
        out = []
        for item in self.keys.take(now):
            rid = next(self.ids)
            if item is PROBE:
                self.keys.probing(rid)
            else:
                self.keys.sending(rid, item)
            out.append((rid, item))
        return out

    def refuse(self, rid: int, now: int) -> bool:
        return self.keys.heard({"type": "error", "code": "unavailable", "id": rid}, now)

    def pong(self, rid: int, now: int) -> bool:
        return self.keys.heard({"type": "pong", "id": rid, "server_ms": 1}, now)


def test_while_all_is_well_keys_go_at_once_without_probes():
    wire = Wire()
    wire.keys.type("ab")
    wire.keys.type("c")
    assert wire.flush(0) == [(1, "abc")]
    assert wire.flush(100) == []
    wire.keys.type("x" * (KEYS_MAX + 1))
    assert wire.flush(200) == [(2, "x" * KEYS_MAX), (3, "x")]
    assert not wire.keys.holding


def test_a_refused_input_goes_again_after_the_back_off_before_keys_typed_later():
    wire = Wire()
    wire.keys.type("The ")
    assert wire.flush(0) == [(1, "The ")]
    assert wire.refuse(1, 50)
    assert wire.keys.holding and wire.keys.refusals == 1
    wire.keys.type("cat")
    assert wire.flush(100) == []                 # nothing in flight: only the back-off
    assert wire.flush(50 + RESEND_FIRST_MS - 1) == []
    assert wire.flush(50 + RESEND_FIRST_MS) == [(2, "The "), (3, "cat"), (4, PROBE)]
    wire.keys.type(" sat")
    assert wire.flush(600) == []                 # behind the probe
    assert wire.pong(4, 640)
    assert wire.flush(700) == [(5, " sat")]      # a clean round: all is well again
    assert not wire.keys.holding and wire.keys.lost == 0


def test_inputs_in_flight_are_settled_by_a_probe_and_only_the_refused_go_again():
    wire = Wire()
    for n, keys in enumerate(["a", "b", "c", "d"]):
        wire.keys.type(keys)
        assert wire.flush(n * 100) == [(n + 1, keys)]
    # 1 was taken (its refusal would have come first); 2 is refused; 3 and 4 in flight.
    assert wire.refuse(2, 350)
    wire.keys.type("e")
    assert wire.flush(360) == [(5, PROBE)]       # what became of 3 and 4?
    assert wire.refuse(3, 370)                   # refused too; 4 was taken
    assert wire.pong(5, 380)
    assert wire.flush(400) == []                 # backing off
    assert wire.flush(350 + RESEND_FIRST_MS) == [(6, "b"), (7, "c"), (8, "e"), (9, PROBE)]
    assert not wire.refuse(4, 900)               # settled: not ours to send again


def test_the_back_off_doubles_up_to_its_cap_and_the_keys_stay_in_order():
    wire = Wire()
    wire.keys.type("ab")
    wire.flush(0)
    now, waits = 10, []
    wire.refuse(1, now)
    wire.keys.type("c")
    sent = []
    for _ in range(6):
        due = wire.keys.retry_at
        waits.append(due - now)
        assert wire.flush(due - 1) == []
        sent = wire.flush(due)
        assert [keys for _, keys in sent] == ["ab", "c", PROBE]
        now = due + 5
        wire.refuse(sent[0][0], now)             # refused again, both of them
        wire.refuse(sent[1][0], now)
        wire.pong(sent[2][0], now)
        wire.keys.type("d")                      # typed meanwhile: behind them
        wire.keys.later = ""                     # (keep the comparison simple)
    assert waits == [RESEND_FIRST_MS, 2 * RESEND_FIRST_MS, 4 * RESEND_FIRST_MS] + [
        RESEND_MAX_MS] * 3
    assert wire.keys.refused == ["ab", "c"]


def test_after_the_give_up_time_the_held_keys_are_dropped_and_counted():
    wire = Wire()
    wire.keys.type("abc")
    wire.flush(0)
    wire.refuse(1, 100)
    wire.keys.type("de")
    assert wire.flush(100 + RESEND_GIVE_UP_MS - 1) == [(2, "abc"), (3, "de"), (4, PROBE)]
    wire.refuse(2, 100 + RESEND_GIVE_UP_MS - 1)
    wire.refuse(3, 100 + RESEND_GIVE_UP_MS - 1)
    wire.pong(4, 100 + RESEND_GIVE_UP_MS - 1)
    wire.keys.type("f")
    assert wire.flush(100 + RESEND_GIVE_UP_MS) == []
    assert wire.keys.lost == 6 and not wire.keys.holding
    wire.keys.type("g")
    assert wire.flush(100 + RESEND_GIVE_UP_MS + 1) == [(5, "g")]


def test_the_end_of_the_race_drops_what_is_held():
    wire = Wire()
    wire.keys.type("abc")
    wire.flush(0)
    wire.refuse(1, 10)
    wire.keys.type("d")
    assert not wire.keys.heard({"type": "results", "race_id": 1, "ranking": []}, 20)
    assert wire.keys.lost == 4 and not wire.keys.holding
    assert wire.flush(30) == []
    wire.keys.type("x")                          # unsent keys of a race that ended: no trouble
    wire.keys.heard({"type": "joined", "room": {}, "slot": 0, "id": 9}, 40)
    assert wire.keys.lost == 4 and wire.flush(50) == []


def test_other_errors_and_other_ids_are_not_about_our_keys():
    wire = Wire()
    wire.keys.type("a")
    wire.flush(0)
    assert not wire.keys.heard({"type": "error", "code": "not_racing", "id": 1}, 5)
    assert not wire.keys.heard({"type": "error", "code": "unavailable", "id": 77}, 5)
    assert not wire.keys.heard({"type": "error", "code": "unavailable"}, 5)
    assert not wire.keys.holding


SCENARIO = [
    ["type", "The "], ["take", 0], ["type", "cat"], ["take", 100], ["type", " sat"],
    ["take", 200], ["heard", {"type": "error", "code": "unavailable", "id": 2}, 230],
    ["type", " on"], ["take", 300],
    ["heard", {"type": "error", "code": "unavailable", "id": 3}, 310],
    ["heard", {"type": "pong", "id": 4, "server_ms": 1}, 320], ["take", 400], ["take", 730],
    ["type", " the"], ["take", 760],
    ["heard", {"type": "error", "code": "unavailable", "id": 5}, 770],
    ["heard", {"type": "error", "code": "unavailable", "id": 6}, 770],
    ["heard", {"type": "error", "code": "unavailable", "id": 7}, 770],
    ["heard", {"type": "pong", "id": 8, "server_ms": 1}, 780], ["take", 1700], ["take", 1770],
    ["heard", {"type": "pong", "id": 13, "server_ms": 1}, 1800], ["take", 1810],
    ["type", " mat"], ["take", 1900],
    ["heard", {"type": "error", "code": "unavailable", "id": 14}, 1950],
    ["take", 2000], ["type", "!"], ["take", 2449], ["take", 2450],
    ["heard", {"type": "error", "code": "unavailable", "id": 15}, 2460],
    ["heard", {"type": "error", "code": "unavailable", "id": 16}, 2460],
    ["heard", {"type": "pong", "id": 17, "server_ms": 1}, 2470], ["type", "?"],
    ["take", 3459], ["take", 1950 + RESEND_GIVE_UP_MS],
    ["type", "x"], ["take", 1950 + RESEND_GIVE_UP_MS + 1],
    ["heard", {"type": "results", "race_id": 3, "ranking": []}, 40000],
]


def run_python(steps) -> list:
    wire, out = Wire(), []
    for step in steps:
        if step[0] == "type":
            done = wire.keys.type(step[1])
        elif step[0] == "take":
            done = [list(sent) for sent in wire.flush(step[1])]
        else:
            done = wire.keys.heard(step[1], step[2])
        out.append([done, [wire.keys.holding, wire.keys.refusals, wire.keys.lost]])
    return out


RUNNER = """
import { readFileSync } from "node:fs";
const { Resender, PROBE } = await import(process.argv[1]);
const keys = new Resender();
let nextId = 1;
const out = [];
for (const step of JSON.parse(readFileSync(0, "utf8"))) {
  let done = null;
  if (step[0] === "type") keys.type(step[1]);
  else if (step[0] === "take") {
    done = keys.take(step[1]).map((item) => {
      const id = nextId++;
      if (item === PROBE) keys.probing(id); else keys.sending(id, item);
      return [id, item];
    });
  } else done = keys.heard(step[1], step[2]);
  out.push([done, [keys.holding, keys.refusals, keys.lost]]);
}
process.stdout.write(JSON.stringify(out));
"""


def test_the_scenario_goes_as_it_should_in_python():
    out = run_python(SCENARIO)
    sent = [item for step, (done, _) in zip(SCENARIO, out) if step[0] == "take"
            for _, item in done]
    # Refused keys go again in the order typed, later keys behind them, a probe after
    # each round; at the give-up what is held (" mat!?") is dropped and counted.
    assert sent == ["The ", "cat", " sat", None, "cat", " sat", " on", None,
                    "cat", " sat", " on", " the", None, " mat", " mat", "!", None, "x"]
    assert out[-5][1] == [True, 8, 0] and out[-4][1] == [False, 8, 6]


@needs_node
def test_the_web_page_resends_exactly_as_the_python_clients_do(tmp_path):
    assert run_module(tmp_path, "resend.js", RUNNER, SCENARIO) == run_python(SCENARIO)
