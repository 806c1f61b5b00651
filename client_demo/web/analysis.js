// One race analysed (the `race_analysis` message, protocol/REFERENCE.md "Analysis of a
// race"): an SVG chart of WPM, raw WPM and errors per second, the passage with the
// mistyped words marked (what was typed on hover and in the list), the slowest words,
// consistency and the time lost to corrections. Shown under the results (race.js) and
// in the replay view (replay.js); both call showAnalysis with a container of their own.
// Ids (inside the container, prefixed by its id): -chart* (svg; polyline.wpm,
//   polyline.raw, rect.errors) -facts -mistakes* (li.mistake) -slowest* (li.slow)
//   -passage* (span.mistyped[data-at])
import { clear, el, fmt1, secs, svgEl } from "./dom.js";
import { send } from "./connection.js";

const W = 480, H = 160, L = 34, R = 34, T = 10, B = 24;
const asked = new Map();       // container id -> the latest request (older replies dropped)

/** Ask for the analysis of (raceId, slot) and draw it into `box` (an element with an id);
 *  `body` is the passage (for marking the mistyped words in it). */
export function showAnalysis(box, raceId, slot, body) {
  const mine = (asked.get(box.id) || 0) + 1;
  asked.set(box.id, mine);
  clear(box).append(el("h3", {}, "Your race, analysed"), el("p", { className: "hint" }, "Loading…"));
  box.hidden = false;
  send("race_analysis", { race_id: raceId, slot }, (m) => {
    if (asked.get(box.id) !== mine) return;
    if (m.type === "error") {
      clear(box).append(el("p", { className: "hint" }, `No analysis: ${m.message || m.code}`));
      return;
    }
    render(box, m, typeof body === "string" ? body : "");
  });
}

function render(box, m, body) {
  const id = box.id;
  const seconds = Array.isArray(m.seconds) ? m.seconds : [];
  const mistakes = Array.isArray(m.mistakes) ? m.mistakes : [];
  const slowest = Array.isArray(m.slowest_words) ? m.slowest_words : [];
  const svg = svgEl("svg", { id: `${id}-chart`, "data-testid": `${id}-chart`, class: "analysis-chart",
    viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "WPM and errors over the race" });
  chart(svg, seconds);
  const errors = seconds.reduce((n, s) => n + (s.errors || 0), 0);
  const facts = el("p", { id: `${id}-facts`, className: "hint" },
    `${m.name ?? ""}: consistency ${fmt1(m.consistency)} % · ${errors} wrong key${errors === 1 ? "" : "s"}` +
    ` · ${secs(m.correction_ms)} s lost to corrections`);
  const legend = el("p", { className: "hint analysis-legend" },
    el("span", { className: "key-wpm" }, "— WPM"), " ", el("span", { className: "key-raw" }, "— raw WPM"),
    " ", el("span", { className: "key-errors" }, "▮ errors"));
  const mistakeList = el("ul", { id: `${id}-mistakes`, className: "list", dataset: { testid: `${id}-mistakes` } });
  for (const w of mistakes) {
    mistakeList.append(el("li", { className: "mistake", dataset: { at: String(w.at) } },
      el("strong", {}, w.word ?? ""), " typed as ", el("code", {}, w.typed ?? "")));
  }
  if (!mistakes.length) mistakeList.append(el("li", { className: "hint" },
    "No mistyped words."));
  const slowList = el("ol", { id: `${id}-slowest`, className: "list", dataset: { testid: `${id}-slowest` } });
  for (const w of slowest) {
    slowList.append(el("li", { className: "slow", dataset: { at: String(w.at) } },
      el("strong", {}, w.word ?? ""), ` ${fmt1(w.wpm)} WPM`));
  }
  clear(box).append(el("h3", {}, "Your race, analysed"), facts, svg, legend,
    markedPassage(`${id}-passage`, body, mistakes),
    el("div", { className: "analysis-lists" },
      el("div", {}, el("h4", {}, "Mistyped words"), mistakeList),
      el("div", {}, el("h4", {}, "Slowest words"), slowList)));
}

/** WPM and raw WPM as lines, errors as bars (right-hand scale), one point per second. */
function chart(svg, seconds) {
  svg.append(svgEl("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }),
    svgEl("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
  if (!seconds.length) {
    svg.append(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "label" }, "No keys"));
    return;
  }
  const top = Math.max(10, Math.ceil(Math.max(...seconds.map((s) => Math.max(s.wpm, s.raw_wpm))) / 20) * 20);
  const errTop = Math.max(1, ...seconds.map((s) => s.errors || 0));
  const n = seconds.length;
  const x = (i) => L + (n === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1));
  const y = (v) => H - B - (v / top) * (H - B - T);
  for (const v of [0, top / 2, top]) {
    svg.append(svgEl("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", class: "label" }, v),
      svgEl("line", { x1: L, y1: y(v), x2: W - R, y2: y(v), class: "gridline" }));
  }
  svg.append(svgEl("text", { x: W - 2, y: T + 8, "text-anchor": "end", class: "label errors-label" },
    `${errTop} err`),
    svgEl("text", { x: (W + L - R) / 2, y: H - 4, "text-anchor": "middle", class: "label" },
      `seconds (1–${seconds[n - 1].t})`));
  const bar = Math.max(2, Math.min(14, (W - L - R) / n / 2));
  seconds.forEach((s, i) => {
    if (!s.errors) return;
    const h = (s.errors / errTop) * (H - B - T) * 0.5;
    const rect = svgEl("rect", { class: "errors", x: (x(i) - bar / 2).toFixed(1), y: (H - B - h).toFixed(1),
      width: bar.toFixed(1), height: h.toFixed(1) });
    rect.append(svgEl("title", {}, `second ${s.t}: ${s.errors} error${s.errors === 1 ? "" : "s"}`));
    svg.append(rect);
  });
  for (const [key, cls] of [["raw_wpm", "raw"], ["wpm", "wpm"]]) {
    svg.append(svgEl("polyline", { class: cls,
      points: seconds.map((s, i) => `${x(i).toFixed(1)},${y(s[key] || 0).toFixed(1)}`).join(" ") }));
  }
}

/** The passage as text, each mistyped word a span.mistyped whose title says what was typed. */
function markedPassage(id, body, mistakes) {
  const box = el("p", { id, className: "analysis-passage", dataset: { testid: id } });
  if (!body) return box;
  const chars = Array.from(body);        // `at` counts characters, as the server does
  let from = 0;
  for (const w of mistakes.slice().sort((a, b) => a.at - b.at)) {
    const word = Array.from(String(w.word ?? ""));
    if (!(w.at >= from) || w.at + word.length > chars.length) continue;
    box.append(chars.slice(from, w.at).join(""));
    box.append(el("span", { className: "mistyped", title: `typed "${w.typed}"`, dataset: { at: String(w.at) } },
      chars.slice(w.at, w.at + word.length).join("")));
    from = w.at + word.length;
  }
  box.append(chars.slice(from).join(""));
  return box;
}
