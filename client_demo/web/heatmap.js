// A player's keys (the `key_stats` message, protocol/REFERENCE.md "Per-key statistics"):
// a keyboard heatmap and the slowest and most-mistyped bigrams, on the player page.
// Layout-neutral: the server counts characters, not key positions, so the page draws
// the characters on a layout the viewer picks (remembered), says which one it drew, and
// lists every character the layout has no key for. A letter's key counts both cases.
// Colour: by mean time or by error rate (picked), from green (best of this player's
// keys) to red (worst); a key never typed is grey.
// On your own page, a button races a passage composed for your weak keys (`practice`
// {weak_keys: true}); when there is nothing to compose from, the server's reason shows.
// Ids (inside the container, prefixed by its id): -layout (select) -colour (select)
//   -caption* -keys* (.heatmap-key[data-key][data-count]) -other* -slow* -missed*
//   -practice* (button)
import { clear, el, fmt1 } from "./dom.js";
import { send } from "./connection.js";
import { notice } from "./notice.js";
import { onJoined } from "./room.js";
import { state } from "./state.js";

export const LAYOUTS = {
  "QWERTY (US)": ["`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./"],
  "QWERTZ (German)": ["^1234567890ß´", "qwertzuiopü+", "asdfghjklöä#", "<yxcvbnm,.-"],
  "AZERTY (French)": ["²&é\"'(-è_çà)=", "azertyuiop^$", "qsdfghjklmù*", "<wxcvbn,;:!"],
  "Dvorak": ["`1234567890[]", "',.pyfgcrl/=\\", "aoeuidhtns-", ";qjkxbmwvz"],
  "Colemak": ["`1234567890-=", "qwfpgjluy;[]\\", "arstdhneio'", "zxcvbkm,./"],
};
const STORED = "typerace.layout";
const asked = new Map();

/** Ask for `playerId`'s key statistics and draw them into `box` (an element with an id). */
export function showHeatmap(box, playerId) {
  const mine = (asked.get(box.id) || 0) + 1;
  asked.set(box.id, mine);
  clear(box).append(el("p", { className: "hint" }, "Loading keys…"));
  send("key_stats", { player_id: playerId }, (m) => {
    if (asked.get(box.id) !== mine) return;
    if (m.type === "error") {
      clear(box).append(el("p", { className: "hint" }, String(m.message || m.code)));
      return;
    }
    draw(box, m);
  });
}

function savedLayout() {
  try {
    const name = localStorage.getItem(STORED);
    if (name && LAYOUTS[name]) return name;
  } catch { /* storage off: the default */ }
  return "QWERTY (US)";
}

function draw(box, m) {
  const id = box.id;
  const keys = Array.isArray(m.keys) ? m.keys : [];
  const bigrams = Array.isArray(m.bigrams) ? m.bigrams : [];
  if (!keys.length) {
    clear(box).append(el("p", { className: "hint" },
      "No keys measured yet: they come from clean finished races."));
    return;
  }
  const layout = el("select", { id: `${id}-layout` });
  for (const name of Object.keys(LAYOUTS)) layout.append(el("option", { value: name }, name));
  layout.value = savedLayout();
  const colour = el("select", { id: `${id}-colour` },
    el("option", { value: "ms" }, "mean time"), el("option", { value: "errors" }, "error rate"));
  const board = el("div");
  const practise = m.player_id === state.me?.player_id && el("button", {
    type: "button", id: `${id}-practice`, className: "primary", dataset: { testid: `${id}-practice` },
    onclick: () => send("practice", { weak_keys: true }, (reply) => {
      if (reply.type === "joined") onJoined(reply);         // then the countdown, as ever
      if (reply.notice || reply.type === "error") notice(String(reply.notice || reply.message), "weak_keys");
    }) }, "Practise your weak keys");
  const paint = () => {
    try { localStorage.setItem(STORED, layout.value); } catch { /* storage off */ }
    clear(board).append(...keyboard(id, keys, layout.value, colour.value));
  };
  layout.addEventListener("change", paint);
  colour.addEventListener("change", paint);
  clear(box).append(
    el("div", { className: "row wrap" }, el("label", { htmlFor: `${id}-layout`, className: "inline" }, "Layout"),
      layout, el("label", { htmlFor: `${id}-colour`, className: "inline" }, "Colour by"), colour,
      practise),
    board,
    el("div", { className: "analysis-lists" },
      el("div", {}, el("h4", {}, "Slowest bigrams"), bigramList(`${id}-slow`, bigrams.slice()
        .sort((a, b) => (b.mean_ms || 0) - (a.mean_ms || 0)).slice(0, 10), (b) => `${fmt1(b.mean_ms)} ms`)),
      el("div", {}, el("h4", {}, "Most mistyped bigrams"), bigramList(`${id}-missed`, bigrams
        .filter((b) => b.errors > 0).sort((a, b) => rate(b) - rate(a)).slice(0, 10),
      (b) => `${b.errors} of ${b.count + b.errors} (${Math.round(100 * rate(b))} %)`))));
  paint();
}

