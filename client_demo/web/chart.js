// A WPM chart: an inline SVG line chart, one circle.point per race, oldest on the left,
// the first and last race's dates under it, the moving average of the last AVERAGE races
// (polyline.chart-avg) and the personal best marked (circle.point.best, the earliest
// if tied). Built with createElementNS only. Used by the statistics card and the player page.
import { clear, fmt1, svgEl, when } from "./dom.js";

const W = 320, H = 140, L = 34, R = 8, T = 10, B = 22;
export const AVERAGE = 5;       // races in the moving average

const day = (ms) => (typeof ms === "number" ? new Date(ms).toLocaleDateString() : "");

/** The mean of each value and the AVERAGE - 1 before it (fewer at the start). */
export function movingAverage(values) {
  return values.map((_, i) => {
    const window = values.slice(Math.max(0, i - AVERAGE + 1), i + 1);
    return window.reduce((a, b) => a + b, 0) / window.length;
  });
}

/** Draw `races` ([{wpm, at_ms, title?}], oldest first) into `svg`, captioned `caption`. */
export function wpmChart(svg, races, caption) {
  clear(svg);
  const values = races.map((r) => (typeof r.wpm === "number" ? r.wpm : 0));
  svg.append(svgEl("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }),
    svgEl("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
  if (!values.length) {
    svg.append(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "label" },
      "No races yet"));
    return;
  }
  const top = Math.max(10, Math.ceil(Math.max(...values) / 10) * 10);
  const x = (i) => L + (values.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (values.length - 1));
  const y = (v) => H - B - (v / top) * (H - B - T);
  for (const v of [0, top / 2, top]) {
    svg.append(svgEl("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", class: "label" }, v),
      svgEl("line", { x1: L, y1: y(v), x2: W - R, y2: y(v), class: "gridline" }));
  }
  svg.append(svgEl("text", { x: (W + L) / 2, y: H - 4, "text-anchor": "middle", class: "label" },
    caption(values.length)));
  if (values.length > 1) {
    svg.append(svgEl("text", { x: L, y: H - B + 11, "text-anchor": "start", class: "label chart-date" },
      day(races[0].at_ms)), svgEl("text", { x: W - R, y: H - B + 11, "text-anchor": "end",
      class: "label chart-date" }, day(races[races.length - 1].at_ms)));
  }
  const points = (vs) => vs.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  svg.append(svgEl("polyline", { class: "line", points: points(values) }));
  if (values.length >= 2) {
    const avg = svgEl("polyline", { class: "chart-avg", points: points(movingAverage(values)) });
    avg.append(svgEl("title", {}, `average of the last ${AVERAGE} races`));
    svg.append(avg);
  }
  const best = values.indexOf(Math.max(...values));
  values.forEach((v, i) => {
    const dot = svgEl("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: i === best ? 5 : 3,
      class: i === best ? "point best chart-best" : "point" });
    dot.append(svgEl("title", {}, [`${fmt1(v)} WPM`, i === best && "your best", races[i].title,
      when(races[i].at_ms)].filter(Boolean).join(" · ")));
    svg.append(dot);
  });
}
