// A saved race played back (#replay=RACE_ID&slot=N, or &player=ID): every racer's lane
// and one racer's passage move as they did. The server keeps each result's keystroke log
// with its server times (the `replay` message); the page feeds it through the same typing
// model the race used, so positions, typos and corrections come back exactly.
// Play, pause, restart, speed, and a slider to any moment of the race.
// Ids: #replay-view* #replay-back-btn #replay-title* #replay-info (a.text-link)
//   #replay-play-btn* #replay-restart-btn #replay-speed #replay-seek* (ms) #replay-time*
//   #replay-passage* (span.done, span.wrong, span.caret, span.rest) #replay-lanes*
//   (.lane[data-slot][data-pos][data-place] as in a race; .mine: the racer followed)
import { $, clear, secs, show, when } from "./dom.js";
import { send } from "./connection.js";
import { closePage, pageLink, registerPage, setView } from "./router.js";
import { wpm } from "./scoring.js";
import { state } from "./state.js";
import { laneFor, paintLane } from "./lanes.js";
import { Passage } from "./passage.js";
import { TypingState } from "./typing.js";
import { showAnalysis } from "./analysis.js";

const FRAME_MS = 50;
const KINDS = { quick: "Quick race", practice: "Practice", private: "Private room" };
let asked = 0;                 // the latest request: replies to older ones are dropped
let play = null;               // the race on screen: {chars, racers, focus, duration, t}
let playing = false, lastFrame = 0;
let passage = null;            // #replay-passage (made on first use)

/** One racer played back: its result, its log and its typing so far. */
function racer(chars, result) {
  return { result, log: Array.isArray(result.log) ? result.log : [], typing: new TypingState(chars), next: 0 };
}

/** Everyone's typing as it was `t` ms into the race. */
function seek(t) {
  if (t < play.t) {
    for (const r of play.racers) { r.typing = new TypingState(play.chars); r.next = 0; }
  }
  for (const r of play.racers) {
    while (r.next < r.log.length && r.log[r.next][0] <= t) r.typing.feed(String(r.log[r.next++][1]));
  }
  play.t = t;
  render();
}

function render() {
  const { t, chars } = play;
  for (const r of play.racers) {
    const res = r.result;
    const done = res.status === "finished" && t >= res.race_ms;
    const node = laneFor($("replay-lanes"), res.slot, { label: res.name ?? "", mine: r === play.focus });
    paintLane(node, r.typing.pos, chars.length, wpm(r.typing.pos, Math.min(t, res.race_ms)),
      done ? res.place : 0);
  }
  const focus = play.focus.typing;
  passage.mark(focus.pos, focus.wrong.length);
  $("replay-seek").value = String(Math.round(t));
  $("replay-time").textContent = `${secs(t)} / ${secs(play.duration)} s`;
}

function frame() {
  if (!playing) return;
  if (state.view !== "replay") { pause(); return; }
  const now = performance.now();
  const t = Math.min(play.duration, play.t + (now - lastFrame) * Number($("replay-speed").value));
  lastFrame = now;
  seek(t);
  if (t >= play.duration) pause();
}

function start() {
  if (!play) return;
  if (play.t >= play.duration) seek(0);
  playing = true;
  lastFrame = performance.now();
  $("replay-play-btn").textContent = "Pause";
}

function pause() {
  playing = false;
  $("replay-play-btn").textContent = "Play";
}

function open(raceId, follow) {
  const mine = ++asked;
  pause();
  play = null;
  $("replay-title").textContent = "Loading…";
  clear($("replay-info"));
  clear($("replay-lanes"));
  clear($("replay-passage"));
  show($("replay-analysis"), false);
  $("replay-time").textContent = "";
  setView("replay");
  send("replay", { race_id: raceId }, (m) => { if (mine === asked) onReplay(m, follow); });
}

function onReplay(m, follow) {
  if (m.type === "error") {
    $("replay-title").textContent = "No such race";
    $("replay-info").textContent = String(m.message || m.code);
    return;
  }
  const race = m.race || {};
  const text = race.text || {};
  const chars = Array.from(typeof text.body === "string" ? text.body : "");
  const results = (Array.isArray(race.results) ? race.results : []).slice()
    .sort((a, b) => a.slot - b.slot);
  if (!results.length || !chars.length) {
    $("replay-title").textContent = "Nothing to play back";
    return;
  }
  const racers = results.map((r) => racer(chars, r));
  const focus = racers.find((r) => follow && (follow.slot != null ? r.result.slot === follow.slot
    : r.result.player_id === follow.player)) || racers.find((r) => r.result.place === 1) || racers[0];
  const duration = Math.max(...racers.map((r) => Math.max(r.result.race_ms || 0,
    r.log.length ? r.log[r.log.length - 1][0] : 0)));
  play = { chars, racers, focus, duration, t: 0 };
  passage ??= new Passage($("replay-passage"));
  passage.show(chars);
  $("replay-title").textContent = `Replay: ${text.title || "a race"}`;
  const info = $("replay-info");
  info.append(`${KINDS[race.kind] || "Race"} · ${when(race.started_ms)} · following ${focus.result.name} · `);
  if (text.text_id != null) info.append(pageLink("text", text.text_id, "the text's page"));
  const seekBar = $("replay-seek");
  seekBar.max = String(duration);
  seek(0);
  start();
  showAnalysis($("replay-analysis"), race.race_id, focus.result.slot, text.body);   // analysis.js
}

export function init() {
  registerPage("replay", open);
  setInterval(frame, FRAME_MS);
  $("replay-back-btn").addEventListener("click", () => { pause(); closePage(); });
  $("replay-play-btn").addEventListener("click", () => (playing ? pause() : start()));
  $("replay-restart-btn").addEventListener("click", () => { if (play) { seek(0); start(); } });
  $("replay-seek").addEventListener("input", () => {
    if (!play) return;
    pause();
    seek(Math.max(0, Math.min(play.duration, Number($("replay-seek").value))));
  });
}
