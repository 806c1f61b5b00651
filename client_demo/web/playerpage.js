// A player's own page (#player=ID): name, races, wins, best and average WPM, the WPM
// history chart, recent races (each linking to its text and played back on demand) and
// the texts the player wrote.
// Ids: #player-view* #player-back-btn #player-name* #player-summary #player-chart*
//   (svg; circle.point per race) #player-recent-table* (as #recent-table)
//   #player-texts* (li a.text-link) #player-msg
import { $, clear, el, plural } from "./dom.js";
import { wpmChart } from "./chart.js";
import { showHeatmap } from "./heatmap.js";
import { send } from "./connection.js";
import { closePage, pageLink, registerPage, setView } from "./router.js";
import { recentRows, summary } from "./stats.js";

const TEXTS = 50;
let asked = 0;                 // the latest request: replies to older ones are dropped

function open(playerId) {
  const mine = ++asked;
  $("player-name").textContent = "Loading…";
  $("player-msg").textContent = "";
  clear($("player-summary"));
  clear($("player-chart"));
  clear($("player-recent-table").tBodies[0]);
  clear($("player-texts"));
  setView("player");
  send("player_stats", { player_id: playerId }, (m) => { if (mine === asked) onStats(m); });
  send("list_texts", { author: playerId, limit: TEXTS }, (m) => { if (mine === asked) onTexts(m); });
  showHeatmap($("player-heatmap"), playerId);            // heatmap.js
}

function onStats(m) {
  if (m.type === "error") {
    $("player-name").textContent = "No such player";
    $("player-msg").textContent = String(m.message || m.code);
    return;
  }
  $("player-name").textContent = m.name || "";
  summary($("player-summary"), m);
  const history = Array.isArray(m.history) ? m.history : [];
  wpmChart($("player-chart"), history, (n) => (n === 1 ? "the one finished race (WPM)" : `last ${n} finished races (WPM)`));
  recentRows($("player-recent-table").tBodies[0], m.player_id, Array.isArray(m.recent) ? m.recent : []);
}

function onTexts(m) {
  if (m.type === "error") return;
  const list = clear($("player-texts"));
  for (const t of Array.isArray(m.texts) ? m.texts : []) {
    list.append(el("li", { className: "text", dataset: { textId: String(t.text_id) } },
      pageLink("text", t.text_id, t.title || `#${t.text_id}`),
      el("span", { className: "hint" }, ` · ${plural(t.words, "word")} · ${plural(t.completions, "race")}`)));
  }
  if (!list.children.length) list.append(el("li", { className: "hint" }, "No texts written yet."));
}

export function init() {
  registerPage("player", open);
  $("player-back-btn").addEventListener("click", closePage);
}
