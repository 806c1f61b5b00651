// Which view is on screen, and the address. Views: name, home, room, and the pages
// text, player and replay. #join=CODE and #watch=CODE are invitations, acted on once the
// server said welcome and then cleared from the address; #text=ID, #player=ID and
// #replay=RACE_ID[&slot=N] are pages that stay in it (links, bookmarks, back and
// forward), opened once the server said welcome. A replay follows one racer's passage:
// &slot=N (a result row) or &player=ID (a board entry, which names no slot).
// Home is in sections (#race, #today, #texts, #stats, #leaderboards, #account): the nav's links,
// each in the address, so back and forward move between them; home shows one at a time.
// Ids: #home-nav* (a[data-section], aria-current on the one shown) #home-link
//   #home-view .card[data-section]
import { $, el, show } from "./dom.js";
import { send } from "./connection.js";
import { refreshHome, watchRoom } from "./lobby.js";
import { clearMessages } from "./notice.js";
import { state } from "./state.js";

export const SECTIONS = ["race", "today", "texts", "stats", "leaderboards", "account"];
const SECTION_HASH = new RegExp(`^#(${SECTIONS.join("|")})$`);
let section = "race";          // the home section shown

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
    history.replaceState(null, "", location.pathname + location.search +
      (view === "home" ? `#${section}` : ""));
  }
  if (view !== state.view) clearMessages();
  state.view = view;
  for (const v of VIEWS) show($(`${v}-view`), v === view);
  showSection();
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

/** Home's sections: the one named shows, the nav marks it. */
function showSection() {
  const home = state.view === "home";
  show($("home-nav"), home || (state.view in pages && state.welcomed));
  for (const card of document.querySelectorAll("#home-view .card[data-section]")) {
    show(card, card.dataset.section === section);
  }
  for (const link of $("home-nav").querySelectorAll("a[data-section]")) {
    if (home && link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function readHash() {
  const named = SECTION_HASH.exec(location.hash);
  if (named) {
    if (named[1] !== section) clearMessages();
    section = named[1];
    page = null;
    return;
  }
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
  else if (SECTION_HASH.test(location.hash) && state.view !== "room") setView("home");
  else if (state.view in pages) closePage();       // the address went back to no page
  else showSection();
}

export function init() {
  readHash();
  window.addEventListener("hashchange", () => { readHash(); runHashAction(); });
}
