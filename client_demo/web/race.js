// The race on screen: countdown, the passage with what we typed, one lane per racer,
// our finish and the results. Keys typed here are predicted locally with the shared
// typing model and sent in batches; the server's ticks move everyone else's lane.
// Ids: #race-area #race-title #race-source #countdown* #live-stats #live-wpm* #live-acc*
//   #passage* (span.done, span.wrong, span.caret, span.rest) #typing-input* #race-msg
//   #lanes* (lanes drawn by lanes.js)
//   #results* #results-text (a.text-link) #results-best* (a new personal best, from the
//   server's new_best and previous_best_wpm) #results-table* (tbody tr[data-slot] (.ghost):
//   place, name (a.player-link), wpm, accuracy %, time s, status, flag, button.replay-btn)
//   (#results-actions and the keys after a race: loop.js)
import { showAnalysis } from "./analysis.js";
import { BREAK, SEND_BATCH_MS } from "./protocol.js";
import { $, clear, el, flagText, fmt1, ordinal, pct, secs, show } from "./dom.js";
import { isOpen, send } from "./connection.js";
import { clockSample, serverNow } from "./clock.js";
import { laneFor, laneLabel, paintLane } from "./lanes.js";
import { pageLink, replayButton } from "./router.js";
import { accuracy, wpm } from "./scoring.js";
import { TypingState, asTyped } from "./typing.js";
import { markPassage, showPassage } from "./passage.js";
import { PROBE, Resender, lostNotice } from "./resend.js";
import { state } from "./state.js";

const CLOCK_MS = 200;          // countdown display refresh
const ADOPT_IDLE_MS = 1000;    // our lane takes the server's pos only after this long idle
const PLACEHOLDER = "Type here when the race starts";
const HOLDING = "The race's server is out of reach: your keys will be sent again.";
const keys = new Resender();   // keys typed and not sent yet, or refused and sent again
let lastSentAt = 0;

export function resetRace() {
  state.race = null;
  state.typing = null;
  keys.end();
  keys.lost = 0;
  show($("race-area"), false);
  show($("results"), false);
  show($("results-best"), false);
  clear($("results-table").tBodies[0]);
  clear($("lanes"));
  const input = $("typing-input");
  input.value = "";
  input.disabled = true;
  input.placeholder = PLACEHOLDER;
  $("live-wpm").textContent = "0";
  $("live-acc").textContent = "–";
}

export function onCountdown(m) {
  const text = m.text || {};
  const raceId = m.race_id ?? m.start_server_ms;
  if (!state.race || state.race.race_id !== raceId || state.race.results) {
    resetRace();
    const chars = Array.from(typeof text.body === "string" ? text.body : "");
    state.race = { race_id: raceId, roomId: state.room ? state.room.room_id : null, text, chars,
      start: m.start_server_ms, results: null, finished: false, doneAt: null };
    state.typing = new TypingState(chars);
  }
  state.race.text = text;
  state.race.start = m.start_server_ms;
  $("race-title").textContent = text.title || "";
  $("race-source").textContent = [text.source, text.words != null && `${text.words} words`]
    .filter(Boolean).join(" · ");
  show($("race-area"), true);
  show($("results"), false);
  $("race-msg").textContent = state.spectator ? "Watching: typing is disabled." : "";
  // A spectator has no typing box and no live numbers of their own.
  show($("typing-input"), !state.spectator);
  show($("live-stats"), !state.spectator);
  showPassage(state.race.chars);
  for (const p of (state.room && state.room.players) || []) lane(p.slot);
  renderTyping();
  updateClock();
  $("race-area").scrollIntoView({ block: "start", behavior: "smooth" });
}

/** The lane of a slot, created on first use. */
function lane(slot) {
  const player = ((state.room && state.room.players) || []).find((p) => p.slot === slot);
  return laneFor($("lanes"), slot, { label: player ? laneLabel(player) : `Player ${slot}`,
    mine: !state.spectator && slot === state.slot, ghost: !!(player && player.ghost) });
}

function setLane(slot, pos, wpmValue, place) {
  paintLane(lane(slot), pos, state.race && state.race.chars && state.race.chars.length,
    wpmValue, place || null);      // (a place is never taken back during a race)
}

/** Lanes follow the room: names change, and before the start racers join and leave. */
export function syncLanes(room) {
  for (const p of room.players || []) {
    const name = $("lanes").querySelector(`.lane[data-slot="${CSS.escape(String(p.slot))}"] .lane-name`);
    if (name) name.textContent = laneLabel(p);
  }
  if (state.race && room.state === "countdown") {
    const slots = new Set((room.players || []).map((p) => String(p.slot)));
    for (const node of $("lanes").querySelectorAll(".lane")) if (!slots.has(node.dataset.slot)) node.remove();
    for (const p of room.players || []) lane(p.slot);
  }
}

