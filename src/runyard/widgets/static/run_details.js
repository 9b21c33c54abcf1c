// RunDetails: the front end of Runyard's notebook widget (anywidget's render({model, el})).
// It draws what the kernel puts in the widget's traitlets (header, series, log, tuning,
// loaded, done, problem) and never calls a server. Plain ES module, no dependencies: the charts
// are SVG drawn here.

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];
const X_LABELS = { step: "step", index: "value #", time: "seconds" };
const STATUS_CLASS = {
  Completed: "ok", Failed: "bad", Canceled: "bad", CancelRequested: "bad",
  Running: "live", Finalizing: "live", Preparing: "wait", Starting: "wait",
  Queued: "wait", NotStarted: "wait",
};

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function s(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

function fmt(value) {
  if (value == null || Number.isNaN(value)) return "";
  if (Number.isInteger(value)) return String(value);
  const a = Math.abs(value);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? value.toExponential(2) : String(+value.toPrecision(4));
}

function duration(header) {
  if (!header.started_at) return "";
  const end = header.ended_at || Date.now() / 1000;
  const secs = Math.max(0, Math.round(end - header.started_at));
  const m = Math.floor(secs / 60), sec = secs % 60;
  return m ? `${m} min ${sec} s` : `${sec} s`;
}

// A scale from [lo, hi] onto [a, b]; a flat range maps to the middle.
function scale(lo, hi, a, b, log = false) {
  const f = log ? Math.log : (v) => v;
  const l = f(lo), r = f(hi);
  if (!(r > l)) return () => (a + b) / 2;
  return (v) => a + ((f(v) - l) / (r - l)) * (b - a);
}

function extent(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (v != null && Number.isFinite(v)) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

function ticks(lo, hi, count = 4, whole = false) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((k) => k * mag).find((k) => k >= raw) || raw;
  if (whole) step = Math.max(1, Math.round(step));
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

// The SVG path of one line; a null value breaks it (a gap).
export function linePath(xs, ys, sx, sy) {
  let d = "", pen = false;
  for (let i = 0; i < xs.length; i++) {
    if (ys[i] == null) { pen = false; continue; }
    d += `${pen ? "L" : "M"}${sx(xs[i]).toFixed(1)},${sy(ys[i]).toFixed(1)}`;
    pen = true;
  }
  return d;
}

// One chart: lines = [{label, x, y, color}], all on one x kind.
export function lineChart(title, lines, xLabel, subtitle = "") {
  const W = 340, H = 210, L = 48, R = 10, T = 26, B = 30;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "ry-chart", role: "img" });
  svg.setAttribute("aria-label", `${title} chart`);
  const head = s("text", { x: L, y: 14, class: "ry-title" });
  head.textContent = subtitle ? `${title}  (${subtitle})` : title;
  svg.append(head);
  const xe = extent(lines.flatMap((l) => l.x)), ye = extent(lines.flatMap((l) => l.y));
  if (!xe || !ye) {
    const none = s("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "ry-muted" });
    none.textContent = "no finite values yet";
    svg.append(none);
    return svg;
  }
  const sx = scale(xe[0], xe[1], L, W - R), sy = scale(ye[0], ye[1], H - B, T);
  for (const t of ticks(ye[0], ye[1])) {
    svg.append(s("line", { x1: L, x2: W - R, y1: sy(t), y2: sy(t), class: "ry-grid" }));
    const label = s("text", { x: L - 4, y: sy(t) + 3, "text-anchor": "end", class: "ry-tick" });
    label.textContent = fmt(t);
    svg.append(label);
  }
  const whole = lines.every((l) => l.x.every(Number.isInteger));
  for (const t of ticks(xe[0], xe[1], 4, whole)) {
    const label = s("text", { x: sx(t), y: H - B + 13, "text-anchor": "middle", class: "ry-tick" });
    label.textContent = fmt(t);
    svg.append(label);
  }
  svg.append(s("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "ry-axis" }));
  const xl = s("text", { x: (L + W - R) / 2, y: H - 3, "text-anchor": "middle", class: "ry-tick" });
  xl.textContent = xLabel;
  svg.append(xl);
  lines.forEach((line) => {
    const path = s("path", { d: linePath(line.x, line.y, sx, sy), stroke: line.color, class: "ry-line" });
    path.setAttribute("data-points", String(line.y.filter((v) => v != null).length));
    const tip = s("title");
    tip.textContent = line.label;
    path.append(tip);
    svg.append(path);
  });
  return svg;
}

function drawHeader(box, header, done, problem) {
  box.replaceChildren();
  if (!header || !header.run_id) return;
  const status = h("span", { class: `ry-status ry-${STATUS_CLASS[header.status] || "wait"}`, text: header.status });
  status.setAttribute("data-status", header.status);
  const parts = [
    status,
    h("strong", { text: header.display_name || header.run_id }),
    h("span", {
      class: "ry-muted",
      text: `${header.run_type} run${header.display_name && header.display_name !== header.run_id ? ` ${header.run_id}` : ""}` +
        ` · experiment ${header.experiment}`,
    }),
  ];
  if (header.target) parts.push(h("span", { class: "ry-muted", text: `on ${header.target}` }));
  const took = duration(header);
  if (took) parts.push(h("span", { class: "ry-muted", text: took }));
  if (header.page_url) parts.push(h("a", { href: header.page_url, target: "_blank", rel: "noopener", text: "run page" }));
  parts.push(h("span", { class: "ry-muted", text: done ? "· ended" : "· live" }));
  box.append(h("div", { class: "ry-head" }, ...parts));
  if (header.error) box.append(h("div", { class: "ry-error", text: `Error: ${header.error}` }));
  if (problem) box.append(h("div", { class: "ry-problem", text: `Cannot read the run: ${problem}` }));
}

function drawCharts(box, series, tuning, loaded) {
  box.replaceChildren();
  if (!loaded) {
    box.append(h("div", { class: "ry-muted", text: "Reading the run's metrics…" }));
    return;
  }
  const charts = [];
  if (tuning && tuning.child_series) {
    const lines = Object.entries(tuning.child_series).map(([runId, one], i) => ({
      label: runId, x: one.x, y: one.y, color: PALETTE[i % PALETTE.length], kind: one.x_kind,
    }));
    if (lines.length) {
      charts.push(lineChart(`${tuning.primary_metric} by child`, lines, X_LABELS[lines[0].kind] || ""));
    }
  }
  (series || []).forEach((one, i) => {
    const line = { label: one.name, x: one.x, y: one.y, color: PALETTE[i % PALETTE.length] };
    charts.push(lineChart(one.name, [line], X_LABELS[one.x_kind] || "", `last ${one.last}`));
  });
  if (!charts.length) {
    box.append(h("div", { class: "ry-muted", text: "No metrics logged yet." }));
    return;
  }
  box.append(h("div", { class: "ry-charts" }, ...charts));
}

function drawTable(tuning) {
  const names = [];
  for (const row of tuning.children) for (const k of Object.keys(row.hyperparameters)) {
    if (!names.includes(k)) names.push(k);
  }
  const head = h("tr", {}, ...["#", "Run", "Status", tuning.primary_metric, ...names].map((t) => h("th", { text: t })));
  const body = tuning.children.map((row) => {
    const tr = h("tr", {},
      h("td", { text: String(row.number) }),
      h("td", { text: row.run_id }),
      h("td", { text: row.status }),
      h("td", { class: "ry-num", text: row.primary_metric_text }),
      ...names.map((k) => h("td", { text: k in row.hyperparameters ? String(row.hyperparameters[k]) : "" })));
    tr.setAttribute("data-run-id", row.run_id);
    if (row.run_id === tuning.parallel.best_run_id) tr.className = "ry-best";
    return tr;
  });
  return h("table", { class: "ry-table" }, h("thead", {}, head), h("tbody", {}, ...body));
}

// Parallel coordinates: one vertical axis per hyperparameter and one for the metric.
export function parallelChart(parallel, goal) {
  const axes = parallel.axes, n = axes.length;
  const W = Math.max(360, 130 * n), H = 250, T = 34, B = 24, L = 50, R = 50;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "ry-parallel", role: "img" });
  svg.setAttribute("aria-label", "parallel coordinates");
  const xs = axes.map((_, i) => (n === 1 ? W / 2 : L + (i * (W - L - R)) / (n - 1)));
  const ys = axes.map((axis) => {
    if (axis.kind === "category") {
      const k = axis.categories.length;
      return (v) => (k <= 1 ? (T + H - B) / 2 : H - B - (axis.categories.indexOf(v) * (H - B - T)) / (k - 1));
    }
    return axis.low == null ? () => (T + H - B) / 2 : scale(axis.low, axis.high, H - B, T, axis.log);
  });
  const metric = axes[n - 1];
  const colour = metric.low == null ? () => 0.5 : scale(metric.low, metric.high, 0, 1);
  parallel.lines.forEach((line) => {
    const points = [];
    line.values.forEach((v, i) => { if (v != null) points.push(`${xs[i].toFixed(1)},${ys[i](v).toFixed(1)}`); });
    const last = line.values[n - 1];
    let t = last == null ? 0.5 : colour(last);
    if (goal === "minimize") t = 1 - t;
    const best = line.run_id === parallel.best_run_id;
    const poly = s("polyline", {
      points: points.join(" "), class: best ? "ry-pline ry-pbest" : "ry-pline",
      stroke: `hsl(${Math.round(10 + 200 * t)}, 70%, 45%)`,
    });
    poly.setAttribute("data-run-id", line.run_id);
    const tip = s("title");
    tip.textContent = `${line.run_id}: ${line.values.map((v) => (typeof v === "number" ? fmt(v) : v)).join(", ")}`;
    poly.append(tip);
    svg.append(poly);
  });
  axes.forEach((axis, i) => {
    svg.append(s("line", { x1: xs[i], x2: xs[i], y1: T, y2: H - B, class: "ry-axis" }));
    const name = s("text", { x: xs[i], y: 14, "text-anchor": "middle", class: "ry-title" });
    name.textContent = axis.log ? `${axis.name} (log)` : axis.name;
    svg.append(name);
    const labels = axis.kind === "category"
      ? axis.categories.map((c) => [c, ys[i](c)])
      : axis.low == null ? [] : [[fmt(axis.high), T], [fmt(axis.low), H - B]];
    for (const [text, y] of labels) {
      const label = s("text", { x: xs[i] + 4, y: y + 3, class: "ry-tick" });
      label.textContent = text;
      svg.append(label);
    }
  });
  return svg;
}

function drawTuning(box, tuning) {
  box.replaceChildren();
  if (!tuning || !tuning.children) return;
  const done = tuning.children.filter((c) => ["Completed", "Failed", "Canceled"].includes(c.status)).length;
  box.append(h("h4", {
    text: `Child runs: ${tuning.children.length} of at most ${tuning.max_total_runs} (${done} ended) · ` +
      `primary metric ${tuning.primary_metric}, ${tuning.goal}`,
  }));
  if (!tuning.children.length) return;
  box.append(h("div", { class: "ry-scroll" }, drawTable(tuning)));
  if (tuning.parallel.lines.length) box.append(h("div", { class: "ry-scroll" }, parallelChart(tuning.parallel, tuning.goal)));
}

function drawLog(box, log) {
  const pre = box.querySelector("pre") || h("pre", { class: "ry-log" });
  const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8;
  box.replaceChildren(h("h4", { text: log && log.name ? `Log: ${log.name}` : "Log" }), pre);
  pre.textContent = log && log.text ? log.text : "(nothing yet)";
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

function render({ model, el }) {
  const header = h("div"), charts = h("div"), tuning = h("div"), log = h("div");
  el.append(h("div", { class: "runyard-run-details" }, header, charts, tuning, log));
  const redrawHeader = () => drawHeader(header, model.get("header"), model.get("done"), model.get("problem"));
  const redrawCharts = () =>
    drawCharts(charts, model.get("series"), model.get("tuning"), model.get("loaded"));
  const redrawTuning = () => drawTuning(tuning, model.get("tuning"));
  const redrawLog = () => drawLog(log, model.get("log"));
  const handlers = [
    ["change:header change:done change:problem", redrawHeader],
    ["change:series change:loaded", redrawCharts],
    ["change:tuning", () => { redrawCharts(); redrawTuning(); }],
    ["change:log", redrawLog],
  ];
  for (const [events, fn] of handlers) for (const ev of events.split(" ")) model.on(ev, fn);
  redrawHeader(); redrawCharts(); redrawTuning(); redrawLog();
  // A running run's duration grows between two updates.
  const clock = setInterval(() => { if (!model.get("done")) redrawHeader(); }, 1000);
  return () => {
    clearInterval(clock);
    for (const [events, fn] of handlers) for (const ev of events.split(" ")) model.off(ev, fn);
  };
}

export default { render };
