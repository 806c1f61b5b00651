// A text's own page (#text=ID): what it is, who wrote it and when, how often and how fast
// it was raced, its top 10 and your best on it, and the ways to race it: practise it,
// race your best or the record as a ghost, open a private room on it, report it.
// Ids: #text-view* #text-back-btn #text-title* #text-byline (a.player-link to the author)
//   #text-date #text-facts* (dd[data-fact=words|chars|completions|avg_wpm]) #text-body
//   #text-practice-btn* #text-ghost-best-btn* #text-ghost-top-btn* #text-room-btn*
//   #text-report-btn* #text-report-form (#text-report-reason, #text-report-send)
//   #text-msg #text-best* #text-top-table* (tbody tr: #, name link, wpm, acc., time, when,
//   replay) #text-author-card #text-author-name #text-author-texts (li a.text-link)
import { $, clear, el, fmt1, onSubmit, pct, secs, show, when } from "./dom.js";
import { send } from "./connection.js";
import { REASON_MAX } from "./protocol.js";
import { closePage, pageLink, registerPage, replayButton, setView } from "./router.js";

const AUTHOR_TEXTS = 10;
let current = null;            // the text on the page: its id, and its listing once known
let asked = 0;                 // the latest request: replies to older ones are dropped

function open(id) {
  const textId = Number(id);
  current = { textId, text: null };
  const mine = ++asked;
  $("text-title").textContent = "Loading…";
  for (const node of ["text-byline", "text-date", "text-body", "text-msg", "text-best"]) $(node).textContent = "";
  clear($("text-facts"));
  clear($("text-top-table").tBodies[0]);
  show($("text-author-card"), false);
  showReportForm(false);
  setButtons(false, false, false);
  setView("text");
  if (!Number.isSafeInteger(textId) || textId < 1) { missing("That is not a text id."); return; }
  send("text_stats", { text_id: textId }, (m) => { if (mine === asked) onTextStats(m, mine); });
}

function missing(message) {
  $("text-title").textContent = "No such text";
  $("text-msg").textContent = message;
}

function setButtons(any, best, top) {
  $("text-practice-btn").disabled = !any;
  $("text-room-btn").disabled = !any;
  $("text-report-btn").disabled = !any;
  $("text-ghost-best-btn").disabled = !best;
  $("text-ghost-top-btn").disabled = !top;
  $("text-ghost-best-btn").title = best ? "" : "Finish this text once to race your best";
  $("text-ghost-top-btn").title = top ? "" : "Nobody has finished this text yet";
}

function onTextStats(m, mine) {
  if (m.type === "error") { missing(String(m.message || m.code)); return; }
  const t = m.text || {};
  current.text = t;
  $("text-title").textContent = t.title || "Untitled";
  const byline = clear($("text-byline"));
  if (t.author) byline.append("By ", pageLink("player", t.author, t.author_name || "a player"));
  else byline.append("From the library");
  if (t.source) byline.append(` · ${t.source}`);
  $("text-date").textContent = t.created_ms ? `Added ${when(t.created_ms)}` : "";
  const facts = clear($("text-facts"));
  for (const [key, label, value] of [["words", "Words", t.words], ["chars", "Characters", t.chars],
    ["completions", "Completed", m.completions],
    ["avg_wpm", "Average WPM", m.completions ? fmt1(m.avg_wpm) : "–"]]) {   // none: no average
    facts.append(el("div", {}, el("dt", {}, label), el("dd", { dataset: { fact: key } }, value ?? "–")));
  }
  $("text-body").textContent = t.body || "";
  const top = Array.isArray(m.top) ? m.top : [];
  const body = clear($("text-top-table").tBodies[0]);
  top.forEach((e, i) => body.append(el("tr", { dataset: { playerId: String(e.player_id) } },
    el("td", {}, i + 1), el("td", {}, pageLink("player", e.player_id, e.name ?? "")),
    el("td", {}, fmt1(e.wpm)), el("td", {}, pct(e.accuracy)), el("td", { className: "opt" }, secs(e.race_ms)),
    el("td", { className: "opt" }, when(e.at_ms)), el("td", {}, replayButton(e.race_id, { player: e.player_id })))));
  if (!top.length) body.append(el("tr", {}, el("td", { colSpan: 7, className: "hint" }, "Nobody has finished it yet.")));
  const best = m.best;
  $("text-best").textContent = best
    ? `${fmt1(best.wpm)} WPM, ${pct(best.accuracy)} accuracy, ${secs(best.race_ms)} s (${when(best.at_ms)})`
    : "You have not finished this text yet.";
  setButtons(true, !!best, top.length > 0);
  if (t.author) {
    $("text-author-name").textContent = t.author_name || "this player";
    send("list_texts", { author: t.author, limit: AUTHOR_TEXTS },
      (reply) => { if (mine === asked) onAuthorTexts(reply); });
  }
}

function onAuthorTexts(m) {
  const others = (Array.isArray(m.texts) ? m.texts : []).filter((t) => t.text_id !== current.textId);
  const list = clear($("text-author-texts"));
  for (const t of others) list.append(el("li", {}, pageLink("text", t.text_id, t.title || `#${t.text_id}`)));
  list.append(el("li", {}, pageLink("player", current.text.author, "Their page and every text they wrote")));
  show($("text-author-card"), true);
}

function showReportForm(visible) {
  show($("text-report-form"), visible);
  $("text-report-btn").setAttribute("aria-expanded", String(visible));
  if (visible) $("text-report-reason").focus();
  else $("text-report-reason").value = "";
}

// One report per player per text counts on the server; the button stays off once sent so
// nobody thinks a second click adds weight.
function sendReport() {
  const reason = $("text-report-reason").value.trim();
  if (!reason) return;
  const textId = current.textId;
  const sent = send("report_text", { text_id: textId, reason }, (m) => {
    $("text-report-send").disabled = false;
    if (!current || current.textId !== textId) return;
    if (m.type === "reported") {
      showReportForm(false);
      $("text-report-btn").disabled = true;
      $("text-msg").textContent = "Thank you: your report was sent to the moderators.";
    } else {
      $("text-msg").textContent = `Not reported: ${m.message || m.code}`;
    }
  });
  $("text-report-send").disabled = sent !== null;   // until the answer comes
}

// The race these buttons start is joined as any other (`joined` takes us to the room).
export function init() {
  registerPage("text", open);
  $("text-back-btn").addEventListener("click", closePage);
  $("text-practice-btn").addEventListener("click", () => send("practice", { text_id: current.textId }));
  $("text-ghost-best-btn").addEventListener("click",
    () => send("practice", { text_id: current.textId, ghost: "best" }));
  $("text-ghost-top-btn").addEventListener("click",
    () => send("practice", { text_id: current.textId, ghost: "top" }));
  $("text-room-btn").addEventListener("click",
    () => send("create_room", { settings: { text_id: current.textId } }));
  $("text-report-reason").maxLength = REASON_MAX;
  $("text-report-btn").addEventListener("click",
    () => showReportForm($("text-report-form").hidden));
  onSubmit("text-report-form", sendReport);
}
