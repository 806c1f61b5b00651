// Scoring shared with the server: mirrors protocol/scoring.py exactly.
// wpm = (correct characters / 5) / minutes; accuracy = correct / all keystrokes.
import { CHARS_PER_WORD } from "./protocol.js";

export { CHARS_PER_WORD };

/** Words per minute; 0 when nothing was typed correctly. Time counts in whole
 *  milliseconds: under one counts as one (typing at the start instant is not 0 WPM). */
export function wpm(correctChars, elapsedMs) {
  if (correctChars <= 0) return 0;
  return (correctChars / CHARS_PER_WORD) / (Math.max(elapsedMs, 1) / 60000);
}

/** Correct keystrokes over all keystrokes (backspaces excluded), 0..1; 1 when none. */
export function accuracy(correct, total) {
  if (total <= 0) return 1;
  return Math.max(0, Math.min(1, correct / total));
}

/** Competition points: words x WPM / 60 x accuracy, rounded half up (protocol/scoring.py). */
export function points(chars, wpm_, accuracy_) {
  if (chars <= 0 || wpm_ <= 0) return 0;
  return Math.floor(chars / CHARS_PER_WORD * wpm_ / 60 * accuracy_ + 0.5);
}
