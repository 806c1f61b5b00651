// Light or dark: the system's setting (prefers-color-scheme, followed as it changes)
// until the player picks one with the toggle; the pick is remembered on this device.
// The colours of each theme are in style.css, once: :root (light) and
// :root[data-theme="dark"]; this module sets data-theme.
// Ids: #theme-btn* (names the theme it switches to). <html data-theme="light|dark">.
import { $ } from "./dom.js";

const LS_THEME = "typerace.theme";
const system = window.matchMedia("(prefers-color-scheme: dark)");

function current() { return document.documentElement.dataset.theme; }

function follow() {
  const saved = localStorage.getItem(LS_THEME);
  document.documentElement.dataset.theme =
    saved === "light" || saved === "dark" ? saved : system.matches ? "dark" : "light";
  label();
}

function label() {
  const other = current() === "dark" ? "light" : "dark";
  $("theme-btn").textContent = other === "dark" ? "Dark" : "Light";
  $("theme-btn").setAttribute("aria-label", `Switch to the ${other} theme`);
}

export function init() {
  follow();
  system.addEventListener("change", follow);
  // The toggle names the other theme, whoever set this one.
  new MutationObserver(label).observe(document.documentElement,
    { attributes: true, attributeFilter: ["data-theme"] });
  $("theme-btn").addEventListener("click", () => {
    const next = current() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem(LS_THEME, next);
  });
}
