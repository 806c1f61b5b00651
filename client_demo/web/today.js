// Today: the text of the day (race it, the time left, its top 20 and your place, the past
// week's winners) and the points boards (day, ISO week, all time) with a window switch.
// Asked for when the page is welcomed and again after each race (app.js); the countdown
// ticks locally on the server's clock and asks again when the day ends.
// Ids: #today-view* #daily-title* (a.text-link) #daily-race-btn* #daily-ends* #daily-you*
//   #daily-table* (tbody tr: #, name link, wpm, acc., time) #daily-history (li)
//   #points-windows (button[data-window], aria-pressed) #points-you* #points-table*
//   (tbody tr: #, name link, points, races)
import { $, clear, el, fmt1, ordinal, pct, secs } from "./dom.js";
import { send } from "./connection.js";
import { serverNow } from "./clock.js";
import { pageLink } from "./router.js";

const WINDOWS = { day: "Today", week: "This week", all: "All time" };
let daily = null;                  // the last `daily`
let pointsWindow = "day";
let timer = null;

/** Ask for today's text and the chosen points board (on welcome, after a race). */
export function refresh() {
  send("daily");
  send("points_board", { window: pointsWindow });
}

export function onDaily(m) {
  daily = m;
  const text = m.text || {};
  const title = clear($("daily-title"));
  title.append(pageLink("text", text.text_id, text.title || "Untitled"));
  $("daily-race-btn").disabled = text.text_id == null;
  const you = m.you;
  $("daily-you").textContent = you
    ? `You: ${ordinal(you.place)}, ${fmt1(you.best_wpm)} WPM`
    : "You have not raced it today.";
  const body = clear($("daily-table").tBodies[0]);
  (Array.isArray(m.top) ? m.top : []).forEach((e, i) => {
    body.append(el("tr", {}, el("td", {}, i + 1),
      el("td", {}, pageLink("player", e.player_id, e.name ?? "")),
      el("td", {}, fmt1(e.wpm)), el("td", { className: "wide" }, pct(e.accuracy)),
      el("td", { className: "wide" }, secs(e.race_ms))));
  });
  $("daily-empty").hidden = body.rows.length > 0;
  $("daily-table").hidden = body.rows.length === 0;
  const history = clear($("daily-history"));
  for (const h of Array.isArray(m.history) ? m.history : []) {
    const who = h.winner ? [pageLink("player", h.winner.player_id, h.winner.name ?? ""),
      ` ${fmt1(h.winner.wpm)} WPM`] : ["nobody finished"];
    history.append(el("li", {}, `${h.date}: `, pageLink("text", h.text_id, h.title || `#${h.text_id}`),
      " — ", ...who));
  }
  tick();
}

export function onPointsBoard(m) {
  if (m.window !== pointsWindow) return;          // a reply to an older switch
  const body = clear($("points-table").tBodies[0]);
  (Array.isArray(m.entries) ? m.entries : []).forEach((e, i) => {
    body.append(el("tr", {}, el("td", {}, i + 1),
      el("td", {}, pageLink("player", e.player_id, e.name ?? "")),
      el("td", {}, e.points), el("td", {}, e.races)));
  });
  $("points-empty").hidden = body.rows.length > 0;
  $("points-table").hidden = body.rows.length === 0;
  $("points-you").textContent = m.you
    ? `You: ${m.you.points} points, ${ordinal(m.you.place)}`
    : `No points ${m.window === "all" ? "yet" : WINDOWS[m.window].toLowerCase()}: finish a race to earn some.`;
}

/** "5 h 12 min left" for the day's text; at midnight the next day's is asked for. */
function tick() {
  if (!daily || typeof daily.ends_ms !== "number") return;
  const left = daily.ends_ms - serverNow();
  if (left <= 0) { daily = null; refresh(); return; }
  const h = Math.floor(left / 3600000), min = Math.floor((left % 3600000) / 60000);
  $("daily-ends").textContent = h > 0 ? `${h} h ${min} min left` : `${Math.max(1, min)} min left`;
}

function choose(window) {
  pointsWindow = window;
  for (const b of $("points-windows").querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(b.dataset.window === window));
  }
  send("points_board", { window });
}

export function init() {
  $("daily-race-btn").addEventListener("click", () => {
    if (daily && daily.text) send("practice", { text_id: daily.text.text_id });
  });
  for (const b of $("points-windows").querySelectorAll("button")) {
    b.addEventListener("click", () => choose(b.dataset.window));
  }
  if (timer === null) timer = setInterval(tick, 15000);
}
