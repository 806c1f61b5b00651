// The top bar's connection status and the notice banner (#error-banner).
// Ids: #status* #error-banner* (data-code = error code) #error-message #error-dismiss-btn
//      #error-watch-btn (offered on race_in_progress / room_full; wired by lobby.js)
import { $, show } from "./dom.js";

export function setStatus(text) { $("status").textContent = text; }

export function notice(message, code = "", watchCode = null) {
  const banner = $("error-banner");
  $("error-message").textContent = message;
  banner.dataset.code = code;
  $("error-watch-btn").dataset.code = watchCode || "";
  show($("error-watch-btn"), !!watchCode);
  show(banner, true);
}

export function hideNotice() { show($("error-banner"), false); }

export function init() {
  $("error-dismiss-btn").addEventListener("click", hideNotice);
}