function racing() {
  const race = state.race;
  return !!race && !race.results && race.start != null && serverNow() >= race.start;
}

export function canType() {
  return racing() && !state.spectator && state.slot != null && !state.race.finished &&
    !!state.typing && state.welcomed;
}

export function onTick(m) {
  if (!state.race) return;
  if (typeof m.race_ms === "number" && state.race.start != null) clockSample(state.race.start + m.race_ms);
  const typing = state.typing;
  for (const entry of Array.isArray(m.p) ? m.p : []) {
    const [slot, pos, w, place] = entry;
    if (!state.spectator && slot === state.slot && typing) {
      // Our own lane follows the local prediction; adopt the server's pos only when idle.
      const idle = !keys.later && !keys.holding && Date.now() - lastSentAt > ADOPT_IDLE_MS;
      if (pos !== typing.pos && idle) {
        typing.restore(pos, "");
        renderTyping();
      }
      setLane(slot, typing.pos, null, place);
    } else setLane(slot, pos, w, place);
  }
}

export function onFinish(m) {
  if (!state.race) return;
  setLane(m.slot, state.race.chars.length, m.wpm, m.place);
  if (!state.spectator && m.slot === state.slot) {
    state.race.finished = true;
    flushKeys();
    $("typing-input").disabled = true;
    $("live-wpm").textContent = String(Math.round(m.wpm || 0));
    $("race-msg").textContent = `Finished ${ordinal(m.place)}! ${fmt1(m.wpm)} WPM, ` +
      `${pct(m.accuracy)} accuracy, ${secs(m.race_ms)} s.`;
  }
}

export function onResults(m) {
  if (!state.race) {
    state.race = { race_id: m.race_id, text: {}, chars: [], start: null, finished: true, doneAt: null };
  }
  state.race.results = m;
  flushKeys();
  $("typing-input").disabled = true;
  const body = clear($("results-table").tBodies[0]);
  let best = "";
  for (const r of Array.isArray(m.ranking) ? m.ranking : []) {
    const mine = !state.spectator && r.slot === state.slot;
    if (mine) best = bestText(r);
    const left = r.status === "left";          // left mid-way: no speed to show
    // A ghost's result is not saved again: it has no replay of its own here.
    body.append(el("tr", { dataset: { slot: String(r.slot), status: String(r.status) },
      className: [mine && "mine", r.ghost && "ghost"].filter(Boolean).join(" "),
      title: [r.status, r.flagged ? `flagged: ${flagText(r.flagged)}` : ""].filter(Boolean).join(", ") },
    el("td", {}, r.place),
    el("td", {}, pageLink("player", r.player_id, r.name ?? ""), r.ghost ? " (ghost)" : ""),
    // A new personal best is starred (style.css: td.pb), its words in the title.
    el("td", Array.isArray(r.new_best) && r.new_best.length
      ? { className: "pb", title: "a new personal best" } : {}, left ? "–" : fmt1(r.wpm)),
    el("td", {}, left ? "–" : pct(r.accuracy)),
    el("td", { className: "opt" }, left ? "–" : secs(r.race_ms)),
    el("td", { className: "opt" }, r.status ?? ""),
    el("td", { className: "flag opt" }, r.flagged ? flagText(r.flagged) : ""),
    el("td", { className: "points" }, r.ghost ? "" : (r.points ?? "")),
    el("td", {}, r.ghost ? "" : replayButton(m.race_id, { slot: r.slot }))));
  }
  $("results-best").textContent = best;
  show($("results-best"), !!best);
  const text = state.race.text || {};
  const on = clear($("results-text"));
  if (text.text_id != null) on.append("Text: ", pageLink("text", text.text_id, text.title || `#${text.text_id}`));
  show($("results"), true);
  $("countdown").textContent = "Race over";
  const raced = !state.spectator && (m.ranking || []).some((r) => r.slot === state.slot && !r.ghost);
  if (raced) showAnalysis($("results-analysis"), m.race_id, state.slot, text.body);   // analysis.js
}

/** What the results say about our personal bests (the server's verdict, so every client
 * says the same): the margin over the text's previous best, and a new best overall. */
export function bestText(r) {
  const news = Array.isArray(r.new_best) ? r.new_best : [];
  if (!news.length) return "";
  const overall = news.includes("overall");
  const before = r.previous_best_wpm;
  if (news.includes("text") && typeof before === "number") {
    return `New personal best on this text: +${fmt1(r.wpm - before)} WPM (was ${fmt1(before)})` +
      (overall ? ", and your best on any text!" : ".");
  }
  if (news.includes("text")) {
    return overall ? "Your first finish on this text is your best on any text!"
      : "Your first clean finish on this text: a personal best to beat.";
  }
  return "Your best on any text!";
}

