// Keys from the keyboard into the race. Desktop: keydown gives printable keys and
// Backspace (prevented, so the input stays ours). Phones: virtual keyboards send
// "Unidentified" keydowns; beforeinput/input carry the text. Anything else (IME
// composition, autocorrect) is found by diffing the input's value against what we showed.
import { BACKSPACE, BREAK } from "./protocol.js";
import { $ } from "./dom.js";
import { canType, renderTyping, typedWord, typeKeys } from "./race.js";

function onKeydown(e) {
  const input = $("typing-input");
  const fromInput = e.target === input;
  const fromBody = e.target === document.body || e.target === document.documentElement;
  if (!canType() || !(fromInput || fromBody) || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  if (e.key === "Backspace") { e.preventDefault(); typeKeys(BACKSPACE); }
  else if (e.key === "Enter") { e.preventDefault(); typeKeys(BREAK); }   // a paragraph break
  else if (Array.from(e.key).length === 1) { e.preventDefault(); typeKeys(e.key); }
  else return;
  if (fromBody) input.focus();
}

function onBeforeInput(e) {
  if (!canType()) { if (e.cancelable) e.preventDefault(); return; }
  const input = e.target, end = input.value.length;
  if (input.selectionStart !== end || input.selectionEnd !== end) return;   // edit mid-value: diff later
  if (e.inputType === "insertText" && e.data && e.cancelable) { e.preventDefault(); typeKeys(e.data); }
  else if (e.inputType === "deleteContentBackward" && e.cancelable) { e.preventDefault(); typeKeys(BACKSPACE); }
  else if ((e.inputType === "insertLineBreak" || e.inputType === "insertParagraph") && e.cancelable) {
    e.preventDefault();
    typeKeys(BREAK);
  }
}

function reconcileInput() {
  if (!canType()) return;
  const input = $("typing-input"), expected = typedWord(), value = input.value;
  let same = 0;
  while (same < expected.length && same < value.length && expected[same] === value[same]) same++;
  const keys = BACKSPACE.repeat(expected.length - same) + value.slice(same);
  if (keys) typeKeys(keys); else renderTyping();
}

export function init() {
  document.addEventListener("keydown", onKeydown);
  const input = $("typing-input");
  input.addEventListener("beforeinput", onBeforeInput);
  input.addEventListener("input", (e) => { if (!e.isComposing) reconcileInput(); });
  input.addEventListener("compositionend", reconcileInput);
  input.addEventListener("paste", (e) => e.preventDefault());
  input.addEventListener("drop", (e) => e.preventDefault());
}
