// The connection to the server: one WebSocket with the JSON codec, request ids echoed in
// replies, a keepalive ping, and reconnection with backoff. Messages go to one handler
// (app.js) together with the request they answer, if any.
import { CLOSE_REPLACED, JSON_SUBPROTOCOL } from "./protocol.js";
import { SYNC_PINGS, clockSample, pingSample } from "./clock.js";
import { notice, setStatus } from "./notice.js";
import { state } from "./state.js";

const PING_MS = 20000;
const PENDING_MAX = 100;       // requests remembered for their replies (the oldest go first)
const BACKOFF_MAX_MS = 5000;

let ws = null;
let wanted = false;            // reconnect when the connection drops
let backoff = 0, retryTimer = null, nextId = 1;
const pending = new Map();     // request id -> {type, ...fields}
const callbacks = new Map();   // request id -> the function its reply goes to instead
let hooks = { onOpen() {}, onMessage() {} };

/** onOpen(): the socket is open (say hello); onMessage(msg, request): every message. */
export function init(handlers) {
  hooks = handlers;
  setInterval(() => { if (state.welcomed) syncClock(1); }, PING_MS);
}

/** `count` pings one after another, each timed for the clock estimate (clock.js). */
function syncClock(count) {
  const sent = Date.now();
  send("ping", {}, (msg) => {
    if (msg.type === "pong") pingSample(sent, msg.server_ms, Date.now());
    if (count > 1 && isOpen()) syncClock(count - 1);
  });
}

/** The WebSocket URL; the code of the room we are going to (an invite or spectator
 *  link) or are in rides in it (?room=CODE) so that a load balancer sends us to the
 *  process that owns the room (deploy/haproxy.cfg). The server ignores it. */
function wsUrl() {
  const override = new URLSearchParams(location.search).get("server");
  const base = override || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  const room = state.inviteCode || (state.room && state.room.code) || state.watchCode;
  if (!room) return base;
  const url = new URL(base, location.href);
  url.searchParams.set("room", room);
  return url.href;
}

export function connect() {
  clearTimeout(retryTimer);
  wanted = true;
  if (ws && ws.readyState <= WebSocket.OPEN) return;
  setStatus("connecting…");
  let socket;
  try {
    socket = new WebSocket(wsUrl(), [JSON_SUBPROTOCOL]);
  } catch (err) {
    setStatus("bad server address");
    notice(`Cannot connect: ${err.message}`, "connect");
    return;
  }
  ws = socket;
  state.welcomed = false;
  socket.onopen = () => { setStatus("connected, saying hello…"); hooks.onOpen(); };
  socket.onmessage = (ev) => {
    if (typeof ev.data !== "string") return;
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (msg && typeof msg.type === "string") receive(msg);
  };
  socket.onclose = (ev) => {
    if (ws !== socket) return;
    ws = null;
    state.welcomed = false;
    if (ev.code === CLOSE_REPLACED) {
      // Replaced: the same player (same token) connected from another tab or device.
      // Reconnecting on our own would take the seat back and start a tug of war.
      setStatus("playing in another tab or window");
      notice("Typerace was opened in another tab or window. Reload this page to play here.",
        "replaced");
      return;
    }
    if (!wanted) { setStatus("offline"); return; }
    const delay = Math.min(BACKOFF_MAX_MS, 500 * 2 ** backoff++);
    setStatus(`disconnected (${ev.code}); reconnecting in ${(delay / 1000).toFixed(1)} s…`);
    retryTimer = setTimeout(connect, delay);
  };
}

function receive(msg) {
  clockSample(msg.server_ms);
  const request = typeof msg.id === "number" ? pending.get(msg.id) : undefined;
  const callback = typeof msg.id === "number" ? callbacks.get(msg.id) : undefined;
  if (typeof msg.id === "number") { pending.delete(msg.id); callbacks.delete(msg.id); }
  if (callback) callback(msg, request);
  else hooks.onMessage(msg, request);
}

function closeQuietly() {
  if (ws) { const old = ws; ws = null; old.onclose = null; old.close(1000); }
  state.welcomed = false;
}

/** Drop the current connection (if any) and connect afresh, without waiting. */
export function reconnectNow() {
  backoff = 0;
  closeQuietly();
  connect();
}

/** Close the connection and stay offline (logging out). */
export function disconnect() {
  wanted = false;
  clearTimeout(retryTimer);
  closeQuietly();
  setStatus("offline");
}

export function hasSocket() { return !!ws; }
export function isOpen() { return !!ws && ws.readyState === WebSocket.OPEN; }

/** The server welcomed us: the next drop starts the backoff from the beginning. */
export function welcomed() { backoff = 0; syncClock(SYNC_PINGS); }

/** Whether a dropped connection is retried (not after the server refused our name). */
export function keepConnected(yes) { wanted = yes; }

/** Send a request with a fresh id; the reply comes back with it. Null when offline.
 * With `onReply`, the reply (or the error it caused) goes to onReply(msg, request) alone
 * instead of the page's handler for its type: a view asking for its own data. */
export function send(type, fields = {}, onReply = null) {
  if (!isOpen()) {
    notice("Not connected to the server; retrying…", "offline");
    return null;
  }
  const id = nextId++;
  const remembered = { type, ...fields };
  delete remembered.password;          // the reply needs the request, never its password
  delete remembered.new_password;
  pending.set(id, remembered);
  if (onReply) callbacks.set(id, onReply);
  if (pending.size > PENDING_MAX) {
    const oldest = pending.keys().next().value;
    pending.delete(oldest);
    callbacks.delete(oldest);
  }
  ws.send(JSON.stringify({ type, id, ...fields }));
  return id;
}
