// Who we are: the name view, the name and token this device remembers, hello and welcome.
// Ids: #name-view* #name-form #name-input* #hello-btn* #change-name-btn #me*
import { NAME_MAX } from "./protocol.js";
import { $, onSubmit, show } from "./dom.js";
import { connect, hasSocket, isOpen, keepConnected, reconnectNow, send, welcomed } from "./connection.js";
import { hideNotice, notice, setStatus } from "./notice.js";
import { expectReseat } from "./room.js";
import { runHashAction, setView } from "./router.js";
import { watchRoom } from "./lobby.js";
import { state } from "./state.js";

const LS_NAME = "typerace.name", LS_TOKEN = "typerace.token";

export function sendHello() {
  const hello = { name: localStorage.getItem(LS_NAME) || "" };
  const token = localStorage.getItem(LS_TOKEN);
  if (token) hello.token = token;
  send("hello", hello);
}

export function onWelcome(m) {
  const reconnect = !!state.me;
  state.me = { player_id: m.player_id, name: m.name };
  state.welcomed = true;
  welcomed();
  if (m.token) localStorage.setItem(LS_TOKEN, m.token);
  if (m.name) localStorage.setItem(LS_NAME, m.name);
  $("me").textContent = m.name || "";
  setStatus(`connected as ${m.name}`);
  if (state.view === "name") setView("home");
  else show($("change-name-btn"), state.view === "home");
  if (reconnect && state.room) {
    if (state.spectator && state.watchCode) watchRoom(state.watchCode);
    else if (!state.spectator) expectReseat();
  }
  runHashAction();
}

/** An error about saying hello; true when handled here. */
export function onHelloError(code, text, request) {
  if (code === "invalid_token" && request.type === "hello") {
    // A token from another server (or one that changed its secret): start afresh as a
    // new player under the same name rather than failing every hello.
    localStorage.removeItem(LS_TOKEN);
    sendHello();
    return true;
  }
  if (request.type === "hello" || code === "invalid_name") {
    state.welcomed = false;
    keepConnected(false);           // don't retry a refused name; the form reconnects
    setView("name");
    notice(text, code);
    return true;
  }
  return false;
}

export function init() {
  $("name-input").maxLength = NAME_MAX;
  onSubmit("name-form", () => {
    const name = $("name-input").value.trim();
    if (!name) return;
    hideNotice();
    const changed = name !== localStorage.getItem(LS_NAME);
    localStorage.setItem(LS_NAME, name);
    if (isOpen() && !state.welcomed) { keepConnected(true); sendHello(); }
    else if (changed || !hasSocket()) reconnectNow();
    else if (state.welcomed) setView("home");
  });
  $("change-name-btn").addEventListener("click", () => {
    $("name-input").value = (state.me && state.me.name) || "";
    setView("name");
    $("name-input").focus();
  });
}

/** A returning player goes straight in (and keeps its seat); a new one picks a name. */
export function start() {
  const savedName = localStorage.getItem(LS_NAME);
  $("name-input").value = savedName || "";
  setView("name");
  if (savedName) connect();
  else $("name-input").focus();
}
