// The player's statistics (summary, WPM chart, recent races) and the leaderboard.
// Ids: #stats-view* #stats-btn #stats-summary #wpm-chart* (svg; circle.point per race)
//   #recent-table #leaderboard-view* #leaderboard-btn #leaderboard-title #leaderboard-table
import { $, clear, el, flagText, fmt1, pct, secs, svgEl, when } from "./dom.js";
import { send } from "./connection.js";

let leaderboardTitle = null;   // the text whose top scores were asked for (null: all texts)

export function requestLeaderboard(textId, title) {
  leaderboardTitle = title;
  send("leaderboard", { text_id: textId });
}

export function onStats(m) {
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

export function onLeaderboard(m) {
  $("leaderboard-title").textContent = leaderboardTitle
    ? `Best scores on “${leaderboardTitle}”` : "Best scores, all texts";
  leaderboardTitle = null;
  const body = clear($("leaderboard-table").tBodies[0]);
  (Array.isArray(m.entries) ? m.entries : []).forEach((e, i) => {
    body.append(el("tr", {}, el("td", {}, i + 1), el("td", {}, e.name ?? ""), el("td", {}, fmt1(e.wpm)),
      el("td", {}, pct(e.accuracy)), el("td", {}, secs(e.race_ms)), el("td", {}, when(e.at_ms))));
  });
}

export function init() {
  $("stats-btn").addEventListener("click", () => send("player_stats"));
  $("leaderboard-btn").addEventListener("click", () => send("leaderboard"));
}
