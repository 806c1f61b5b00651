// The room we sit in or watch: its state, codes and invite links, the players, and the
// host's controls (start, configure, kick, rematch). Seating and leaving go through here.
// Ids: #room-view* #watching-banner* #room-title #room-state* #room-hint #room-settings
//   #leave-btn* #private-info #room-code* #watch-code* #invite-links (hidden while racing)
//   #join-link #watch-link #copy-join-btn #copy-watch-btn
//   #players-list* (li.player[data-slot][data-connected], .host-marker, .you-marker,
//   .ghost-marker, .offline, button.kick-btn) #players-heading #spectators-note
//   #spectators-count* #host-controls #start-btn* #room-msg*
// A solo room (practice, a ghost race) looks solo: no codes, links, seats or host badge.
// The invite links show only while a private room waits: never above a race or results.
//   #configure-form #cfg-max-players #cfg-countdown #cfg-text-id #configure-btn
import { $, clear, el, intOrNull, onSubmit, plural, show } from "./dom.js";
import { isOpen, send } from "./connection.js";
import { limitSettings, settingsFrom } from "./lobby.js";
import { clearNotice, notice, say } from "./notice.js";
import { resetRace, syncLanes } from "./race.js";
import { inviteLink, setView } from "./router.js";
import { isHost, raceBelongsTo, state } from "./state.js";

const RESEAT_WAIT_MS = 2500;   // after a reconnect, how long the server has to seat us again
const COPIED_MS = 1500;
const TITLES = { quick: "Quick race", practice: "Practice", private: "Private room" };
let reseatTimer = null;

export function leaveLocally() {
  clearTimeout(reseatTimer);
  state.room = null; state.slot = null; state.spectator = false; state.watchCode = null;
  resetRace();
  if (state.view === "room") setView(state.welcomed ? "home" : "name");
}

/** Reconnected while seated: the server re-seats a returning racer with `joined`; if it
 * doesn't, the seat is gone. */
export function expectReseat() {
  clearTimeout(reseatTimer);
  reseatTimer = setTimeout(() => {
    leaveLocally();
    notice("Your seat was released while you were away.", "seat_lost");
  }, RESEAT_WAIT_MS);
}

export function onJoined(m, request) {
  clearTimeout(reseatTimer);
  if (request && request.type !== "hello" && request.type !== "login") state.seatedBy = request;
  clearNotice("seat_lost");
  state.slot = m.slot;
  state.spectator = false;
  state.watchCode = null;
  enter(m.room);
}

export function onWatching(m) {
  state.slot = null;
  state.spectator = true;
  enter(m.room);
}

function enter(room) {
  if (!raceBelongsTo(room)) resetRace();
  updateRoom(room);
  setView("room");
}

export function onRoom(m) {
  if (state.room && m.room && m.room.room_id === state.room.room_id) updateRoom(m.room);
}

export function onLeft(m, request) {
  leaveLocally();
  if (m.reason && !(request && request.type === "leave")) say("home-msg", `The room closed (${m.reason}).`);
}

export function onKicked() {
  leaveLocally();
  say("home-msg", "The host removed you from the room.");
}

export function updateRoom(room) {
  if (!room) return;
  state.room = room;
  const kind = room.kind || (room.public ? "quick" : "private");
  $("room-title").textContent = TITLES[kind] || "Room";
  $("room-state").textContent = room.state;
  show($("watching-banner"), state.spectator);
  const settings = room.settings || {};
  const textTitle = room.text && room.text.title;
  const solo = kind === "practice";
  $("room-settings").textContent = solo ? "" : [`up to ${plural(settings.max_players, "player")}`,
    `${settings.countdown_s} s countdown`, textTitle ? `text: ${textTitle}` : "random text"].join(" · ");
  show($("room-settings"), !solo);
  show($("spectators-note"), !solo);
  // A practice race's one player needs no list; a ghost race lists the ghost.
  show($("players-heading"), !solo || (room.players || []).length > 1);
  show($("players-list"), !solo || (room.players || []).length > 1);
  let hint = "";
  if (room.state === "waiting") {
    if (room.public) hint = "Waiting for opponents; the race starts soon.";
    else hint = isHost() ? "Share the invite link, then press Start." : "Waiting for the host to start.";
  }
  $("room-hint").textContent = hint;

  const hasCode = !!room.code && kind === "private";
  show($("private-info"), hasCode && !state.spectator && room.state === "waiting");
  if (hasCode) {
    $("room-code").textContent = room.code;
    $("watch-code").textContent = room.watch_code || "";
    $("join-link").value = inviteLink("join", room.code);
    $("watch-link").value = inviteLink("watch", room.watch_code || "");
  }
  $("spectators-count").textContent = String(room.spectators ?? 0);
  renderPlayers(room, kind);
  syncLanes(room);
  renderHostControls(room, settings);
  if (room.state === "waiting" && state.race && state.race.results) resetRace();
}

function renderPlayers(room, kind) {
  const list = clear($("players-list"));
  for (const p of room.players || []) {
    const li = el("li", { className: "player" + (p.connected ? "" : " offline"),
      dataset: { slot: String(p.slot), connected: String(!!p.connected) } },
    el("span", { className: "grow" }, p.name,
      kind === "private" && room.host === p.slot ? el("span", { className: "host-marker", title: "host" }, " ★ host") : null,
      !state.spectator && p.slot === state.slot ? el("span", { className: "you-marker" }, " (you)") : null,
      p.ghost ? el("span", { className: "ghost-marker", title: "a saved race typed again" }, " (ghost)") : null,
      p.connected ? null : el("span", { className: "hint" }, " — disconnected")));
    if (isHost() && p.slot !== state.slot && !p.ghost) {
      li.append(el("button", { type: "button", className: "kick-btn small",
        "aria-label": `Kick ${p.name}`, onclick: () => send("kick", { slot: p.slot }) }, "Kick"));
    }
    list.append(li);
  }
}

function renderHostControls(room, settings) {
  // A private room's host starts and configures it (the rematch is the results' action).
  const host = isHost() && (room.kind || (room.public ? "quick" : "private")) === "private";
  show($("host-controls"), host && room.state === "waiting");
  show($("start-btn"), host && room.state === "waiting");
  show($("configure-form"), host && room.state === "waiting");
  if (host && room.state === "waiting" && !$("configure-form").contains(document.activeElement)) {
    $("cfg-max-players").value = settings.max_players ?? "";
    $("cfg-countdown").value = settings.countdown_s ?? "";
    $("cfg-text-id").value = settings.text_id ?? "";
  }
}

export function init() {
  limitSettings("cfg-max-players", "cfg-countdown");
  $("start-btn").addEventListener("click", () => send("start"));
  $("leave-btn").addEventListener("click", () => {
    if (isOpen()) send("leave");
    else leaveLocally();
  });
  onSubmit("configure-form", () => {
    // A blank text id asks for a random text again.
    const settings = { ...settingsFrom("cfg-max-players", "cfg-countdown"),
      text_id: intOrNull("cfg-text-id") };
    send("configure", { settings });
  });
  for (const which of ["join", "watch"]) {
    const button = $(`copy-${which}-btn`);
    button.addEventListener("click", async () => {
      const input = $(`${which}-link`);
      try { await navigator.clipboard.writeText(input.value); }
      catch { input.select(); document.execCommand("copy"); }
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, COPIED_MS);
    });
  }
}
