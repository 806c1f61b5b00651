// One lane per racer, drawn for a live race (race.js) and for a saved race played back
// (replay.js), with the same classes:
// .lane[data-slot][data-pos][data-place] (.mine, .ghost, .finished) holding
//   .lane-name, .lane-track > .lane-bar, .lane-wpm, .lane-place.
import { el, ordinal } from "./dom.js";

/** What a lane calls a player: its name, and whether it is a ghost (a saved race). */
export function laneLabel(player) {
  return player.ghost ? `${player.name} (ghost)` : player.name;
}

/** The lane of `slot` in `container`, created on first use. */
export function laneFor(container, slot, { label, mine = false, ghost = false }) {
  let node = container.querySelector(`.lane[data-slot="${CSS.escape(String(slot))}"]`);
  if (node) return node;
  const classes = ["lane", mine && "mine", ghost && "ghost"].filter(Boolean).join(" ");
  node = el("div", { className: classes, dataset: { slot: String(slot), pos: "0", place: "0" } },
    el("span", { className: "lane-name" }, label),
    el("div", { className: "lane-track", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100 },
      el("div", { className: "lane-bar" })),
    el("span", { className: "lane-wpm" }, "0 WPM"),
    el("span", { className: "lane-place" }, ""));
  container.append(node);
  return node;
}

/** Move a lane to `pos` of `total` characters; wpm and place (0: not finished) when
 * given (null leaves them as they are). */
export function paintLane(node, pos, total, wpmValue, place) {
  const percent = Math.max(0, Math.min(100, (pos / (total || 1)) * 100));
  node.dataset.pos = String(pos);
  node.querySelector(".lane-bar").style.transform = `scaleX(${percent / 100})`;
  node.querySelector(".lane-track").setAttribute("aria-valuenow", String(Math.round(percent)));
  if (wpmValue != null) node.querySelector(".lane-wpm").textContent = `${Math.round(wpmValue)} WPM`;
  if (place == null) return;
  node.dataset.place = String(place);
  node.classList.toggle("finished", place > 0);
  node.querySelector(".lane-place").textContent = place > 0 ? ordinal(place) : "";
}
