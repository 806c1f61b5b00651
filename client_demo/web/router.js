// Which view is on screen (name, home, room), and invite links: #join=CODE and
// #watch=CODE in the address, acted on once the server said welcome.
import { $, show } from "./dom.js";
import { send } from "./connection.js";
import { refreshHome, watchRoom } from "./lobby.js";
import { state } from "./state.js";

const VIEWS = ["name", "home", "room"];
let hashAction = null;         // {kind: "join" | "watch", code}, until welcome

export function setView(view) {
  state.view = view;
  for (const v of VIEWS) show($(`${v}-view`), v === view);
  show($("change-name-btn"), view === "home" && state.welcomed && !(state.me && state.me.account));
  if (view === "home") refreshHome();
}

/** The address that seats (kind "join") or seats as a spectator ("watch") whoever opens it. */
export function inviteLink(kind, code) {
  return `${location.origin}/#${kind}=${encodeURIComponent(code)}`;
}

function readHash() {
  const match = /^#(join|watch)=(.+)$/.exec(location.hash);
  if (!match) return;
  let code;
  try { code = decodeURIComponent(match[2]); } catch { return; }
  hashAction = { kind: match[1], code };
  history.replaceState(null, "", location.pathname + location.search);
}

export function runHashAction() {
  const action = hashAction;
  if (!action || !state.welcomed) return;
  hashAction = null;
  if (action.kind === "join") send("join_room", { code: action.code });
  else watchRoom(action.code);
}

export function init() {
  readHash();
  window.addEventListener("hashchange", () => { readHash(); runHashAction(); });
}
