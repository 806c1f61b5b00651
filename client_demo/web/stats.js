// The player's statistics (summary, WPM chart, recent races) and the leaderboard; rows
// link to texts and players and play races back.
// Ids: #stats-view* #stats-btn #my-page-link #stats-summary #wpm-chart* (svg; circle.point
//   per race) #recent-table (tbody tr[data-race-id]: a.text-link, button.replay-btn)
//   #leaderboard-view* #leaderboard-btn #leaderboard-title #leaderboard-table (a.player-link,
//   a.text-link, button.replay-btn)
import { $, clear, el, flagText, fmt1, pct, secs, when } from "./dom.js";
import { wpmChart } from "./chart.js";
import { send } from "./connection.js";
import { pageLink, replayButton } from "./router.js";

// Texts' titles by id, as lists and pages tell them: a board entry names only its text's
// id, so an unknown one is asked for once (text_stats) and its link relabelled.
const titles = new Map();
const asked = new Set();

export function knowTitle(textId, title) {
  if (textId != null && title) titles.set(String(textId), title);
}

function textLink(textId) {
  const key = String(textId);
  const link = pageLink("text", textId, titles.get(key) || "…");
  if (!titles.has(key) && !asked.has(key)) {
    asked.add(key);
    send("text_stats", { text_id: textId }, (m) => {
      if (m.type !== "error" && m.text) knowTitle(textId, m.text.title);
      for (const a of document.querySelectorAll(`a.text-link[data-text-id="${CSS.escape(key)}"]`)) {
        a.textContent = titles.get(key) || `Text ${key}`;
      }
    });
  }
  link.dataset.textId = key;
  return link;
}

export function onStats(m) {
  summary($("stats-summary"), m);
  const recent = (Array.isArray(m.recent) ? m.recent : []).slice()
    .sort((a, b) => (a.at_ms || 0) - (b.at_ms || 0));
  wpmChart($("wpm-chart"), recent, (n) => (n === 1 ? "the one race (WPM)" : `last ${n} races (WPM)`));
  recentRows($("recent-table").tBodies[0], m.player_id, recent.slice().reverse());
  const me = clear($("my-page-link"));
  if (m.player_id) me.append(pageLink("player", m.player_id, "My page"));
}

/** A player's numbers as a definition list (the statistics card, the player page). */
export function summary(dl, m) {
  clear(dl);
  // No clean result yet: no best or average to show (0.0 would say the player is slow).
  const none = !(Array.isArray(m.history) && m.history.length) && !m.best_wpm;
  const items = [["Name", m.name], ["Races", m.races], ["Wins", m.wins],
    ["Best WPM", none ? "–" : fmt1(m.best_wpm)], ["Average WPM", none ? "–" : fmt1(m.avg_wpm)],
    ["Average accuracy", none ? "–" : pct(m.avg_accuracy)]];
  for (const [k, v] of items) dl.append(el("div", {}, el("dt", {}, k), el("dd", {}, v ?? "–")));
}

/** Races as table rows, each linking to its text and playing the race back. */
export function recentRows(tbody, playerId, races) {
  clear(tbody);
  for (const r of races) {
    knowTitle(r.text_id, r.title);
    const text = r.text_id != null ? pageLink("text", r.text_id, r.title || `Text ${r.text_id}`) : "";
    const left = r.status === "left";          // a race left mid-way: no speed, no place
    tbody.append(el("tr", { dataset: { raceId: String(r.race_id), status: String(r.status) },
      title: [r.status, r.flagged ? `flagged: ${flagText(r.flagged)}` : ""].filter(Boolean).join(", ") },
      el("td", { className: "opt" }, when(r.at_ms)),
      el("td", {}, text), el("td", {}, left ? "–" : fmt1(r.wpm)),
      el("td", {}, left ? "–" : pct(r.accuracy)),
      el("td", {}, left ? "left" : r.racers > 1 ? `${r.place}/${r.racers}` : r.racers === 1 ? "solo" : (r.place ?? "")),
      el("td", { className: "opt" }, [r.status, r.flagged ? `flagged: ${flagText(r.flagged)}` : ""].filter(Boolean).join(", ")),
      el("td", {}, r.race_id ? replayButton(r.race_id, { player: playerId }) : "")));
  }
}

export function onLeaderboard(m) {
  const title = clear($("leaderboard-title"));
  if (m.text_id != null) title.append("Best scores on ", textLink(m.text_id));
  else title.append("Best scores, all texts");
  const body = clear($("leaderboard-table").tBodies[0]);
  (Array.isArray(m.entries) ? m.entries : []).forEach((e, i) => {
    body.append(el("tr", {}, el("td", {}, i + 1), el("td", {}, pageLink("player", e.player_id, e.name ?? "")),
      el("td", {}, e.text_id != null ? textLink(e.text_id) : ""),
      el("td", {}, fmt1(e.wpm)), el("td", { className: "opt" }, pct(e.accuracy)),
      el("td", { className: "opt" }, secs(e.race_ms)), el("td", { className: "opt" }, when(e.at_ms)), el("td", {}, replayButton(e.race_id, { player: e.player_id }))));
  });
}

export function init() {
  $("stats-btn").addEventListener("click", () => send("player_stats"));
  $("leaderboard-btn").addEventListener("click", () => send("leaderboard"));
}
