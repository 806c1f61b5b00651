// The player's loop: the end of a race brings the results into view with one focused
// primary action, and the keys race again at once.
//   quick race  "Race again": a new quick race
//   practice    "Next text": a new random text; "Again": the same text (and ghost)
//   private     the host's "Rematch"; a guest sees what the room waits for
// Keys: Enter (after the results, when no field has the focus) does the primary action;
// Tab then Enter (at any time in a room, as on Monkeytype) does it too, mid-race as
// well for a quick race or practice; Esc leaves the room.
// Ids: #results-actions* #again-btn* #same-text-btn* #results-wait* #results-leave-btn*
//   #results-heading #keys-hint-action
import { $, show } from "./dom.js";
import { isOpen, send } from "./connection.js";
import { leaveLocally } from "./room.js";
import { isHost, state } from "./state.js";

const TAB_ENTER_MS = 1000;     // Enter this soon after Tab restarts
let tabAt = -Infinity;

function kind() {
  const room = state.room;
  return room ? room.kind || (room.public ? "quick" : "private") : null;
}

/** The primary action after this race, or null (a guest, a spectator). */
function primary() {
  if (state.spectator || !state.room) return null;
  const finished = !!(state.race && state.race.results);
  switch (kind()) {
    case "quick": return { label: "Race again", hint: "race again", run: () => send("quick_race") };
    case "practice": return { label: "Next text", hint: "next text", run: () => send("practice") };
    case "private":
      return isHost() && finished ? { label: "Rematch", hint: "rematch", run: () => send("rematch") } : null;
    default: return null;
  }
}

/** The same practice again: the request that seated us (same text, same ghost). */
function again() {
  const by = state.seatedBy;
  if (by && by.type === "practice") {
    const { type, ...args } = by;
    send(type, { ...args, text_id: (state.race && state.race.text && state.race.text.text_id) ?? args.text_id });
  } else if (state.race && state.race.text && state.race.text.text_id != null) {
    send("practice", { text_id: state.race.text.text_id });
  }
}

/** The results are in: show the actions, bring them into view, focus the primary one. */
export function onResults() {
  const action = primary();
  const button = $("again-btn");
  show(button, !!action);
  if (action) button.textContent = action.label;
  show($("same-text-btn"), !state.spectator && kind() === "practice");
  const waiting = !action && !state.spectator && kind() === "private";
  $("results-wait").textContent = waiting ? "Waiting for the host to start a rematch." : "";
  show($("results-wait"), waiting);
  $("keys-hint-action").textContent = action ? action.hint : "";
  show($("keys-hint-action").parentElement, !state.spectator);
  $("results").scrollIntoView({ block: "start" });
  if (action) button.focus({ preventScroll: true });
  else $("results-heading").focus({ preventScroll: true });
}

function leave() {
  if (isOpen()) send("leave");
  else leaveLocally();
}

function onKeydown(e) {
  if (state.view !== "room" || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "Tab") { tabAt = e.timeStamp; return; }
  const finished = !!(state.race && state.race.results);
  if (e.key === "Escape") {
    // (Esc in a settings field belongs to the field, not to leaving the room.)
    if (e.target instanceof HTMLElement && e.target.matches("input, textarea, select") &&
      e.target !== $("typing-input")) return;
    e.preventDefault();
    leave();
    return;
  }
  if (e.key !== "Enter" || e.isComposing) return;
  const action = primary();
  if (!action) return;
  const tabbed = e.timeStamp - tabAt < TAB_ENTER_MS;
  const restartable = kind() === "quick" || kind() === "practice";
  // Enter on a button or link presses it; in a field it belongs to the field.
  const inField = e.target instanceof HTMLElement &&
    (e.target.matches("input, textarea, select") || e.target.matches("button, a[href]"));
  if ((tabbed && (finished || restartable)) || (finished && (!inField || e.target === $("again-btn")))) {
    e.preventDefault();
    e.stopPropagation();
    tabAt = -Infinity;
    action.run();
  }
}

export function init() {
  $("again-btn").addEventListener("click", () => { const action = primary(); if (action) action.run(); });
  $("same-text-btn").addEventListener("click", again);
  $("results-leave-btn").addEventListener("click", leave);
  document.addEventListener("keydown", onKeydown, true);    // before the typing box sees it
}
