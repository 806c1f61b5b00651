// Who we are: the name view (play as a guest under a name, or log in to an account), the
// name and token this device remembers, hello/login and welcome.
// Ids: #name-view* #name-form #name-input* #hello-btn* #change-name-btn #me*
//      #login-form* #login-name-input* #login-password-input* #login-btn* #login-msg*
import { NAME_MAX, PASSWORD_MAX } from "./protocol.js";
import { $, onSubmit, show } from "./dom.js";
import { connect, hasSocket, isOpen, keepConnected, reconnectNow, send, welcomed } from "./connection.js";
import { clearNotice, hideNotice, notice, say, setStatus } from "./notice.js";
import { showAccount } from "./account.js";
import { expectReseat } from "./room.js";
import { runHashAction, setView } from "./router.js";
import { watchRoom } from "./lobby.js";
import { state } from "./state.js";

const LS_NAME = "typerace.name", LS_TOKEN = "typerace.token";
let loginAsked = null;         // {name, password} until sent: the password is kept nowhere

/** The socket is open: log in if that was asked for, else say hello. */
export function sendHello() {
  if (loginAsked) {
    const { name, password } = loginAsked;
    loginAsked = null;
    send("login", { name, password });
    return;
  }
  const hello = { name: localStorage.getItem(LS_NAME) || "" };
  const token = localStorage.getItem(LS_TOKEN);
  if (token) hello.token = token;
  send("hello", hello);
}

export function rememberToken(token) {
  if (token) localStorage.setItem(LS_TOKEN, token);
}

export function rememberName(name) {
  if (name) localStorage.setItem(LS_NAME, name);
  $("me").textContent = name || "";
}

/** This device forgets who it was (logging out): the next player starts as a guest. */
export function forget() {
  localStorage.removeItem(LS_TOKEN);
  localStorage.removeItem(LS_NAME);
  state.me = null;
  state.welcomed = false;
  $("me").textContent = "";
  $("name-input").value = "";
  showAccount();
}

export function onWelcome(m) {
  const reconnect = !!state.me;
  state.me = { player_id: m.player_id, name: m.name, account: m.account || null };
  state.welcomed = true;
  welcomed();
  rememberToken(m.token);
  rememberName(m.name);
  $("login-password-input").value = "";
  say("login-msg", "");
  say("name-msg", "");
  clearNotice("offline");            // the connection is back: its notices go
  clearNotice("connect");
  showAccount();
  setStatus(`connected as ${m.name}`);
  if (state.view === "name") setView("home");
  else show($("change-name-btn"), state.view === "home" && !state.me.account);
  if (reconnect && state.room) {
    if (state.spectator && state.watchCode) watchRoom(state.watchCode);
    else if (!state.spectator) expectReseat();
  }
  runHashAction();
  // A returning guest whose name an account took since: said once (the new name is
  // remembered above, so the next visit asks for it and is not renamed again).
  if (m.renamed_from) say("home-msg", renamedWords(m.renamed_from, m.name));
}

function renamedWords(asked, given) {
  return `“${asked}” belongs to an account now, so you race as ${given}. ` +
    "If the account is yours, log in with its password.";
}

/** An error about saying who we are (hello or login); true when handled here. */
export function onHelloError(code, text, request) {
  if (code === "invalid_token" && request.type === "hello") {
    // A token from another server (or one that changed its secret, or revoked by a
    // password change): start afresh under the same name rather than failing every hello.
    localStorage.removeItem(LS_TOKEN);
    sendHello();
    return true;
  }
  if (request.type === "login") {
    if (code === "banned") { keepConnected(false); notice(text, code); }
    else say("login-msg", text, code);
    if (!state.welcomed) setView("name");
    return true;
  }
  if (request.type === "hello" || code === "invalid_name") {
    state.welcomed = false;
    keepConnected(false);           // don't retry a refused name; the form reconnects
    if (code === "name_taken") $("login-name-input").value = request.name || "";
    setView("name");
    if (code === "banned") notice(text, code);     // about the connection: nothing to fix here
    else say("name-msg", text, code);
    return true;
  }
  return false;
}

function logIn() {
  const name = $("login-name-input").value.trim();
  const password = $("login-password-input").value;
  if (!name || !password) return;
  hideNotice();
  say("login-msg", "logging in…");
  keepConnected(true);
  if (isOpen()) {                    // as the first message, or instead of the guest
    send("login", { name, password });
    return;
  }
  loginAsked = { name, password };
  if (hasSocket()) reconnectNow();
  else connect();
}

export function init() {
  $("name-input").maxLength = NAME_MAX;
  $("login-name-input").maxLength = NAME_MAX;
  $("login-password-input").maxLength = PASSWORD_MAX;
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
  onSubmit("login-form", logIn);
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
