// The texts card: the library page by page (all texts or only mine), practice or top
// scores on one text, and submitting a text of one's own.
// Ids: #texts-list* (li.text[data-text-id] with a.text-link to its page, button.practice-text-btn,
//   button.leaderboard-text-btn) #texts-mine #texts-prev #texts-next #texts-page
//   #submit-text-form* #text-title-input #text-body-input #text-body-label
//   #text-source-input #submit-text-btn #submit-text-msg (shows text_created / text_invalid)
import { BODY_MAX, BODY_MIN, BODY_RAW_MAX, SOURCE_MAX, TITLE_MAX } from "./protocol.js";
import { $, clear, el, onSubmit, plural } from "./dom.js";
import { say } from "./notice.js";
import { send } from "./connection.js";
import { pageLink } from "./router.js";
import { knowTitle } from "./stats.js";
import { state } from "./state.js";

const PAGE = 10;
let offset = 0, total = 0;

export function requestTexts() {
  const args = { offset, limit: PAGE };
  if ($("texts-mine").checked && state.me) args.author = state.me.player_id;
  send("list_texts", args);
}

export function onTexts(m) {
  const texts = Array.isArray(m.texts) ? m.texts : [];
  total = typeof m.total === "number" ? m.total : texts.length;
  const list = clear($("texts-list"));
  for (const t of texts) {
    knowTitle(t.text_id, t.title);
    const meta = [t.source, t.words != null && plural(t.words, "word"),
      t.completions != null && plural(t.completions, "race")].filter(Boolean).join(" · ");
    list.append(el("li", { className: "text", dataset: { textId: String(t.text_id) } },
      el("span", { className: "grow" }, el("strong", {}, pageLink("text", t.text_id, t.title || "Untitled")),
        " ", el("span", { className: "hint" }, meta)),
      el("button", { type: "button", className: "practice-text-btn small",
        onclick: () => send("practice", { text_id: t.text_id }) }, "Practice"),
      el("a", { className: "leaderboard-text-btn small button-link",
        href: `#text=${encodeURIComponent(String(t.text_id))}` }, "Top scores")));
  }
  if (!texts.length) list.append(el("li", { className: "hint" }, "No texts here."));
  const first = texts.length ? offset + 1 : 0;
  $("texts-page").textContent = `${first}–${offset + texts.length} of ${total}`;
  $("texts-prev").disabled = offset <= 0;
  $("texts-next").disabled = offset + texts.length >= total;
}

export function onTextCreated(m) {
  const t = m.text || {};
  showSubmitMessage(`Thanks! “${t.title}” was added as text #${t.text_id}: ${plural(t.words, "word")}, ` +
    `${t.chars} characters, as a keyboard types them.`);
  $("submit-text-form").reset();
  offset = 0;
  requestTexts();
}

/** What became of a submitted text: said beside the form (an error with its code). */
export function showSubmitMessage(text, code = null) { say("submit-text-msg", text, code); }

export function init() {
  $("text-title-input").maxLength = TITLE_MAX;
  // The browser may not cut a text the server would take (spaces that the server
  // collapses count here): only the raw cap; the server's text_invalid says the rest.
  $("text-body-input").maxLength = BODY_RAW_MAX;
  $("text-body-label").textContent = `Text (${BODY_MIN}–${BODY_MAX} characters)`;
  $("text-source-input").maxLength = SOURCE_MAX;
  $("texts-mine").addEventListener("change", () => { offset = 0; requestTexts(); });
  $("texts-prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); requestTexts(); });
  $("texts-next").addEventListener("click", () => { offset += PAGE; requestTexts(); });
  onSubmit("submit-text-form", () => {
    const args = { title: $("text-title-input").value.trim(), body: $("text-body-input").value };
    const source = $("text-source-input").value.trim();
    if (source) args.source = source;
    showSubmitMessage("Sending…");
    send("submit_text", args);
  });
}
