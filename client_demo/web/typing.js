// The typed-text model of one racer: protocol/typing_model.py in JavaScript, so the page
// predicts exactly what the server will decide (tests/test_typing_model_js.py runs both
// on the same keys). Pure: no DOM, no clock.
//
// The typed text is always chars[0:pos] + wrong: the longest correct prefix and the
// wrong characters standing after it. Positions count code points, like Python strings,
// so the passage is given as an array of code points (Array.from(body)). A paragraph
// break (BREAK) is typed by any of BREAK_KEYS: a space or Enter.
import {
  BACKSPACE, BREAK, BREAK_KEYS, FOLDS, IGNORABLE, MARKS_MAX, MAX_WRONG, NON_STARTERS,
} from "./protocol.js";

const span = ([lo, hi]) => `\\u{${lo.toString(16)}}-\\u{${hi.toString(16)}}`;
// The fold table's characters and the invisible ones it drops (IGNORABLE ranges).
const FOLDABLE = new RegExp(`[${Object.keys(FOLDS).join("")}${IGNORABLE.map(span).join("")}]`, "gu");
const MARK = `[${NON_STARTERS.map(span).join("")}]`;
// A run of more than MARKS_MAX combining marks keeps its first MARKS_MAX (the server's cut).
const LONG_MARK_RUN = new RegExp(`(?<!${MARK})(${MARK}{${MARKS_MAX}})${MARK}+`, "gu");
const ASCII = /^[\x00-\x7f]*$/;

/** Keys as the passage spells them: protocol/typing_model.py `as_typed` (the fold table of
 *  protocol/typeable.py: typographic characters and Unicode spaces folded, invisible ones
 *  dropped, long runs of marks cut, then NFC), so the page judges a key as the server will. */
export function asTyped(keys) {
  if (ASCII.test(keys)) return keys;
  return keys.replace(FOLDABLE, (ch) => FOLDS[ch] ?? "").replace(LONG_MARK_RUN, "$1")
    .normalize("NFC");
}

export class TypingState {
  constructor(chars) {
    this.chars = chars;             // the passage, one code point per element
    this.pos = 0;                   // length of the correct prefix
    this.wrong = [];                // wrong characters standing after pos
    this.keystrokes = 0;            // every character key (backspace excluded)
    this.correctKeystrokes = 0;
  }

  get finished() { return this.pos === this.chars.length; }

  get wrongText() { return this.wrong.join(""); }

  /** Apply keys in order; return how many code points were applied (finishing stops early). */
  feed(keys) {
    const chars = this.chars, end = chars.length;
    let applied = 0;
    for (const ch of keys) {
      if (this.pos === end) return applied;
      applied += 1;
      if (ch === BACKSPACE) {
        if (this.wrong.length) this.wrong.pop();
        else if (this.pos > 0) this.pos -= 1;
        continue;
      }
      this.keystrokes += 1;
      if (!this.wrong.length && (ch === chars[this.pos] ||
          (chars[this.pos] === BREAK && BREAK_KEYS.includes(ch)))) {
        this.pos += 1;
        this.correctKeystrokes += 1;
      } else if (this.wrong.length < MAX_WRONG) this.wrong.push(ch);
    }
    return applied;
  }

  /** Take the server's word for where we are (after a reconnect, or when idle). */
  restore(pos, wrongText) {
    this.pos = Math.max(0, Math.min(this.chars.length, pos | 0));
    this.wrong = Array.from(typeof wrongText === "string" ? wrongText : "").slice(0, MAX_WRONG);
  }
}
