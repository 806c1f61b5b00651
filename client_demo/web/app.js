// Typerace web client: one ES module, no framework, no build step, no external resources.
// Speaks PROTOCOL.md over WebSocket with the JSON codec ("typerace.v1.json").
// SECURITY: every server-provided string (names, titles, passages) goes through
// textContent / createTextNode / input.value. innerHTML is never used.
//
// Stable ids for browser tests (data-testid mirrors the id where marked *):
//   #status*            connection status text          #me*  current name
//   #error-banner*      notice (data-code = error code), #error-message, #error-dismiss-btn,
//                       #error-watch-btn (offered on race_in_progress / room_full)
//   #name-view* #name-form #name-input* #hello-btn*  #change-name-btn
//   #home-view*: #quick-race-btn* #practice-btn* (random text)
//     #join-form #join-code-input #join-btn   #watch-form #watch-code-input #watch-btn
//     #create-room-form #create-max-players #create-countdown #create-text-id #create-room-btn*
//     #races-list* (li.race[data-room-id] with button.watch-race-btn) #races-empty #refresh-races-btn
//     #texts-list* (li.text[data-text-id] with button.practice-text-btn, button.leaderboard-text-btn)
//     #texts-mine #texts-prev #texts-next #texts-page
//     #submit-text-form* #text-title-input #text-body-input #text-source-input #submit-text-btn
//     #submit-text-msg (shows text_created / text_invalid)
//     #stats-view* #stats-btn #stats-summary #wpm-chart* (svg; circle.point per race) #recent-table
//     #leaderboard-view* #leaderboard-btn #leaderboard-title #leaderboard-table
//   #room-view*: #watching-banner* #room-title #room-state* #room-hint #room-settings #leave-btn*
//     #private-info #room-code* #watch-code* #invite-links (hidden while racing) #join-link
//     #watch-link #copy-join-btn #copy-watch-btn
//     #players-list* (li.player[data-slot], .host-marker, .you-marker, .offline, button.kick-btn)
//     #spectators-count*  #host-controls #start-btn* #rematch-btn* #configure-form
//     #cfg-max-players #cfg-countdown #cfg-text-id #configure-btn
//   #race-area #race-title #countdown* #live-wpm* #passage* (span.done, span.wrong, span.caret,
//     span.rest) #typing-input* #race-msg
//     #lanes* (.lane[data-slot][data-place], .lane-name, .lane-bar, .lane-wpm, .lane-place)
//   #results* #results-table* (tbody tr[data-slot]: place, name, wpm, accuracy %, time s, status, flag)
import { wpm as calcWpm, accuracy as calcAccuracy } from "./scoring.js";

const $ = (id) => document.getElementById(id);
const BACKSPACE = "\b";
const MAX_WRONG = 8;          // as the server's typing model
const KEYS_MAX = 512;         // characters in one `input`
const FLUSH_MS = 100;
const LS_NAME = "typerace.name", LS_TOKEN = "typerace.token";

// ---------------------------------------------------------------- state
const S = {
  ws: null, welcomed: false, wanted: false, backoff: 0, retryTimer: null, nextId: 1,
  pending: new Map(),          // request id -> {type, code?}
  me: null,                    // welcome: {player_id, name}
  view: "name",
  room: null, slot: null, spectator: false, watchCode: null, reseatTimer: null,
  race: null,                  // {race_id, roomId, text, start, results, finished}
  typing: null,                // local prediction: {pos, wrong: [], keys, correct, doneAt}
  outbox: "", lastSentAt: 0,
  offsets: [],                 // samples of server clock - local clock (ms)
  textsOffset: 0, textsTotal: 0, hashAction: null, lbTitle: null,
};

function serverNow() {
  return Date.now() + (S.offsets.length ? Math.max(...S.offsets) : 0);
}
// A server stamp is never later than the true server time at receipt, so the max of recent
// samples is the best (latency-free) estimate of the offset.
function clockSample(serverMs) {
  if (typeof serverMs !== "number" || !isFinite(serverMs)) return;
  S.offsets.push(serverMs - Date.now());
  if (S.offsets.length > 50) S.offsets.shift();
}

