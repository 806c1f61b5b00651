// A passage on screen: what is typed (span.done), the wrong characters standing after
// it (span.wrong), the caret (span.caret) and the rest (span.rest). The race's is in
// #passage (showPassage, markPassage); a replay has its own (new Passage(node)).
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
// A passage scrolls (style.css): once per frame the caret's line is brought into view,
// one line of context above it.
//
// A passage is a layout boundary (contain: strict), so what else a key changes (the input
// box, the lanes, the live WPM) does not lay the passage out again, nor the passage the
// rest of the page (`python -m bench.web_keys` measures a key). Strict containment needs
// an explicit height: the passage's own, up to the CSS max-height, measured when a
// passage is shown and when the window is resized.
import { BREAK } from "./protocol.js";
import { $, clear, el } from "./dom.js";

const CHUNK = 256;

export class Passage {
  constructor(node) {
    this.node = node;
    this.chars = [];           // the passage, one code point per element
    this.chunks = [];          // the full chunks' text nodes
    this.spans = null;         // {done, wrong, caret, rest}
    this.donePart = this.restPart = null;   // the sliced chunk's two halves
    this.doneChunks = this.restFrom = -1;   // full chunks in done: [0, doneChunks); in rest: [restFrom, …)
    this.scrollPending = false;
    this.heightFitted = false;
    window.addEventListener("resize", () => { if (this.spans) this.fitHeight(); });
  }

  /** Show a new passage (at a race's countdown, or a replay's start). */
  show(passageChars) {
    const chars = this.chars = passageChars;
    this.chunks = [];
    for (let i = 0; i < chars.length; i += CHUNK) {
      this.chunks.push(document.createTextNode(chars.slice(i, i + CHUNK).join("")));
    }
    const passage = clear(this.node);
    this.spans = {};
    for (const cls of ["done", "wrong", "caret", "rest"]) {
      passage.append(this.spans[cls] = el("span", { className: cls }));
    }
    this.donePart = document.createTextNode("");
    this.restPart = document.createTextNode("");
    this.doneChunks = this.restFrom = -1;
    this.heightFitted = false;
    passage.scrollTop = 0;
  }

  /** Give the passage its own height (at most its max-height): contain: strict ignores it. */
  fitHeight() {
    const passage = this.node;
    // The last passage's height set inline would win over .measuring's auto: drop it,
    // or after a long passage every short one would keep the long one's box.
    passage.style.height = "";
    passage.classList.add("measuring");          // style.css: no containment, height auto
    const height = passage.offsetHeight;         // 0 while it is hidden: later
    passage.classList.remove("measuring");
    if (height > 0) {
      passage.style.height = `${height}px`;
      this.heightFitted = true;
    }
  }

  slice(from, to) { return this.chars.slice(from, to).join(""); }

  /** Mark `pos` characters typed, then `wrong` wrong ones, then the caret. A spectator
   *  (caret false) sees the whole passage as the rest. */
  mark(pos, wrong, caret = true) {
    const { spans, chars } = this;
    if (!spans) return;
    const n = chars.length;
    const wrongEnd = Math.min(n, pos + wrong), caretEnd = caret ? Math.min(n, wrongEnd + 1) : wrongEnd;
    const a = Math.floor(pos / CHUNK), c = Math.floor(caretEnd / CHUNK);
    if (a !== this.doneChunks) {                  // the caret crossed a chunk: move whole nodes
      spans.done.replaceChildren(...this.chunks.slice(0, a), this.donePart);
      this.doneChunks = a;
      this.restFrom = -1;
    }
    if (c + 1 !== this.restFrom) {
      spans.rest.replaceChildren(this.restPart, ...this.chunks.slice(c + 1));
      this.restFrom = c + 1;
    }
    this.donePart.data = this.slice(a * CHUNK, pos);
    spans.wrong.textContent = this.slice(pos, wrongEnd);
    spans.caret.textContent = this.slice(wrongEnd, caretEnd);
    spans.wrong.classList.toggle("at-break", wrongEnd > pos && chars[pos] === BREAK);
    spans.caret.classList.toggle("at-break", caretEnd > wrongEnd && chars[wrongEnd] === BREAK);
    this.restPart.data = this.slice(caretEnd, Math.min(n, (c + 1) * CHUNK));
    if (!this.heightFitted) this.fitHeight();
    if (caret && !this.scrollPending) {
      this.scrollPending = true;
      const run = () => { if (this.scrollPending) this.keepCaretInView(); };
      requestAnimationFrame(run);
      setTimeout(run, 100);     // a page that paints no frame (hidden, throttled) scrolls too
    }
  }

  /** Scroll so that the caret's line shows, with one line of what was typed above. */
  keepCaretInView() {
    this.scrollPending = false;
    const { node: passage, spans } = this;
    if (!spans || passage.scrollHeight <= passage.clientHeight) return;
    const caret = spans.caret.textContent ? spans.caret : spans.wrong.textContent ? spans.wrong : spans.done;
    const line = parseFloat(getComputedStyle(passage).lineHeight) || 24;
    const top = caret.offsetTop + (caret === spans.done ? caret.offsetHeight - line : 0);
    if (top - line < passage.scrollTop || top + 2 * line > passage.scrollTop + passage.clientHeight) {
      passage.scrollTop = Math.max(0, top - line);
    }
  }
}

let race = null;               // the race's passage, #passage (made on first use)

/** Show a new passage in the race (at its countdown). */
export function showPassage(passageChars) {
  race ??= new Passage($("passage"));
  race.show(passageChars);
}

/** Mark the race's passage (see Passage.mark). */
export function markPassage(pos, wrong, caret = true) {
  if (race) race.mark(pos, wrong, caret);
}
