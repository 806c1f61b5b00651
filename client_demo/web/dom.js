// DOM and formatting helpers shared by the views. Nothing here parses HTML: every
// server-provided string goes through textContent / createTextNode / input.value.

export const $ = (id) => document.getElementById(id);

/** el("li", {className: "x", dataset: {slot: 1}}, "text", child): never parses HTML. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "onclick") node.addEventListener("click", value);
    else if (key === "role" || key.startsWith("aria-")) node.setAttribute(key, String(value));
    else node[key] = value;
  }
  for (const child of children) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text != null) node.textContent = String(text);
  return node;
}

export function clear(node) { node.replaceChildren(); return node; }
export function show(node, visible) { node.hidden = !visible; }

/** Run fn on the form's submit instead of navigating. */
export function onSubmit(id, fn) {
  $(id).addEventListener("submit", (e) => { e.preventDefault(); fn(); });
}
export const intOrNull = (id) => ($(id).value.trim() === "" ? null : parseInt($(id).value, 10));

export const fmt1 = (n) => (typeof n === "number" ? n.toFixed(1) : "–");
export const pct = (a) => (typeof a === "number" ? (a * 100).toFixed(1) + "%" : "–");
export const secs = (ms) => (typeof ms === "number" ? (ms / 1000).toFixed(2) : "–");
export const when = (ms) => (typeof ms === "number" ? new Date(ms).toLocaleString() : "");
export const flagText = (f) => (typeof f === "string" ? f : "yes");

/** "1 race", "2 races": a count and its noun. */
export function plural(n, noun, nouns = noun + "s") {
  return `${n} ${n === 1 ? noun : nouns}`;
}

export function ordinal(n) {
  const s = ["th", "st", "nd", "rd"], v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}