// ---------------------------------------------------------------- DOM helpers
/** el("li", {className: "x", dataset: {slot: 1}}, "text", child): never parses HTML. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "onclick") node.addEventListener("click", value);
    else if (key === "role" || key.startsWith("aria-")) node.setAttribute(key, String(value));
    else node[key] = value;
  }
  for (const child of children) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text != null) node.textContent = String(text);
  return node;
}
function clear(node) { node.replaceChildren(); return node; }
function show(node, visible) { node.hidden = !visible; }
const fmt1 = (n) => (typeof n === "number" ? n.toFixed(1) : "–");
const pct = (a) => (typeof a === "number" ? (a * 100).toFixed(1) + "%" : "–");
const secs = (ms) => (typeof ms === "number" ? (ms / 1000).toFixed(2) : "–");
const when = (ms) => (typeof ms === "number" ? new Date(ms).toLocaleString() : "");

function setView(view) {
  S.view = view;
  for (const v of ["name", "home", "room"]) show($(`${v}-view`), v === view);
  show($("change-name-btn"), view === "home" && S.welcomed);
  if (view === "home") refreshHome();
}

function setStatus(text) { $("status").textContent = text; }

function notice(message, code = "", watchCode = null) {
  const banner = $("error-banner");
  $("error-message").textContent = message;
  banner.dataset.code = code;
  $("error-watch-btn").dataset.code = watchCode || "";
  show($("error-watch-btn"), !!watchCode);
  show(banner, true);
}
function hideNotice() { show($("error-banner"), false); }

// ---------------------------------------------------------------- connection
function wsUrl() {
  const override = new URLSearchParams(location.search).get("server");
  if (override) return override;
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

function connect() {
  clearTimeout(S.retryTimer);
  S.wanted = true;
  if (S.ws && S.ws.readyState <= WebSocket.OPEN) return;
  setStatus("connecting…");
  let ws;
  try {
    ws = new WebSocket(wsUrl(), ["typerace.v1.json"]);
  } catch (err) {
    setStatus("bad server address");
    notice(`Cannot connect: ${err.message}`, "connect");
    return;
  }
  S.ws = ws;
  S.welcomed = false;
  ws.onopen = () => { setStatus("connected, saying hello…"); sendHello(); };
  ws.onmessage = (ev) => {
    if (typeof ev.data !== "string") return;
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (msg && typeof msg.type === "string") handle(msg);
  };
  ws.onclose = (ev) => {
    if (S.ws !== ws) return;
    S.ws = null;
    S.welcomed = false;
    if (ev.code === 4000) {
      // Replaced: the same player (same token) connected from another tab or device.
      // Reconnecting on our own would take the seat back and start a tug of war.
      setStatus("playing in another tab or window");
      notice("Typerace was opened in another tab or window. Reload this page to play here.",
        "replaced");
      return;
    }
    if (!S.wanted) { setStatus("offline"); return; }
    const delay = Math.min(5000, 500 * 2 ** S.backoff++);
    setStatus(`disconnected (${ev.code}); reconnecting in ${(delay / 1000).toFixed(1)} s…`);
    S.retryTimer = setTimeout(connect, delay);
  };
}

function reconnectNow() {
  S.backoff = 0;
  if (S.ws) { const old = S.ws; S.ws = null; old.onclose = null; old.close(1000); }
  connect();
}

function send(type, fields = {}) {
  if (!S.ws || S.ws.readyState !== WebSocket.OPEN) {
    notice("Not connected to the server; retrying…", "offline");
    return null;
  }
  const id = S.nextId++;
  S.pending.set(id, { type, ...fields });
  if (S.pending.size > 100) S.pending.delete(S.pending.keys().next().value);
  S.ws.send(JSON.stringify({ type, id, ...fields }));
  return id;
}

function sendHello() {
  const name = localStorage.getItem(LS_NAME) || "";
  const token = localStorage.getItem(LS_TOKEN);
  const hello = { name };
  if (token) hello.token = token;
  send("hello", hello);
}

setInterval(() => { if (S.welcomed) send("ping"); }, 20000);

// ---------------------------------------------------------------- message dispatch
const handlers = {
  welcome(m) {
    const reconnect = !!S.me;
    S.me = { player_id: m.player_id, name: m.name };
    S.welcomed = true;
    S.backoff = 0;
    if (m.token) localStorage.setItem(LS_TOKEN, m.token);
    if (m.name) localStorage.setItem(LS_NAME, m.name);
    $("me").textContent = m.name || "";
    setStatus(`connected as ${m.name}`);
    if (S.view === "name") setView("home");
    else show($("change-name-btn"), S.view === "home");
    if (reconnect && S.room) {
      if (S.spectator && S.watchCode) send("watch", { code: S.watchCode });
      else if (!S.spectator) {
        // The server re-seats a returning racer with `joined`; if it doesn't, the seat is gone.
        clearTimeout(S.reseatTimer);
        S.reseatTimer = setTimeout(() => {
          leaveLocally();
          notice("Your seat was released while you were away.", "seat_lost");
        }, 2500);
      }
    }
    runHashAction();
  },
  joined(m) {
    clearTimeout(S.reseatTimer);
    S.slot = m.slot;
    S.spectator = false;
    S.watchCode = null;
    if (!raceBelongsTo(m.room)) resetRace();
    updateRoom(m.room);
    setView("room");
  },
  watching(m) {
    S.slot = null;
    S.spectator = true;
    if (!raceBelongsTo(m.room)) resetRace();
    updateRoom(m.room);
    setView("room");
  },
  room(m) { if (S.room && m.room && m.room.room_id === S.room.room_id) updateRoom(m.room); },
  left(m, request) {
    leaveLocally();
    if (m.reason && !(request && request.type === "leave")) notice(`The room closed (${m.reason}).`, "left");
  },
  kicked() { leaveLocally(); notice("The host removed you from the room.", "kicked"); },
  countdown: onCountdown,
  tick: onTick,
  finish: onFinish,
  results: onResults,
  resume(m) {
    if (!S.race || !S.race.text) return;
    S.slot = m.slot;
    S.outbox = "";                           // the server's state supersedes unsent keys
    const body = S.race.chars;
    S.typing.pos = Math.max(0, Math.min(body.length, m.pos | 0));
    S.typing.wrong = Array.from(typeof m.wrong === "string" ? m.wrong : "").slice(0, MAX_WRONG);
    S.race.finished = m.status ? m.status !== "racing" : S.typing.pos === body.length;
    renderTyping();
  },
  races(m) { renderRaces(Array.isArray(m.rooms) ? m.rooms : []); },
  texts: renderTexts,
  text_created(m) {
    const t = m.text || {};
    $("submit-text-msg").textContent = `Thanks! “${t.title}” was added as text #${t.text_id}.`;
    $("submit-text-form").reset();
    S.textsOffset = 0;
    requestTexts();
  },
  stats: renderStats,
  leaderboard: renderLeaderboard,
  error: onError,
};

/** Is the race on screen this room's? (A `countdown` may arrive just before its `joined`.) */
function raceBelongsTo(room) {
  if (!S.race || !room) return false;
  if (S.room && S.room.room_id === room.room_id) return true;
  return S.race.roomId == null || (room.race_id != null && room.race_id === S.race.race_id);
}

