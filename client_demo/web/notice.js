// Where the page tells the player something went wrong.
// - Connection-level notices (offline, replaced by another tab, banned, a seat lost
//   while away) go to the banner (#error-banner); each says which condition it is
//   about, and the banner clears itself when that condition ends (clearNotice(kind)).
// - Everything else is a message beside the form or view it is about (p.form-msg), in
//   words (the error code sits in its title and data-code), cleared when that form
//   succeeds or the view changes (clearMessages).
// Ids: #status* #error-banner* (data-code = error code) #error-message #error-dismiss-btn
//      p.form-msg (#name-msg* #login-msg* #home-msg* #room-msg* #text-msg #player-msg
//      #register-msg* #change-password-msg* #submit-text-msg) #home-watch-btn*
import { $, show } from "./dom.js";

// Server error codes said as words a player understands (the server's message says
// the rest); a code not here shows the server's message.
const WORDS = {
  bad_credentials: "That name and password don't match an account.",
  weak_password: "That password is too short or too long.",
  name_taken: "That name belongs to an account: log in with its password, or pick another name.",
  rate_limited: "Too many tries: wait a moment and try again.",
  room_not_found: "No room has that code.",
  room_full: "That room is full.",
  race_in_progress: "That room is racing right now.",
};

export function setStatus(text) { $("status").textContent = text; }

let bannerKind = null;         // the condition the banner is about

/** A connection-level notice in the banner: `kind` names the condition it is about. */
export function notice(message, kind = "") {
  const banner = $("error-banner");
  $("error-message").textContent = message;
  banner.dataset.code = kind;
  bannerKind = kind;
  show(banner, true);
}

/** The condition ended: its banner goes (another kind's stays). No kind: any. */
export function clearNotice(kind = null) {
  if (kind === null || kind === bannerKind) {
    show($("error-banner"), false);
    bannerKind = null;
  }
}
export const hideNotice = () => clearNotice();

/** A message beside a form or view (`id`: its p.form-msg). With a code, it is an error:
 * said in words, the code kept in the title. */
export function say(id, message, code = null) {
  const node = $(id);
  node.textContent = code && WORDS[code] ? WORDS[code] : message;
  node.classList.toggle("error", !!code);
  if (code) { node.title = `${message} (${code})`; node.dataset.code = code; }
  else { node.removeAttribute("title"); delete node.dataset.code; }
}

/** A new view or a form's success: the messages about earlier ones go. */
export function clearMessages() {
  for (const node of document.querySelectorAll(".form-msg")) say(node.id, "");
  show($("home-watch-btn"), false);
}

export function init() {
  $("error-dismiss-btn").addEventListener("click", () => clearNotice());
}
