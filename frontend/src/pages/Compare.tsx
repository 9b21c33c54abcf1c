// Compare runs: overlaid metric charts, a parameter and metric diff table, and for tuning
// a parallel-coordinates chart of the parameters against a metric plus a scatter plot.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, num, RunRow } from "../api";
import { value } from "../format";
import { setQuery } from "../router";
import { Chart, ChartControls, ChartToolbar } from "../components/Chart";
import { MetricCharts } from "../components/MetricCharts";
import { ParallelCoords } from "../components/ParallelCoords";

export function ComparePage({ ws, query }: { ws: string; query: URLSearchParams }) {
  const runs = (query.get("runs") ?? "").split(",").filter(Boolean);
  const [rows, setRows] = useState<RunRow[] | null>(null);
  const [metricNames, setMetricNames] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [onlyDiff, setOnlyDiff] = useState(false);
  const [controls, setControls] = useState<ChartControls>({ smoothing: 0, logScale: false, xMode: "step" });
  const [picked, setPicked] = useState("");
  useEffect(() => {
    if (runs.length === 0) return;
    api.rows(ws, runs, []).then(
      (first) => {
        const columns = first.metric_names.flatMap((m) => [`metric:${m}:last`, `metric:${m}:min`, `metric:${m}:max`]);
        // The charts start from the first answer; the diff table's metric columns follow.
        setMetricNames(first.metric_names);
        setRows(first.rows);
        return columns.length ? api.rows(ws, runs, columns).then((r) => setRows(r.rows)) : undefined;
      },
    ).catch((e: Error) => setError(e.message));
  }, [ws, runs.join(",")]);
  // Keyed by the names themselves: the rows come twice (without, then with metric columns),
  // and the charts are redrawn only when a label changes.
  const labelKey = (rows ?? []).map((r) => `${r.run_id}\u0000${r.display_name}`).join("\u0001");
  const labels = useMemo(() => Object.fromEntries((rows ?? []).map((r) => [r.run_id, `${r.display_name}`])), [labelKey]);

  if (runs.length === 0)
    return <main class="page"><h1>Compare runs</h1><p>Select two or more runs in an experiment's runs table, then press Compare.</p></main>;
  if (error) return <main class="page"><p class="error" role="alert">{error}</p></main>;
  if (!rows) return <main class="page"><p role="status">Loading runs…</p></main>;
  const params = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
  const metricCols = metricNames.flatMap((m) => [`metric:${m}:last`, `metric:${m}:min`, `metric:${m}:max`]);
  const lines = [
    ...params.map((p) => ({ id: `param:${p}`, label: p, kind: "parameter", values: rows.map((r) => r.params[p] ?? null) })),
    ...metricCols.map((c) => ({ id: c, label: c.slice(7), kind: "metric", values: rows.map((r) => r.metrics[c] ?? null) })),
  ];
  const differs = (values: unknown[]) => new Set(values.map((v) => JSON.stringify(v))).size > 1;
  const primary = picked || (metricNames[0] ? `metric:${metricNames[0]}:last` : "");
  const primaryValues = rows.map((r) => num(r.metrics[primary] as number | string | null));
  return (
    <main class="page">
      <h1>Compare {rows.length} runs</h1>
      <p>{rows.map((r) => <a key={r.run_id} class="chip" href={`/w/${encodeURIComponent(ws)}/runs/${encodeURIComponent(r.run_id)}`}>{r.display_name}</a>)}</p>
      <h2>Parameters and metrics</h2>
      <label><input type="checkbox" checked={onlyDiff} onChange={() => setOnlyDiff(!onlyDiff)} /> Only rows that differ</label>
      <table class="grid-table diff">
        <thead><tr><th scope="col">Name</th>{rows.map((r) => <th scope="col" key={r.run_id}>{r.display_name}</th>)}</tr></thead>
        <tbody>
          {lines.filter((l) => !onlyDiff || differs(l.values)).map((l) => (
            <tr key={l.id} class={differs(l.values) ? "differs" : ""} data-row={l.id}>
              <th scope="row">{l.label} <span class="muted">{l.kind}</span></th>
              {l.values.map((v, i) => <td key={i} class="num">{value(v)}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
      {metricNames.length > 0 && (
        <>
          <h2>Metrics</h2>
          <ChartToolbar value={controls} onChange={setControls} />
          <MetricCharts ws={ws} runs={runs} labels={labels} names={metricNames} controls={controls} />
        </>
      )}
      {params.length > 0 && primary && (
        <>
          <h2>Parameters against a metric</h2>
          <label>
            Metric{" "}
            <select value={primary} onChange={(e) => setPicked((e.target as HTMLSelectElement).value)}>
              {metricCols.map((c) => <option key={c} value={c}>{c.slice(7)}</option>)}
            </select>
          </label>
          <ParallelCoords
            runs={rows.map((r) => r.run_id)}
            axes={[...params.map((p) => ({ name: p, values: rows.map((r) => r.params[p] ?? null) })), { name: primary.slice(7), values: primaryValues }]}
          />
          <Scatter rows={rows} params={params} metric={primary} values={primaryValues} query={query} />
        </>
      )}
    </main>
  );
}

function Scatter({ rows, params, metric, values, query }: { rows: RunRow[]; params: string[]; metric: string; values: (number | null)[]; query: URLSearchParams }) {
  const param = query.get("x") && params.includes(query.get("x")!) ? query.get("x")! : params[0];
  const points = rows
    .map((r, i) => ({ x: Number(r.params[param]), y: values[i] }))
    .filter((p) => Number.isFinite(p.x))
    .sort((a, b) => a.x - b.x);
  const lines = useMemo(() => [{ label: metric.slice(7), x: points.map((p) => p.x), y: points.map((p) => p.y) }], [JSON.stringify(points)]);
  return (
    <div>
      <label>
        Scatter against{" "}
        <select value={param} onChange={(e) => setQuery({ x: (e.target as HTMLSelectElement).value })}>
          {params.map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
      </label>
      {points.length ? <Chart title={`${metric.slice(7)} by ${param}`} lines={lines} xMode="step" xLabel={param} points /> : <p>{param} is not a number in these runs.</p>}
    </div>
  );
}