function handle(msg) {
  clockSample(msg.server_ms);
  const request = typeof msg.id === "number" ? S.pending.get(msg.id) : undefined;
  if (typeof msg.id === "number") S.pending.delete(msg.id);
  const fn = handlers[msg.type];
  if (fn) fn(msg, request);
}

function onError(m, request) {
  const code = String(m.code || "error");
  const text = String(m.message || code);
  const req = request || {};
  if (code === "invalid_token" && req.type === "hello") {
    // A token from another server (or one that changed its secret): start afresh as a
    // new player under the same name rather than failing every hello.
    localStorage.removeItem(LS_TOKEN);
    sendHello();
    return;
  }
  if (req.type === "hello" || code === "invalid_name") {
    S.welcomed = false;
    S.wanted = false;                     // don't retry a refused name; the form reconnects
    setView("name");
    notice(`${text}`, code);
    return;
  }
  if (req.type === "submit_text" || code === "text_invalid") {
    $("submit-text-msg").textContent = text;
  }
  if (code === "not_racing" && req.type === "input") return;    // race just ended: harmless
  if (req.type === "watch" && S.spectator && code === "room_not_found") leaveLocally();
  const joinCode = req.type === "join_room" ? req.code : null;
  const offerWatch = joinCode && (code === "race_in_progress" || code === "room_full");
  notice(`${text} (${code})`, code, offerWatch ? joinCode : null);
}

// ---------------------------------------------------------------- home
let racesTimer = null;
function refreshHome() {
  clearInterval(racesTimer);
  if (!S.welcomed) return;
  send("list_races");
  requestTexts();
  send("player_stats");
  send("leaderboard");
  racesTimer = setInterval(() => {
    if (S.view === "home" && S.welcomed && !document.hidden) send("list_races");
  }, 4000);
}

function renderRaces(rooms) {
  const list = clear($("races-list"));
  for (const r of rooms) {
    const players = Array.isArray(r.players) ? r.players.length : (r.player_count ?? "?");
    const max = r.settings && r.settings.max_players;
    const title = (r.text && r.text.title) || "Public race";
    list.append(el("li", { className: "race", dataset: { roomId: String(r.room_id) } },
      el("span", { className: "grow" }, title, " · ", `${players}${max ? "/" + max : ""} players`,
        " · ", String(r.state || "")),
      el("button", {
        type: "button", className: "watch-race-btn small",
        onclick: () => { S.watchCode = String(r.room_id); send("watch", { code: String(r.room_id) }); },
      }, "Watch")));
  }
  show($("races-empty"), rooms.length === 0);
}

const TEXTS_PAGE = 10;
function requestTexts() {
  const args = { offset: S.textsOffset, limit: TEXTS_PAGE };
  if ($("texts-mine").checked && S.me) args.author = S.me.player_id;
  send("list_texts", args);
}

