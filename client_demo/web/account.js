// The account: the top bar says who is signed in (or offers to log in), and the account
// card on the home view lets a guest sign up (its scores stay its own), and an account
// change its password or log out. Passwords are sent once and never kept.
// Ids: #account-name* (the top bar: the account's name) #login-link-btn* (a guest's way to
//   the login form) #account-card* #register-form* #register-name-input*
//   #register-password-input* #register-btn* #register-msg* #account-info*
//   #account-info-name #change-password-form* #current-password-input*
//   #new-password-input* #change-password-btn* #change-password-msg* #logout-btn*
import { NAME_MAX, PASSWORD_MAX, PASSWORD_MIN } from "./protocol.js";
import { $, onSubmit, show } from "./dom.js";
import { disconnect, send } from "./connection.js";
import { hideNotice, say } from "./notice.js";
import { forget, rememberName, rememberToken } from "./identity.js";
import { setView } from "./router.js";
import { state } from "./state.js";

/** Show what the player is: an account (its name at the top) or a guest. */
export function showAccount() {
  const me = state.me;
  const account = me && me.account;
  $("account-name").textContent = account ? `account: ${account}` : "";
  show($("account-name"), !!account);
  show($("login-link-btn"), !account);
  show($("register-form"), !!me && !account);
  show($("account-info"), !!account);
  $("account-info-name").textContent = account || "";
  if (me && !account && !$("register-name-input").value) $("register-name-input").value = me.name;
}

/** `account`: the reply to register or change_password, with the token to keep. */
export function onAccount(m, request) {
  rememberToken(m.token);
  if (state.me) Object.assign(state.me, { name: m.name, account: m.name });
  rememberName(m.name);
  showAccount();
  show($("change-name-btn"), false);
  for (const id of ["register-password-input", "current-password-input", "new-password-input"]) {
    $(id).value = "";
  }
  if (request && request.type === "change_password") {
    say("change-password-msg", "Password changed. Other devices must log in again.");
  } else {
    say("register-msg", "");
    say("change-password-msg",
      `Signed up as ${m.name}: log in with this name and password on any device.`);
  }
}

/** An error about the account card's requests; true when handled here. */
export function onAccountError(code, text, request) {
  const where = { register: "register-msg", change_password: "change-password-msg" }[request.type];
  if (!where) return false;
  say(where, text, code);
  return true;
}

function logOut() {
  disconnect();
  forget();
  hideNotice();
  setView("name");
}

export function init() {
  $("register-name-input").maxLength = NAME_MAX;
  for (const id of ["register-password-input", "new-password-input"]) {
    $(id).minLength = PASSWORD_MIN;
    $(id).maxLength = PASSWORD_MAX;
  }
  $("current-password-input").maxLength = PASSWORD_MAX;
  // The rule said before anyone trips on it (the browser's bubble alone is easy to miss).
  const rule = `At least ${PASSWORD_MIN} characters.`;
  $("register-password-rule").textContent = rule;
  $("new-password-rule").textContent = rule;
  onSubmit("register-form", () => {
    say("register-msg", "signing up…");
    send("register", { name: $("register-name-input").value.trim(),
      password: $("register-password-input").value });
  });
  onSubmit("change-password-form", () => {
    say("change-password-msg", "changing…");
    send("change_password", { password: $("current-password-input").value,
      new_password: $("new-password-input").value });
  });
  $("logout-btn").addEventListener("click", logOut);
  $("login-link-btn").addEventListener("click", () => {
    setView("name");
    $("login-name-input").focus();
  });
  showAccount();
}
