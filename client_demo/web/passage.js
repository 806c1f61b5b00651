// The passage on screen: what is typed (span.done), the wrong characters standing after
// it (span.wrong), the caret (span.caret) and the rest (span.rest), in #passage.
//
// A passage may have 10,000 characters, so a key must not rewrite them all: the text is
// cut into chunks of CHUNK characters, one text node each. A full chunk's node sits in
// span.done or span.rest; only the chunk around the caret is sliced, so a key changes a
// few hundred characters of the page, and whole nodes move between the two spans when
// the caret crosses a chunk (every CHUNK keys). The spans' text is still exactly the
// typed prefix, the wrong part, the caret and the rest.
//
// A paragraph break ("\n") shows as a line break (white-space: pre-wrap); under the caret,
// or typed wrong, it is marked (class at-break: a visible ↵) so the mark shows.
// #passage scrolls (style.css): once per frame the caret's line is brought into view,
// one line of context above it.
//
// #passage is a layout boundary (contain: strict), so what else a key changes (the input
// box, the lanes, the live WPM) does not lay the passage out again, nor the passage the
// rest of the page (`python -m bench.web_keys` measures a key). Strict containment needs
// an explicit height: the passage's own, up to the CSS max-height, measured when a
// passage is shown and when the window is resized.
import { BREAK } from "./protocol.js";
import { $, clear, el } from "./dom.js";

const CHUNK = 256;
let chars = [];              // the passage, one code point per element
let chunks = [];             // the full chunks' text nodes
let spans = null;            // {done, wrong, caret, rest}
let donePart = null, restPart = null;   // the sliced chunk's two halves
let doneChunks = -1, restFrom = -1;     // full chunks in done: [0, doneChunks); in rest: [restFrom, …)
let scrollPending = false;
let heightFitted = false;

/** Show a new passage (at a race's countdown). */
export function showPassage(passageChars) {
  chars = passageChars;
  chunks = [];
  for (let i = 0; i < chars.length; i += CHUNK) {
    chunks.push(document.createTextNode(chars.slice(i, i + CHUNK).join("")));
  }
  const passage = clear($("passage"));
  spans = {};
  for (const cls of ["done", "wrong", "caret", "rest"]) passage.append(spans[cls] = el("span", { className: cls }));
  donePart = document.createTextNode("");
  restPart = document.createTextNode("");
  doneChunks = restFrom = -1;
  heightFitted = false;
  passage.scrollTop = 0;
}

/** Give #passage its own height (at most its max-height): contain: strict ignores it. */
function fitHeight() {
  const passage = $("passage");
  passage.classList.add("measuring");          // style.css: no containment, height auto
  const height = passage.offsetHeight;         // 0 while the race area is hidden: later
  passage.classList.remove("measuring");
  if (height > 0) {
    passage.style.height = `${height}px`;
    heightFitted = true;
  }
}

function slice(from, to) { return chars.slice(from, to).join(""); }

/** Mark `pos` characters typed, then `wrong` wrong ones, then the caret. A spectator
 *  (caret false) sees the whole passage as the rest. */
export function markPassage(pos, wrong, caret = true) {
  if (!spans) return;
  const n = chars.length;
  const wrongEnd = Math.min(n, pos + wrong), caretEnd = caret ? Math.min(n, wrongEnd + 1) : wrongEnd;
  const a = Math.floor(pos / CHUNK), c = Math.floor(caretEnd / CHUNK);
  if (a !== doneChunks) {                       // the caret crossed a chunk: move whole nodes
    spans.done.replaceChildren(...chunks.slice(0, a), donePart);
    doneChunks = a;
    restFrom = -1;
  }
  if (c + 1 !== restFrom) {
    spans.rest.replaceChildren(restPart, ...chunks.slice(c + 1));
    restFrom = c + 1;
  }
  donePart.data = slice(a * CHUNK, pos);
  spans.wrong.textContent = slice(pos, wrongEnd);
  spans.caret.textContent = slice(wrongEnd, caretEnd);
  spans.wrong.classList.toggle("at-break", wrongEnd > pos && chars[pos] === BREAK);
  spans.caret.classList.toggle("at-break", caretEnd > wrongEnd && chars[wrongEnd] === BREAK);
  restPart.data = slice(caretEnd, Math.min(n, (c + 1) * CHUNK));
  if (!heightFitted) fitHeight();
  if (caret && !scrollPending) {
    scrollPending = true;
    requestAnimationFrame(keepCaretInView);
  }
}

/** Scroll #passage so that the caret's line shows, with one line of what was typed above. */
function keepCaretInView() {
  scrollPending = false;
  const passage = $("passage");
  if (!spans || passage.scrollHeight <= passage.clientHeight) return;
  const caret = spans.caret.textContent ? spans.caret : spans.wrong.textContent ? spans.wrong : spans.done;
  const line = parseFloat(getComputedStyle(passage).lineHeight) || 24;
  const top = caret.offsetTop + (caret === spans.done ? caret.offsetHeight - line : 0);
  if (top - line < passage.scrollTop || top + 2 * line > passage.scrollTop + passage.clientHeight) {
    passage.scrollTop = Math.max(0, top - line);
  }
}

window.addEventListener("resize", () => { if (spans) fitHeight(); });