/** Back in our seat after a reconnect: the server's state supersedes unsent keys
 *  (heard() has dropped them: resend.js ends on `resume`). */
export function onResume(m) {
  if (!state.race || !state.race.text || !state.typing) return;
  state.slot = m.slot;
  state.typing.restore(m.pos, m.wrong);
  state.race.finished = m.status ? m.status === "finished" : state.typing.finished;
  renderTyping();
}

/** Keys the player typed: predicted at once, sent with the next batch. */
export function typeKeys(typed) {
  if (!canType() || !typed) return;
  const judged = asTyped(typed);     // as the server will judge them
  state.typing.feed(judged);
  keys.type(judged);
  renderTyping();
  if (state.typing.finished) flushKeys();
}

/** Send what is due: typed keys, and keys the server refused (`unavailable`) again, in
 *  order, then a ping that settles them (resend.js). */
function flushKeys() {
  if (!isOpen() || !state.welcomed) return;
  const due = keys.take(Date.now());
  for (const item of due) {
    if (item === PROBE) keys.probing(send("ping"));
    else keys.sending(send("input", { keys: item }), item);
  }
  if (due.length) lastSentAt = Date.now();
  tellHolding();
}

/** Every message, before the page's handlers: true when it was about our keys (a
 *  refused input, the pong of a probe), which the page does not show otherwise. */
export function heard(msg) {
  const ours = keys.heard(msg, Date.now());
  tellHolding();
  return ours;
}

let told = false;              // HOLDING is shown
function tellHolding() {
  const msg = $("race-msg");
  if (keys.lost) {
    msg.textContent = lostNotice(keys.lost);
    keys.lost = 0;
    told = false;
  } else if (keys.holding !== told) {
    told = keys.holding;
    if (told) msg.textContent = HOLDING;
    else if (msg.textContent === HOLDING) msg.textContent = "";   // (not a finish said since)
  }
}

/** The word being typed (from the last space or paragraph break before pos) plus wrong
 *  chars: the input's value. */
export function typedWord() {
  const { chars, pos } = state.typing;
  const start = Math.max(chars.lastIndexOf(" ", pos - 1), chars.lastIndexOf(BREAK, pos - 1)) + 1;
  return chars.slice(start, pos).join("") + state.typing.wrongText;
}

export function renderTyping() {
  const race = state.race, typing = state.typing;
  if (!race || !race.text || !$("passage").firstChild) return;
  if (state.spectator || !typing) {
    markPassage(0, 0, false);
    return;
  }
  const pos = typing.pos;
  markPassage(pos, typing.wrong.length, !typing.finished);     // done: no caret left blinking
  const input = $("typing-input");
  input.value = typedWord();
  input.classList.toggle("has-error", typing.wrong.length > 0);
  if (typing.finished) race.doneAt ??= serverNow();
  else race.doneAt = null;
  $("live-wpm").textContent = String(Math.round(liveWpm()));
  $("live-acc").textContent = typing.keystrokes ? pct(accuracy(typing.correctKeystrokes, typing.keystrokes)) : "–";
  if (state.slot != null) setLane(state.slot, pos, liveWpm(), null);
}

/** The local player's WPM with the shared formula, on the estimated server clock. */
function liveWpm() {
  const race = state.race;
  if (!state.typing || !race || race.start == null) return 0;
  return wpm(state.typing.pos, (race.doneAt ?? serverNow()) - race.start);
}

/** Countdown display and enabling the input, driven by the estimated server clock. */
function updateClock() {
  const race = state.race;
  if (!race || race.results || race.start == null) return;
  const left = race.start - serverNow();
  const input = $("typing-input");
  if (left > 0) {
    $("countdown").textContent = `Starts in ${Math.ceil(left / 1000)}`;
    input.disabled = true;
  } else {
    $("countdown").textContent = state.spectator ? "Racing" : race.finished ? "Finished" : "Go!";
    const enable = canType();
    if (enable && input.disabled) {
      input.disabled = false;
      input.placeholder = "";        // mid-race the box is empty after every word
      input.focus();
    }
    if (!enable) input.disabled = true;
    if (enable) {
      $("live-wpm").textContent = String(Math.round(liveWpm()));
      setLane(state.slot, state.typing.pos, liveWpm(), null);
    }
  }
}

export function init() {
  setInterval(flushKeys, SEND_BATCH_MS);   // keys typed go at most this long after
  setInterval(updateClock, CLOCK_MS);
  window.addEventListener("pagehide", flushKeys);   // a reload shouldn't drop the last keys
}