function renderTexts(m) {
  const texts = Array.isArray(m.texts) ? m.texts : [];
  S.textsTotal = typeof m.total === "number" ? m.total : texts.length;
  const list = clear($("texts-list"));
  for (const t of texts) {
    const meta = [t.source, t.words != null && `${t.words} words`,
      t.completions != null && `${t.completions} races`, `#${t.text_id}`].filter(Boolean).join(" · ");
    list.append(el("li", { className: "text", dataset: { textId: String(t.text_id) } },
      el("span", { className: "grow" }, el("strong", {}, t.title || "Untitled"), " ",
        el("span", { className: "hint" }, meta)),
      el("button", { type: "button", className: "practice-text-btn small",
        onclick: () => send("practice", { text_id: t.text_id }) }, "Practice"),
      el("button", { type: "button", className: "leaderboard-text-btn small",
        onclick: () => { S.lbTitle = t.title; send("leaderboard", { text_id: t.text_id }); } },
      "Top scores")));
  }
  if (!texts.length) list.append(el("li", { className: "hint" }, "No texts here."));
  const first = texts.length ? S.textsOffset + 1 : 0;
  $("texts-page").textContent = `${first}–${S.textsOffset + texts.length} of ${S.textsTotal}`;
  $("texts-prev").disabled = S.textsOffset <= 0;
  $("texts-next").disabled = S.textsOffset + texts.length >= S.textsTotal;
}

function renderStats(m) {
  const dl = clear($("stats-summary"));
  const items = [["Name", m.name], ["Races", m.races], ["Wins", m.wins],
    ["Best WPM", fmt1(m.best_wpm)], ["Average WPM", fmt1(m.avg_wpm)],
    ["Average accuracy", pct(m.avg_accuracy)]];
  for (const [k, v] of items) dl.append(el("div", {}, el("dt", {}, k), el("dd", {}, v ?? "–")));
  const recent = (Array.isArray(m.recent) ? m.recent : []).slice()
    .sort((a, b) => (a.at_ms || 0) - (b.at_ms || 0));
  renderChart(recent);
  const body = clear($("recent-table").tBodies[0]);
  for (const r of recent.slice().reverse()) {
    body.append(el("tr", {}, el("td", {}, when(r.at_ms)),
      el("td", {}, r.title || (r.text_id != null ? `#${r.text_id}` : "")), el("td", {}, fmt1(r.wpm)),
      el("td", {}, pct(r.accuracy)), el("td", {}, r.racers ? `${r.place}/${r.racers}` : (r.place ?? "")),
      el("td", {}, [r.status, r.flagged ? `flagged: ${flagText(r.flagged)}` : ""].filter(Boolean).join(", "))));
  }
}

