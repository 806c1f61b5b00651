// Which view is on screen, and the address. Views: name, home, room, and the pages
// text, player and replay. #join=CODE and #watch=CODE are invitations, acted on once the
// server said welcome and then cleared from the address; #text=ID, #player=ID and
// #replay=RACE_ID[&slot=N] are pages that stay in it (links, bookmarks, back and
// forward), opened once the server said welcome. A replay follows one racer's passage:
// &slot=N (a result row) or &player=ID (a board entry, which names no slot).
import { $, el, show } from "./dom.js";
import { send } from "./connection.js";
import { refreshHome, watchRoom } from "./lobby.js";
import { state } from "./state.js";

const VIEWS = ["name", "home", "room", "text", "player", "replay"];
const PAGE_HASH = /^#(text|player|replay)=([^&]+)(?:&(slot|player)=([^&]+))?$/;
const pages = {};              // kind -> open(id, follow): the page modules register
let hashAction = null;         // {kind: "join" | "watch", code}, until welcome
let page = null;               // {kind, id, follow}: the page the address names

export function setView(view) {
  if (state.view in pages && !(view in pages) && page) {
    // Leaving a page for home or a race: the address no longer names it. (A page named
    // by the address while the name view shows is still to be opened, after welcome.)
    page = null;
    history.replaceState(null, "", location.pathname + location.search);
  }
  state.view = view;
  for (const v of VIEWS) show($(`${v}-view`), v === view);
  show($("change-name-btn"), view === "home" && state.welcomed && !(state.me && state.me.account));
  if (view === "home") refreshHome();
}

/** A page module's way in: `open(id, follow)` asks for its data and shows the view;
 * `follow` is {slot} or {player} for a replay, else null. */
export function registerPage(kind, open) { pages[kind] = open; }

/** The address that seats (kind "join") or seats as a spectator ("watch") whoever opens it. */
export function inviteLink(kind, code) {
  return `${location.origin}/#${kind}=${encodeURIComponent(code)}`;
}

/** A link to a page: a text (#text=ID) or a player (#player=ID). */
export function pageLink(kind, id, label) {
  return el("a", { href: `#${kind}=${encodeURIComponent(String(id))}`, className: `${kind}-link` },
    label);
}

/** A button that plays a saved race back, following one racer: {slot} or {player}. */
export function replayButton(raceId, follow) {
  const [key, value] = Object.entries(follow)[0];
  const hash = `#replay=${encodeURIComponent(raceId)}&${key}=${encodeURIComponent(String(value))}`;
  return el("button", { type: "button", className: "replay-btn small",
    "aria-label": "Replay this race", onclick: () => { location.hash = hash; } }, "Replay");
}

/** Back from a page to where the player was: its room, or home. */
export function closePage() {
  setView(state.room ? "room" : "home");
}

function readHash() {
  const invite = /^#(join|watch)=(.+)$/.exec(location.hash);
  if (invite) {
    let code;
    try { code = decodeURIComponent(invite[2]); } catch { return; }
    hashAction = { kind: invite[1], code };
    state.inviteCode = code;          // the connection's URL names the room (connection.js)
    history.replaceState(null, "", location.pathname + location.search);
    return;
  }
  const match = PAGE_HASH.exec(location.hash);
  page = null;
  if (!match) return;
  try {
    const follow = match[3] == null ? null : { [match[3]]: decodeURIComponent(match[4]) };
    if (follow && follow.slot != null) follow.slot = Number(follow.slot);
    page = { kind: match[1], id: decodeURIComponent(match[2]), follow };
  } catch { page = null; }
}

export function runHashAction() {
  if (!state.welcomed) return;
  const action = hashAction;
  hashAction = null;
  if (action && action.kind === "join") send("join_room", { code: action.code });
  else if (action) watchRoom(action.code);
  if (page && pages[page.kind]) pages[page.kind](page.id, page.follow);
  else if (state.view in pages) closePage();       // the address went back to no page
}

export function init() {
  readHash();
  window.addEventListener("hashchange", () => { readHash(); runHashAction(); });
}
