// chart.js — a small line chart in plain SVG, built with DOM calls (no
// library, no HTML strings): series of numbers over the last samples.
const NS = "http://www.w3.org/2000/svg";
export const COLORS = ["#2b5d8a", "#c2571a", "#1e6b3a", "#7b3fa0", "#a4262c"];

function el(name, attrs) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

export function human(n) {
  const units = ["", "k", "M", "G", "T"];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (n >= 100 ? Math.round(n) : i === 0 ? Math.round(n * 10) / 10 : n.toFixed(1)) + units[i];
}

// series: [{ name, values: [number...] }]; capacity: samples on the x axis.
export function drawChart(container, series, capacity, label) {
  const W = 360, H = 150, L = 44, B = 10, T = 8;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label });
  for (let i = 0; i <= 4; i++) {
    const y = T + (H - T - B) * i / 4;
    svg.append(el("line", { x1: L, x2: W, y1: y, y2: y, stroke: "#e4e8ee" }));
    const t = el("text", { x: L - 4, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6475" });
    t.textContent = human(max * (4 - i) / 4);
    svg.append(t);
  }
  series.forEach((s, idx) => {
    if (!s.values.length) return;
    const off = capacity - s.values.length;
    const pts = s.values.map((v, i) => {
      const x = L + (W - L) * (off + i) / Math.max(1, capacity - 1);
      const y = T + (H - T - B) * (1 - v / max);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    }).join(" ");
    svg.append(el("polyline", { points: pts, fill: "none", stroke: COLORS[idx % COLORS.length], "stroke-width": 2 }));
  });
  const legend = document.createElement("div");
  legend.className = "legend";
  series.forEach((s, idx) => {
    const span = document.createElement("span");
    span.style.setProperty("--c", COLORS[idx % COLORS.length]);
    const last = s.values.length ? s.values[s.values.length - 1] : 0;
    span.textContent = `${s.name}: ${human(last)}`;
    legend.append(span);
  });
  container.replaceChildren(svg, legend);
}