/** The WPM history as an inline SVG line chart, built with createElementNS only. */
function renderChart(recent) {
  const svg = clear($("wpm-chart"));
  const W = 320, H = 140, L = 34, R = 8, T = 10, B = 22;
  const values = recent.map((r) => (typeof r.wpm === "number" ? r.wpm : 0));
  svg.append(svgEl("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }),
    svgEl("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
  if (!values.length) {
    svg.append(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "label" },
      "No races yet"));
    return;
  }
  const top = Math.max(10, Math.ceil(Math.max(...values) / 10) * 10);
  const x = (i) => L + (values.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (values.length - 1));
  const y = (v) => H - B - (v / top) * (H - B - T);
  for (const v of [0, top / 2, top]) {
    svg.append(svgEl("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", class: "label" }, v),
      svgEl("line", { x1: L, y1: y(v), x2: W - R, y2: y(v), class: "gridline" }));
  }
  svg.append(svgEl("text", { x: (W + L) / 2, y: H - 4, "text-anchor": "middle", class: "label" },
    `last ${values.length} races (WPM)`));
  svg.append(svgEl("polyline", { class: "line",
    points: values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ") }));
  values.forEach((v, i) => {
    const dot = svgEl("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 3, class: "point" });
    dot.append(svgEl("title", {}, `${fmt1(v)} WPM · ${recent[i].title || ""} · ${when(recent[i].at_ms)}`));
    svg.append(dot);
  });
}

function renderLeaderboard(m) {
  $("leaderboard-title").textContent = S.lbTitle ? `Best scores on “${S.lbTitle}”` : "Best scores, all texts";
  S.lbTitle = null;
  const body = clear($("leaderboard-table").tBodies[0]);
  (Array.isArray(m.entries) ? m.entries : []).forEach((e, i) => {
    body.append(el("tr", {}, el("td", {}, i + 1), el("td", {}, e.name ?? ""), el("td", {}, fmt1(e.wpm)),
      el("td", {}, pct(e.accuracy)), el("td", {}, secs(e.race_ms)), el("td", {}, when(e.at_ms))));
  });
}

// ---------------------------------------------------------------- room
function leaveLocally() {
  clearTimeout(S.reseatTimer);
  S.room = null; S.slot = null; S.spectator = false; S.watchCode = null;
  resetRace();
  if (S.view === "room") setView(S.welcomed ? "home" : "name");
}

function isHost() {
  return !!S.room && !S.spectator && S.room.host != null && S.room.host === S.slot;
}

function updateRoom(room) {
  if (!room) return;
  S.room = room;
  const kind = room.kind || (room.public ? "quick" : "private");
  $("room-title").textContent = { quick: "Quick race", practice: "Practice", private: "Private room" }[kind] || "Room";
  $("room-state").textContent = room.state;
  show($("watching-banner"), S.spectator);
  const settings = room.settings || {};
  const textTitle = room.text && room.text.title;
  $("room-settings").textContent = [`up to ${settings.max_players} players`,
    `${settings.countdown_s} s countdown`, textTitle ? `text: ${textTitle}` : "random text"].join(" · ");
  let hint = "";
  if (room.state === "waiting") {
    if (room.public) hint = "Waiting for opponents; the race starts soon.";
    else hint = isHost() ? "Share the invite link, then press Start." : "Waiting for the host to start.";
  }
  $("room-hint").textContent = hint;

  const hasCode = !!room.code;
  show($("private-info"), hasCode && !S.spectator);
  show($("invite-links"), !["countdown", "racing"].includes(room.state));   // keep the race in view
  if (hasCode) {
    $("room-code").textContent = room.code;
    $("watch-code").textContent = room.watch_code || "";
    $("join-link").value = `${location.origin}/#join=${encodeURIComponent(room.code)}`;
    $("watch-link").value = `${location.origin}/#watch=${encodeURIComponent(room.watch_code || "")}`;
  }
  $("spectators-count").textContent = String(room.spectators ?? 0);

  const list = clear($("players-list"));
  for (const p of room.players || []) {
    const li = el("li", { className: "player" + (p.connected ? "" : " offline"),
      dataset: { slot: String(p.slot), connected: String(!!p.connected) } },
    el("span", { className: "grow" }, p.name,
      room.host === p.slot ? el("span", { className: "host-marker", title: "host" }, " ★ host") : null,
      !S.spectator && p.slot === S.slot ? el("span", { className: "you-marker" }, " (you)") : null,
      p.connected ? null : el("span", { className: "hint" }, " — disconnected")));
    if (isHost() && p.slot !== S.slot) {
      li.append(el("button", { type: "button", className: "kick-btn small",
        "aria-label": `Kick ${p.name}`, onclick: () => send("kick", { slot: p.slot }) }, "Kick"));
    }
    list.append(li);
    const laneName = document.querySelector(`.lane[data-slot="${CSS.escape(String(p.slot))}"] .lane-name`);
    if (laneName) laneName.textContent = p.name;
  }

  const host = isHost() && !room.public;      // practice: only Rematch ever shows
  show($("host-controls"), host);
  show($("start-btn"), host && room.state === "waiting");
  show($("configure-form"), host && room.state === "waiting");
  show($("rematch-btn"), host && room.state === "finished" && !!(S.race && S.race.results));
  if (host && room.state === "waiting" && !$("configure-form").contains(document.activeElement)) {
    $("cfg-max-players").value = settings.max_players ?? "";
    $("cfg-countdown").value = settings.countdown_s ?? "";
    $("cfg-text-id").value = settings.text_id ?? "";
  }
  if (room.state === "waiting" && S.race && S.race.results) resetRace();
  if (S.race && room.state === "countdown") {        // late joiners and leavers before the start
    const slots = new Set((room.players || []).map((p) => String(p.slot)));
    for (const node of $("lanes").querySelectorAll(".lane")) if (!slots.has(node.dataset.slot)) node.remove();
    for (const p of room.players || []) lane(p.slot);
  }
}

// ---------------------------------------------------------------- race
function resetRace() {
  S.race = null;
  S.typing = null;
  S.outbox = "";
  show($("race-area"), false);
  show($("results"), false);
  clear($("results-table").tBodies[0]);
  clear($("lanes"));
  const input = $("typing-input");
  input.value = "";
  input.disabled = true;
}

function onCountdown(m) {
  const text = m.text || {};
  const raceId = m.race_id ?? m.start_server_ms;
  if (!S.race || S.race.race_id !== raceId || S.race.results) {
    resetRace();
    S.race = { race_id: raceId, roomId: S.room ? S.room.room_id : null, text,
      start: m.start_server_ms, results: null, finished: false };
    S.typing = { pos: 0, wrong: [], keys: 0, correct: 0, doneAt: null };
  }
  S.race.text = text;
  S.race.chars = Array.from(typeof text.body === "string" ? text.body : "");
  S.race.start = m.start_server_ms;
  $("race-title").textContent = text.title || "";
  $("race-source").textContent = [text.source, text.words != null && `${text.words} words`]
    .filter(Boolean).join(" · ");
  show($("race-area"), true);
  show($("results"), false);
  $("race-msg").textContent = S.spectator ? "Watching: typing is disabled." : "";
  buildPassage();
  for (const p of (S.room && S.room.players) || []) lane(p.slot);
  renderTyping();
  updateClock();
  $("race-area").scrollIntoView({ block: "start", behavior: "smooth" });
}

function buildPassage() {
  const passage = clear($("passage"));
  for (const cls of ["done", "wrong", "caret", "rest"]) passage.append(el("span", { className: cls }));
}

/** The lane of a slot, created on first use. */
function lane(slot) {
  const lanes = $("lanes");
  let node = lanes.querySelector(`.lane[data-slot="${CSS.escape(String(slot))}"]`);
  if (node) return node;
  const player = ((S.room && S.room.players) || []).find((p) => p.slot === slot);
  const bar = el("div", { className: "lane-bar" });
  node = el("div", { className: "lane" + (!S.spectator && slot === S.slot ? " mine" : ""),
    dataset: { slot: String(slot), pos: "0", place: "0" } },
  el("span", { className: "lane-name" }, player ? player.name : `Player ${slot}`),
  el("div", { className: "lane-track", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100 }, bar),
  el("span", { className: "lane-wpm" }, "0 WPM"),
  el("span", { className: "lane-place" }, ""));
  lanes.append(node);
  return node;
}

function setLane(slot, pos, wpmValue, place) {
  const node = lane(slot);
  const chars = (S.race && S.race.chars && S.race.chars.length) || 1;
  const percent = Math.max(0, Math.min(100, (pos / chars) * 100));
  node.dataset.pos = String(pos);
  node.querySelector(".lane-bar").style.width = `${percent}%`;
  node.querySelector(".lane-track").setAttribute("aria-valuenow", String(Math.round(percent)));
  if (wpmValue != null) node.querySelector(".lane-wpm").textContent = `${Math.round(wpmValue)} WPM`;
  if (place) {
    node.dataset.place = String(place);
    node.classList.add("finished");
    node.querySelector(".lane-place").textContent = ordinal(place);
  }
}

function ordinal(n) {
  const s = ["th", "st", "nd", "rd"], v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}

function racing() {
  return !!S.race && !S.race.results && S.race.start != null && serverNow() >= S.race.start;
}
function canType() {
  return racing() && !S.spectator && S.slot != null && !S.race.finished && !!S.typing && S.welcomed;
}

function onTick(m) {
  if (!S.race) return;
  if (typeof m.race_ms === "number" && S.race.start != null) clockSample(S.race.start + m.race_ms);
  for (const entry of Array.isArray(m.p) ? m.p : []) {
    const [slot, pos, w, place] = entry;
    if (!S.spectator && slot === S.slot && S.typing) {
      // Our own lane follows the local prediction; adopt the server's pos only when idle.
      if (pos !== S.typing.pos && !S.outbox && Date.now() - S.lastSentAt > 1000) {
        S.typing.pos = pos;
        S.typing.wrong = [];
        renderTyping();
      }
      setLane(slot, S.typing.pos, null, place);
    } else setLane(slot, pos, w, place);
  }
}

function onFinish(m) {
  if (!S.race) return;
  setLane(m.slot, S.race.chars.length, m.wpm, m.place);
  if (!S.spectator && m.slot === S.slot) {
    S.race.finished = true;
    flushKeys();
    $("typing-input").disabled = true;
    $("live-wpm").textContent = String(Math.round(m.wpm || 0));
    $("race-msg").textContent = `Finished ${ordinal(m.place)}! ${fmt1(m.wpm)} WPM, ` +
      `${pct(m.accuracy)} accuracy, ${secs(m.race_ms)} s.`;
  }
}

function flagText(f) { return typeof f === "string" ? f : "yes"; }

function onResults(m) {
  if (!S.race) S.race = { race_id: m.race_id, text: {}, chars: [], start: null, finished: true };
  S.race.results = m;
  flushKeys();
  $("typing-input").disabled = true;
  const body = clear($("results-table").tBodies[0]);
  for (const r of Array.isArray(m.ranking) ? m.ranking : []) {
    const mine = !S.spectator && r.slot === S.slot;
    body.append(el("tr", { dataset: { slot: String(r.slot), status: String(r.status) },
      className: mine ? "mine" : "" },
    el("td", {}, r.place), el("td", {}, r.name ?? ""), el("td", {}, fmt1(r.wpm)),
    el("td", {}, pct(r.accuracy)), el("td", {}, secs(r.race_ms)), el("td", {}, r.status ?? ""),
    el("td", { className: "flag" }, r.flagged ? flagText(r.flagged) : "")));
  }
  show($("results"), true);
  $("countdown").textContent = "Race over";
  if (S.room) updateRoom(S.room);
}

// The local prediction: identical to the server's typing model (protocol/typing_model.py).
// Positions count code points, like the server's Python strings (S.race.chars).
function feed(keys) {
  const t = S.typing, body = S.race.chars;
  for (const ch of keys) {
    if (t.pos === body.length) return;
    if (ch === BACKSPACE) {
      if (t.wrong.length) t.wrong.pop();
      else if (t.pos > 0) t.pos -= 1;
      continue;
    }
    t.keys += 1;
    if (!t.wrong.length && ch === body[t.pos]) { t.pos += 1; t.correct += 1; }
    else if (t.wrong.length < MAX_WRONG) t.wrong.push(ch);
  }
}

function typeKeys(keys) {
  if (!canType() || !keys) return;
  feed(keys);
  S.outbox += keys;
  renderTyping();
  if (S.typing.pos === S.race.chars.length) flushKeys();
}

function flushKeys() {
  if (!S.outbox || !S.ws || S.ws.readyState !== WebSocket.OPEN || !S.welcomed) return;
  while (S.outbox) {
    send("input", { keys: S.outbox.slice(0, KEYS_MAX) });
    S.outbox = S.outbox.slice(KEYS_MAX);
  }
  S.lastSentAt = Date.now();
}
setInterval(flushKeys, FLUSH_MS);
window.addEventListener("pagehide", flushKeys);   // a reload shouldn't drop the last keys

/** The word being typed (from the last space before pos) plus wrong chars: the input's value. */
function typedWord() {
  const body = S.race.chars;
  const start = body.lastIndexOf(" ", S.typing.pos - 1) + 1;
  return body.slice(start, S.typing.pos).join("") + S.typing.wrong.join("");
}

function renderTyping() {
  if (!S.race || !S.race.text || !$("passage").firstChild) return;
  const body = S.race.chars;
  const [done, wrong, caret, rest] = $("passage").children;
  if (S.spectator || !S.typing) {
    done.textContent = ""; wrong.textContent = ""; caret.textContent = ""; rest.textContent = body.join("");
    return;
  }
  const pos = S.typing.pos, w = Math.min(S.typing.wrong.length, body.length - pos);
  done.textContent = body.slice(0, pos).join("");
  wrong.textContent = body.slice(pos, pos + w).join("");
  caret.textContent = body.slice(pos + w, pos + w + 1).join("");
  rest.textContent = body.slice(pos + w + 1).join("");
  const input = $("typing-input");
  input.value = typedWord();
  input.classList.toggle("has-error", S.typing.wrong.length > 0);
  if (pos === body.length) S.typing.doneAt ??= serverNow();
  else S.typing.doneAt = null;
  $("live-wpm").textContent = String(Math.round(liveWpm()));
  $("live-wpm").title = `accuracy ${pct(calcAccuracy(S.typing.correct, S.typing.keys))}`;
  if (S.slot != null) setLane(S.slot, pos, liveWpm(), null);
}

/** The local player's WPM with the shared formula, on the estimated server clock. */
function liveWpm() {
  if (!S.typing || !S.race || S.race.start == null) return 0;
  return calcWpm(S.typing.pos, (S.typing.doneAt ?? serverNow()) - S.race.start);
}

/** Countdown display and enabling the input, driven by the estimated server clock. */
function updateClock() {
  if (!S.race || S.race.results || S.race.start == null) return;
  const left = S.race.start - serverNow();
  const input = $("typing-input");
  if (left > 0) {
    $("countdown").textContent = `Starts in ${Math.ceil(left / 1000)}`;
    input.disabled = true;
  } else {
    $("countdown").textContent = S.spectator ? "Racing" : S.race.finished ? "Finished" : "Go!";
    const enable = canType();
    if (enable && input.disabled) { input.disabled = false; input.focus(); }
    if (!enable) input.disabled = true;
    if (enable) {
      $("live-wpm").textContent = String(Math.round(liveWpm()));
      setLane(S.slot, S.typing.pos, liveWpm(), null);
    }
  }
}
setInterval(updateClock, 200);

// ---------------------------------------------------------------- keyboard capture
// Desktop: keydown gives printable keys and Backspace (prevented, so the input stays ours).
// Phones: virtual keyboards send "Unidentified" keydowns; beforeinput/input carry the text.
function onKeydown(e) {
  const input = $("typing-input");
  const fromInput = e.target === input;
  const fromBody = e.target === document.body || e.target === document.documentElement;
  if (!canType() || !(fromInput || fromBody) || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  if (e.key === "Backspace") { e.preventDefault(); typeKeys(BACKSPACE); }
  else if (Array.from(e.key).length === 1) { e.preventDefault(); typeKeys(e.key); }
  else return;
  if (fromBody) input.focus();
}
document.addEventListener("keydown", onKeydown);

$("typing-input").addEventListener("beforeinput", (e) => {
  if (!canType()) { if (e.cancelable) e.preventDefault(); return; }
  const input = e.target, end = input.value.length;
  if (input.selectionStart !== end || input.selectionEnd !== end) return;   // edit mid-value: diff later
  if (e.inputType === "insertText" && e.data && e.cancelable) { e.preventDefault(); typeKeys(e.data); }
  else if (e.inputType === "deleteContentBackward" && e.cancelable) { e.preventDefault(); typeKeys(BACKSPACE); }
  else if (e.inputType === "insertLineBreak" && e.cancelable) e.preventDefault();
});
// Anything else (IME composition, autocorrect): diff the value against what we showed.
function reconcileInput() {
  if (!canType()) return;
  const input = $("typing-input"), expected = typedWord(), value = input.value;
  let same = 0;
  while (same < expected.length && same < value.length && expected[same] === value[same]) same++;
  const keys = BACKSPACE.repeat(expected.length - same) + value.slice(same);
  if (keys) typeKeys(keys); else renderTyping();
}
$("typing-input").addEventListener("input", (e) => { if (!e.isComposing) reconcileInput(); });
$("typing-input").addEventListener("compositionend", reconcileInput);
$("typing-input").addEventListener("paste", (e) => e.preventDefault());
$("typing-input").addEventListener("drop", (e) => e.preventDefault());

// ---------------------------------------------------------------- UI wiring
function onSubmit(id, fn) {
  $(id).addEventListener("submit", (e) => { e.preventDefault(); fn(); });
}
const intOrNull = (id) => ($(id).value.trim() === "" ? null : parseInt($(id).value, 10));

onSubmit("name-form", () => {
  const name = $("name-input").value.trim();
  if (!name) return;
  hideNotice();
  const changed = name !== localStorage.getItem(LS_NAME);
  localStorage.setItem(LS_NAME, name);
  if (S.ws && S.ws.readyState === WebSocket.OPEN && !S.welcomed) { S.wanted = true; sendHello(); }
  else if (changed || !S.ws) reconnectNow();
  else if (S.welcomed) setView("home");
});
$("change-name-btn").addEventListener("click", () => {
  $("name-input").value = (S.me && S.me.name) || "";
  setView("name");
  $("name-input").focus();
});
$("quick-race-btn").addEventListener("click", () => send("quick_race"));
$("practice-btn").addEventListener("click", () => send("practice"));
onSubmit("join-form", () => {
  const code = $("join-code-input").value.trim();
  if (code) send("join_room", { code });
});
onSubmit("watch-form", () => {
  const code = $("watch-code-input").value.trim();
  if (code) { S.watchCode = code; send("watch", { code }); }
});
onSubmit("create-room-form", () => {
  const settings = { max_players: intOrNull("create-max-players") ?? 5,
    countdown_s: intOrNull("create-countdown") ?? 5 };
  const textId = intOrNull("create-text-id");
  if (textId) settings.text_id = textId;
  send("create_room", { settings });
});
onSubmit("configure-form", () => {
  const settings = { max_players: intOrNull("cfg-max-players"), countdown_s: intOrNull("cfg-countdown"),
    text_id: intOrNull("cfg-text-id") };
  for (const k of ["max_players", "countdown_s"]) if (settings[k] == null) delete settings[k];
  send("configure", { settings });
});
onSubmit("submit-text-form", () => {
  const args = { title: $("text-title-input").value.trim(), body: $("text-body-input").value };
  const source = $("text-source-input").value.trim();
  if (source) args.source = source;
  $("submit-text-msg").textContent = "Sending…";
  send("submit_text", args);
});
$("refresh-races-btn").addEventListener("click", () => send("list_races"));
$("texts-mine").addEventListener("change", () => { S.textsOffset = 0; requestTexts(); });
$("texts-prev").addEventListener("click", () => {
  S.textsOffset = Math.max(0, S.textsOffset - TEXTS_PAGE); requestTexts();
});
$("texts-next").addEventListener("click", () => { S.textsOffset += TEXTS_PAGE; requestTexts(); });
$("stats-btn").addEventListener("click", () => send("player_stats"));
$("leaderboard-btn").addEventListener("click", () => send("leaderboard"));
$("start-btn").addEventListener("click", () => send("start"));
$("rematch-btn").addEventListener("click", () => send("rematch"));
$("leave-btn").addEventListener("click", () => {
  if (S.ws && S.ws.readyState === WebSocket.OPEN) send("leave");
  else leaveLocally();
});
$("error-dismiss-btn").addEventListener("click", hideNotice);
$("error-watch-btn").addEventListener("click", () => {
  const code = $("error-watch-btn").dataset.code;
  hideNotice();
  if (code) { S.watchCode = code; send("watch", { code }); }
});
for (const which of ["join", "watch"]) {
  $(`copy-${which}-btn`).addEventListener("click", async () => {
    const input = $(`${which}-link`);
    try { await navigator.clipboard.writeText(input.value); }
    catch { input.select(); document.execCommand("copy"); }
    $(`copy-${which}-btn`).textContent = "Copied";
    setTimeout(() => { $(`copy-${which}-btn`).textContent = "Copy"; }, 1500);
  });
}

// Invite links: #join=CODE and #watch=CODE, acted on after welcome.
function readHash() {
  const match = /^#(join|watch)=(.+)$/.exec(location.hash);
  if (!match) return;
  let code;
  try { code = decodeURIComponent(match[2]); } catch { return; }
  S.hashAction = { kind: match[1], code };
  history.replaceState(null, "", location.pathname + location.search);
}
function runHashAction() {
  const action = S.hashAction;
  if (!action || !S.welcomed) return;
  S.hashAction = null;
  if (action.kind === "join") send("join_room", { code: action.code });
  else { S.watchCode = action.code; send("watch", { code: action.code }); }
}
window.addEventListener("hashchange", () => { readHash(); runHashAction(); });

// ---------------------------------------------------------------- start
readHash();
const savedName = localStorage.getItem(LS_NAME);
$("name-input").value = savedName || "";
setView("name");
if (savedName) connect();           // a returning player goes straight in (and keeps its seat)
else $("name-input").focus();
