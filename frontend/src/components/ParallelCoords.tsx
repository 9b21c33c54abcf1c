// Parallel coordinates: one vertical axis per hyperparameter and one for the metric, one
// line per run, coloured by the metric (drawn on a canvas).
import { useEffect, useRef } from "preact/hooks";

export interface Axis { name: string; values: (number | string | null)[] }

function scaleOf(values: (number | string | null)[]): (v: number | string | null) => number | null {
  const present = values.filter((v) => v !== null && v !== "");
  const numeric = present.every((v) => typeof v === "number" || !Number.isNaN(Number(v)));
  if (numeric) {
    const nums = present.map(Number);
    const lo = Math.min(...nums), hi = Math.max(...nums);
    return (v) => (v === null || v === "" ? null : hi === lo ? 0.5 : (Number(v) - lo) / (hi - lo));
  }
  const cats = [...new Set(present.map(String))].sort();
  return (v) => (v === null ? null : cats.length === 1 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1));
}

function label(values: (number | string | null)[], top: boolean): string {
  const present = values.filter((v) => v !== null && v !== "");
  const nums = present.map(Number);
  if (present.length && nums.every((n) => !Number.isNaN(n))) {
    const v = top ? Math.max(...nums) : Math.min(...nums);
    return String(Number(v.toPrecision(4)));
  }
  const cats = [...new Set(present.map(String))].sort();
  return (top ? cats[cats.length - 1] : cats[0]) ?? "";
}

export function ParallelCoords({ axes, runs }: { axes: Axis[]; runs: string[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const el = canvas.current!;
    const ratio = window.devicePixelRatio || 1;
    const width = el.clientWidth || 800, height = 300;
    el.width = width * ratio;
    el.height = height * ratio;
    const ctx = el.getContext("2d")!;
    ctx.scale(ratio, ratio);
    const ink = getComputedStyle(document.documentElement).getPropertyValue("--ink").trim() || "#222";
    const pad = { l: 40, r: 40, t: 30, b: 30 };
    const xs = axes.map((_, i) => pad.l + (axes.length > 1 ? (i * (width - pad.l - pad.r)) / (axes.length - 1) : 0));
    const scales = axes.map((a) => scaleOf(a.values));
    const y = (t: number) => pad.t + (1 - t) * (height - pad.t - pad.b);
    const metric = scales[scales.length - 1];
    const drawn: { run: string; points: [number, number][] }[] = [];
    runs.forEach((run, r) => {
      const tone = metric?.(axes[axes.length - 1]?.values[r] ?? null);
      ctx.strokeStyle = tone === null || tone === undefined ? "rgba(128,128,128,0.5)" : `hsl(${240 - 200 * tone}, 70%, 50%)`;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      const points: [number, number][] = [];
      axes.forEach((a, i) => {
        const t = scales[i](a.values[r]);
        if (t === null) return;
        points.push([xs[i], y(t)]);
        if (points.length === 1) ctx.moveTo(xs[i], y(t)); else ctx.lineTo(xs[i], y(t));
      });
      ctx.stroke();
      drawn.push({ run, points });
    });
    ctx.fillStyle = ink;
    ctx.strokeStyle = ink;
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    axes.forEach((a, i) => {
      ctx.beginPath();
      ctx.moveTo(xs[i], y(0));
      ctx.lineTo(xs[i], y(1));
      ctx.stroke();
      ctx.fillText(a.name, xs[i], 14);
      ctx.fillText(label(a.values, true), xs[i], y(1) - 4 + 0);
      ctx.fillText(label(a.values, false), xs[i], y(0) + 14);
    });
    (el as any).__drawn = drawn; // tests read what was drawn
  }, [axes, runs]);
  return <canvas ref={canvas} class="parcoords" style={{ width: "100%", height: "300px" }} role="img" aria-label={`Parallel coordinates of ${axes.map((a) => a.name).join(", ")}`} />;
}
