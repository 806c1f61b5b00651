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

let leaderboardTitle = null;   // the text whose top scores were asked for (null: all texts)

export function requestLeaderboard(textId, title) {
  leaderboardTitle = title;
  send("leaderboard", { text_id: textId });
}

export function onStats(m) {
  summary($("stats-summary"), m);
  const recent = (Array.isArray(m.recent) ? m.recent : []).slice()
    .sort((a, b) => (a.at_ms || 0) - (b.at_ms || 0));
  wpmChart($("wpm-chart"), recent, (n) => `last ${n} races (WPM)`);
  recentRows($("recent-table").tBodies[0], m.player_id, recent.slice().reverse());
  const me = clear($("my-page-link"));
  if (m.player_id) me.append(pageLink("player", m.player_id, "My page"));
}

/** A player's numbers as a definition list (the statistics card, the player page). */
export function summary(dl, m) {
  clear(dl);
  const items = [["Name", m.name], ["Races", m.races], ["Wins", m.wins],
    ["Best WPM", fmt1(m.best_wpm)], ["Average WPM", fmt1(m.avg_wpm)],
    ["Average accuracy", pct(m.avg_accuracy)]];
  for (const [k, v] of items) dl.append(el("div", {}, el("dt", {}, k), el("dd", {}, v ?? "–")));
}

/** Races as table rows, each linking to its text and playing the race back. */
export function recentRows(tbody, playerId, races) {
  clear(tbody);
  for (const r of races) {
    const text = r.text_id != null ? pageLink("text", r.text_id, r.title || `#${r.text_id}`) : "";
    tbody.append(el("tr", { dataset: { raceId: String(r.race_id) } }, el("td", {}, when(r.at_ms)),
      el("td", {}, text), el("td", {}, fmt1(r.wpm)),
      el("td", {}, pct(r.accuracy)), el("td", {}, r.racers ? `${r.place}/${r.racers}` : (r.place ?? "")),
      el("td", {}, [r.status, r.flagged ? `flagged: ${flagText(r.flagged)}` : ""].filter(Boolean).join(", ")),
      el("td", {}, r.race_id ? replayButton(r.race_id, { player: playerId }) : "")));
  }
}

export function onLeaderboard(m) {
  const title = clear($("leaderboard-title"));
  if (m.text_id != null) title.append("Best scores on ", pageLink("text", m.text_id, leaderboardTitle || `#${m.text_id}`));
  else title.append("Best scores, all texts");
  leaderboardTitle = null;
  const body = clear($("leaderboard-table").tBodies[0]);
  (Array.isArray(m.entries) ? m.entries : []).forEach((e, i) => {
    body.append(el("tr", {}, el("td", {}, i + 1), el("td", {}, pageLink("player", e.player_id, e.name ?? "")),
      el("td", {}, e.text_id != null ? pageLink("text", e.text_id, `#${e.text_id}`) : ""),
      el("td", {}, fmt1(e.wpm)), el("td", {}, pct(e.accuracy)), el("td", {}, secs(e.race_ms)),
      el("td", {}, when(e.at_ms)), el("td", {}, replayButton(e.race_id, { player: e.player_id }))));
  });
}

export function init() {
  $("stats-btn").addEventListener("click", () => send("player_stats"));
  $("leaderboard-btn").addEventListener("click", () => send("leaderboard"));
}