const rate = (k) => k.errors / Math.max(1, k.count + k.errors);

/** The layout's rows, a space bar and the characters it has no key for. */
function keyboard(id, keys, layoutName, by) {
  const merged = new Map();        // the layout's key character -> {count, errors, ms}
  const onLayout = new Set(LAYOUTS[layoutName].join("") + " ");
  const other = [];
  for (const k of keys) {
    const lower = k.key.toLowerCase();
    const at = onLayout.has(k.key) ? k.key : (onLayout.has(lower) && lower !== k.key ? lower : null);
    if (at == null) { other.push(k); continue; }
    const sum = merged.get(at) || { count: 0, errors: 0, ms: 0 };
    sum.count += k.count; sum.errors += k.errors; sum.ms += (k.mean_ms || 0) * k.count;
    merged.set(at, sum);
  }
  const score = (s) => (by === "ms" ? s.ms / Math.max(1, s.count) : rate(s));
  const scores = [...merged.values(), ...other.map((k) => ({ ...k, ms: (k.mean_ms || 0) * k.count }))]
    .map(score);
  const lo = Math.min(...scores), hi = Math.max(...scores);
  const cell = (label, key, s, extra = "") => {
    if (!s) return el("span", { className: `heatmap-key unseen ${extra}`, dataset: { key, count: "0" } }, label);
    const t = hi > lo ? (score(s) - lo) / (hi - lo) : 0;
    const node = el("span", { className: `heatmap-key ${extra}`, dataset: { key, count: String(s.count) },
      title: `${label}: typed ${s.count}×, ${s.errors} mistakes, ${fmt1(s.ms / Math.max(1, s.count))} ms` },
    label, el("small", {}, by === "ms" ? `${Math.round(s.ms / Math.max(1, s.count))}` : `${Math.round(100 * rate(s))}%`));
    node.style.background = `hsl(${Math.round(120 * (1 - t))} 65% 78%)`;
    node.style.color = "hsl(220 25% 15%)";   // dark on the light scale, in both themes
    return node;
  };
  const rows = LAYOUTS[layoutName].map((row) => el("div", { className: "heatmap-row" },
    ...Array.from(row).map((ch) => cell(ch, ch, merged.get(ch)))));
  rows.push(el("div", { className: "heatmap-row" }, cell("space", " ", merged.get(" "), "space")));
  return [
    el("p", { id: `${id}-caption`, className: "hint", dataset: { testid: `${id}-caption` } },
      `Layout drawn: ${layoutName}. `, el("span", { className: "heatmap-scale" }),
      by === "ms" ? " faster → slower (mean ms per key)" : " fewer → more mistakes (% of presses)"),
    el("div", { id: `${id}-keys`, className: "heatmap-rows", dataset: { testid: `${id}-keys` } }, ...rows),
    el("div", { id: `${id}-other`, className: "heatmap-row", dataset: { testid: `${id}-other` } },
      other.length ? el("span", { className: "hint" }, "Not on this layout: ") : "",
      ...other.map((k) => cell(k.key, k.key, { count: k.count, errors: k.errors, ms: (k.mean_ms || 0) * k.count }))),
  ];
}

function bigramList(id, items, detail) {
  const list = el("ol", { id, className: "list", dataset: { testid: id } });
  for (const b of items) {
    list.append(el("li", { className: "bigram", dataset: { bigram: b.bigram } },
      el("code", {}, `"${b.bigram}"`), ` ${detail(b)}`));
  }
  if (!items.length) list.append(el("li", { className: "hint" }, "None yet."));
  return list;
}
