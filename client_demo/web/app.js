// Typerace web client: ES modules, no framework, no build step, no external resources.
// Speaks the wire protocol (protocol/REFERENCE.md) over WebSocket with the JSON codec.
// SECURITY: every server-provided string (names, titles, passages) goes through
// textContent / createTextNode / input.value. innerHTML is never used.
//
// This module wires the others and routes each server message to the views it concerns:
//   protocol.js  constants served by the server (limits, close codes, the typing rules)
//   connection   WebSocket, JSON codec, request ids, reconnection    clock  server time
//   state        what the views share                               dom    DOM helpers
//   identity     name view, saved name and token, hello/login/welcome   notice status, banner
//   account      sign up, change password, log out, the account at the top
//   router       which view shows, invite links                     lobby  home: find a race
//   room         the room and its host controls                     race   the race view
//   keyboard     keys into the race                                 typing the typing model
//   library      texts: list, practice, submit                      stats  statistics, leaderboard
//   textpage     a text's page (#text=ID)                           playerpage  a player's (#player=ID)
//   loop         the end of a race: race again, keys (Enter, Tab+Enter, Esc)   theme  light/dark
//   replay       a saved race played back (#replay=RACE_ID)         lanes  racers' lanes (race, replay)
//   passage      a passage with the caret (race, replay)
//   chart        the WPM chart                                      scoring  wpm, accuracy, points
//   today        the text of the day and the points boards
//   resend       typed keys kept until taken; refused ones sent again (race.js uses it)
// The pages ask for their own data: their replies go to them (connection.send's onReply).
// Each module lists the element ids it owns (data-testid mirrors the id where marked *).
import * as account from "./account.js";
import * as connection from "./connection.js";
import * as identity from "./identity.js";
import * as keyboard from "./keyboard.js";
import * as library from "./library.js";
import * as lobby from "./lobby.js";
import * as loop from "./loop.js";
import * as notice from "./notice.js";
import * as playerpage from "./playerpage.js";
import * as race from "./race.js";
import * as replay from "./replay.js";
import * as room from "./room.js";
import * as router from "./router.js";
import * as stats from "./stats.js";
import * as textpage from "./textpage.js";
import * as theme from "./theme.js";
import * as today from "./today.js";
import { state } from "./state.js";

const handlers = {
  welcome(m) {
    identity.onWelcome(m);
    today.refresh();
  },
  account: account.onAccount,
  joined: room.onJoined,
  watching: room.onWatching,
  room: room.onRoom,
  left: room.onLeft,
  kicked: room.onKicked,
  countdown: race.onCountdown,
  tick: race.onTick,
  finish: race.onFinish,
  results(m) {
    race.onResults(m);
    if (state.room) room.updateRoom(state.room);
    loop.onResults();                                // into view, the primary action focused
    today.refresh();                                  // the day's board and points moved
  },
  resume: race.onResume,
  races: lobby.onRaces,
  texts: library.onTexts,
  text_created: library.onTextCreated,
  stats: stats.onStats,
  leaderboard: stats.onLeaderboard,
  daily: today.onDaily,
  points_board: today.onPointsBoard,
  error: onError,
};

function onError(m, request) {
  const code = String(m.code || "error");
  const text = String(m.message || code);
  const req = request || {};
  if (identity.onHelloError(code, text, req)) return;
  if (account.onAccountError(code, text, req)) return;
  if (req.type === "submit_text" || code === "text_invalid") {
    library.showSubmitMessage(text, code);
    return;
  }
  if (code === "not_racing" && req.type === "input") return;    // race just ended: harmless
  if (req.type === "watch" && state.spectator && code === "room_not_found") room.leaveLocally();
  // Said beside what the player is looking at: the home's race card, the room, a page.
  const where = { room: "room-msg", text: "text-msg", player: "player-msg", name: "name-msg",
    replay: "replay-info" }[state.view] || "home-msg";
  notice.say(where, text, code);
  const joinCode = req.type === "join_room" ? req.code : null;
  if (joinCode && (code === "race_in_progress" || code === "room_full")) lobby.offerWatch(joinCode);
}

connection.init({
  onOpen: identity.sendHello,
  onMessage(msg, request) {
    if (race.heard(msg)) return;       // a refused input or the probe after keys sent again
    const handler = handlers[msg.type];
    if (handler) handler(msg, request);
  },
});
for (const module of [theme, notice, identity, account, lobby, library, stats, room, race, keyboard,
  loop, textpage, playerpage, replay, today, router]) {
  module.init();
}
identity.start();
