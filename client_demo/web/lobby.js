// The home view's ways into a race: quick race, practice, join or watch by code, create a
// private room, and the list of public races to watch. Entering home refreshes every card.
// Ids: #home-view* #quick-race-btn* #practice-btn* #join-form #join-code-input #join-btn
//   #watch-form #watch-code-input #watch-btn #create-room-form #create-max-players
//   #create-countdown #create-text-id #create-room-btn* #refresh-races-btn
//   #races-list* (li.race[data-room-id] with button.watch-race-btn) #races-empty
//   #home-watch-btn* (offered when a join failed on a running or full room)
import { CODE_MAX, COUNTDOWN_MAX_S, COUNTDOWN_MIN_S, MAX_PLAYERS_MAX, MAX_PLAYERS_MIN } from "./protocol.js";
import { $, clear, el, intOrNull, onSubmit, plural, show } from "./dom.js";
import { send } from "./connection.js";
import { say } from "./notice.js";
import { requestTexts } from "./library.js";
import { state } from "./state.js";

const RACES_REFRESH_MS = 4000;
let racesTimer = null;

/** Watch a room by join code, watch code or public room id (and again after a reconnect). */
export function watchRoom(code) {
  state.watchCode = code;
  send("watch", { code });
}

export function refreshHome() {
  clearInterval(racesTimer);
  if (!state.welcomed) return;
  send("list_races");
  requestTexts();
  send("player_stats");
  send("leaderboard");
  racesTimer = setInterval(() => {
    if (state.view === "home" && state.welcomed && !document.hidden) send("list_races");
  }, RACES_REFRESH_MS);
}

export function onRaces(m) {
  const rooms = Array.isArray(m.rooms) ? m.rooms : [];
  const list = clear($("races-list"));
  for (const r of rooms) {
    const players = Array.isArray(r.players) ? r.players.length : (r.player_count ?? "?");
    const max = r.settings && r.settings.max_players;
    const title = (r.text && r.text.title) || "Public race";
    list.append(el("li", { className: "race", dataset: { roomId: String(r.room_id) } },
      el("span", { className: "grow" }, title, " · ",
        max ? `${players}/${max} players` : plural(players, "player"),
        " · ", String(r.state || "")),
      el("button", { type: "button", className: "watch-race-btn small",
        onclick: () => watchRoom(String(r.room_id)) }, "Watch")));
  }
  show($("races-empty"), rooms.length === 0);
}

/** A join failed on a running or full room: offer to watch it instead. */
export function offerWatch(code) {
  $("home-watch-btn").dataset.code = code;
  show($("home-watch-btn"), true);
}

/** Room settings inputs follow the server's limits (creating a room, configuring one). */
export function limitSettings(maxPlayersId, countdownId) {
  Object.assign($(maxPlayersId), { min: MAX_PLAYERS_MIN, max: MAX_PLAYERS_MAX });
  Object.assign($(countdownId), { min: COUNTDOWN_MIN_S, max: COUNTDOWN_MAX_S });
}

/** Seats and countdown as a room form asks for them; a blank field is left out. */
export function settingsFrom(maxPlayersId, countdownId) {
  const settings = { max_players: intOrNull(maxPlayersId), countdown_s: intOrNull(countdownId) };
  for (const key of Object.keys(settings)) if (settings[key] == null) delete settings[key];
  return settings;
}

export function init() {
  $("join-code-input").maxLength = CODE_MAX;
  $("watch-code-input").maxLength = CODE_MAX;
  limitSettings("create-max-players", "create-countdown");
  $("quick-race-btn").addEventListener("click", () => send("quick_race"));
  $("practice-btn").addEventListener("click", () => send("practice"));
  $("refresh-races-btn").addEventListener("click", () => send("list_races"));
  onSubmit("join-form", () => {
    const code = $("join-code-input").value.trim();
    if (code) send("join_room", { code });
  });
  onSubmit("watch-form", () => {
    const code = $("watch-code-input").value.trim();
    if (code) watchRoom(code);
  });
  onSubmit("create-room-form", () => {
    // A blank field leaves the setting to the server's default (text: a random one).
    const settings = settingsFrom("create-max-players", "create-countdown");
    const textId = intOrNull("create-text-id");
    if (textId) settings.text_id = textId;
    send("create_room", { settings });
  });
  $("home-watch-btn").addEventListener("click", () => {
    const code = $("home-watch-btn").dataset.code;
    say("home-msg", "");
    show($("home-watch-btn"), false);
    if (code) watchRoom(code);
  });
}
