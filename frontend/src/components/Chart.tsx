// A line chart (uPlot) of several series: smoothing, log scale, x by step or time, and
// drag-to-zoom that asks the server for the range again (refined data, not just magnified).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Line { label: string; x: number[]; y: (number | null)[] }

export interface ChartProps {
  title: string;
  lines: Line[];
  xMode: "step" | "time";
  logScale?: boolean;
  smoothing?: number;
  zoom?: [number, number] | null;
  onZoom?: (range: [number, number] | null) => void;
  points?: boolean;
  xLabel?: string;
  height?: number;
}

export const PALETTE = [
  "#2f6fde", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8",
  "#0c8599", "#e67700", "#5c940d", "#862e9c", "#495057",
];

/** Exponential moving average with TensorBoard's debiasing; gaps stay gaps. */
export function smooth(y: (number | null)[], weight: number): (number | null)[] {
  if (!weight) return y;
  let last = 0, n = 0;
  return y.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    n += 1;
    return last / (1 - Math.pow(weight, n));
  });
}

function aligned(lines: Line[], smoothing: number, logScale: boolean): uPlot.AlignedData {
  const tables = lines.map((line) => {
    let y = smooth(line.y, smoothing);
    if (logScale) y = y.map((v) => (v !== null && v > 0 ? v : null));
    return [line.x, y] as [number[], (number | null)[]];
  });
  if (tables.length === 0) return [[]];
  if (tables.length === 1) return [tables[0][0], tables[0][1]] as uPlot.AlignedData;
  return uPlot.join(tables as uPlot.AlignedData[]);
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { lines, xMode, logScale = false, smoothing = 0, zoom = null, points = false } = props;
  const onZoom = useRef(props.onZoom);
  onZoom.current = props.onZoom;

  useEffect(() => {
    const el = box.current!;
    const ink = cssVar("--ink", "#222");
    const grid = cssVar("--grid", "rgba(128,128,128,0.2)");
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 260,
      legend: { show: lines.length <= 12 },
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: {
        x: { time: xMode === "time", ...(zoom ? { auto: false, range: () => zoom } : {}) },
        y: logScale ? { distr: 3 } : {},
      },
      axes: [{ ...axis, label: props.xLabel }, { ...axis }],
      series: [
        { label: props.xLabel ?? (xMode === "time" ? "time" : "step") },
        ...lines.map((line, i) => ({
          label: line.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps: true,
          points: points || line.x.length < 60 ? { show: true, size: points ? 6 : 4, fill: PALETTE[i % PALETTE.length] } : { show: false },
          paths: points ? () => null : undefined,
        })),
      ],
      hooks: {
        setSelect: [
          (u: uPlot) => {
            if (u.select.width < 2) return;
            const lo = u.posToVal(u.select.left, "x");
            const hi = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            onZoom.current?.([lo, hi]);
          },
        ],
      },
    };
    const u = new uPlot(opts, aligned(lines, smoothing, logScale), el);
    plot.current = u;
    (el as any).__uplot = u; // tests and benchmarks read what was drawn
    const reset = () => onZoom.current?.(null);
    u.over.addEventListener("dblclick", reset);
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: opts.height }));
    resize.observe(el);
    // Marked drawn once it holds values (an empty first render while the data loads is not
    // a drawn chart); tests and benchmarks wait for this and read how many points it drew.
    const drawn = lines.reduce((n, line) => n + line.x.length, 0);
    if (drawn) el.dataset.drawn = String(Date.now());
    else delete el.dataset.drawn;
    el.dataset.points = String(drawn);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [lines, xMode, logScale, smoothing, zoom, points]);

  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" data-title={props.title} />
    </figure>
  );
}

export interface ChartControls { smoothing: number; logScale: boolean; xMode: "step" | "time" }

export function ChartToolbar({ value, onChange }: { value: ChartControls; onChange: (c: ChartControls) => void }) {
  return (
    <div class="toolbar" role="group" aria-label="Chart settings">
      <label>
        Smoothing{" "}
        <input
          type="range" min="0" max="0.99" step="0.01" value={value.smoothing}
          onInput={(e) => onChange({ ...value, smoothing: Number((e.target as HTMLInputElement).value) })}
        />{" "}
        <output>{value.smoothing.toFixed(2)}</output>
      </label>
      <label>
        <input
          type="checkbox" checked={value.logScale}
          onChange={(e) => onChange({ ...value, logScale: (e.target as HTMLInputElement).checked })}
        />{" "}
        Log scale
      </label>
      <label>
        x axis{" "}
        <select
          value={value.xMode}
          onChange={(e) => onChange({ ...value, xMode: (e.target as HTMLSelectElement).value as "step" | "time" })}
        >
          <option value="step">step</option>
          <option value="time">time</option>
        </select>
      </label>
      <span class="hint">Drag across a chart to zoom (refined from the server); double-click to reset.</span>
    </div>
  );
}
