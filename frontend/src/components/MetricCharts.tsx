// One chart per metric name, one line per run; a live run's charts reload when its event
// stream says a value was logged (``version`` goes up), a zoom refetches that chart's range
// from the server.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, num, Series } from "../api";
import { Chart, ChartControls, Line } from "./Chart";

interface Props {
  ws: string;
  runs: string[];
  labels?: Record<string, string>;
  names: string[];
  controls: ChartControls;
  version?: number;
}

function toLines(series: Series[], name: string, runs: string[], labels?: Record<string, string>): Line[] {
  const byRun = new Map(series.filter((s) => s.name === name).map((s) => [s.run_id, s]));
  return runs
    .filter((r) => byRun.has(r))
    .map((r) => {
      const s = byRun.get(r)!;
      return { label: labels?.[r] ?? r, x: s.x, y: s.y.map(num) };
    });
}

export function MetricCharts({ ws, runs, labels, names, controls, version = 0 }: Props) {
  const [series, setSeries] = useState<Series[]>([]);
  const [zooms, setZooms] = useState<Record<string, [number, number] | null>>({});
  const [zoomed, setZoomed] = useState<Record<string, Series[]>>({});
  const [error, setError] = useState<string | null>(null);
  const runKey = runs.join(","), nameKey = names.join("\u0000");

  useEffect(() => {
    if (!runs.length || !names.length) return;
    let stop = false;
    const controller = new AbortController();
    api.series(ws, { runs, names, x: controls.xMode, max_points: 1000 }, controller.signal).then(
      (r) => {
        if (stop) return;
        setSeries(r.series);
        setError(null);
      },
      (e: Error) => !stop && e.name !== "AbortError" && setError(e.message),
    );
    return () => { stop = true; controller.abort(); };
  }, [ws, runKey, nameKey, controls.xMode, version]);

  useEffect(() => { setZooms({}); setZoomed({}); }, [controls.xMode, runKey]);

  const zoomTo = (name: string, range: [number, number] | null) => {
    setZooms((z) => ({ ...z, [name]: range }));
    if (!range) return setZoomed((z) => { const { [name]: _, ...rest } = z; return rest; });
    api.series(ws, { runs, names: [name], x: controls.xMode, x_min: range[0], x_max: range[1], max_points: 1000 })
      .then((r) => setZoomed((z) => ({ ...z, [name]: r.series })), (e: Error) => setError(e.message));
  };

  const charts = useMemo(
    () => names.map((name) => ({ name, lines: toLines(zoomed[name] ?? series, name, runs, labels) })),
    [series, zoomed, nameKey, runKey, labels],
  );
  return (
    <div class="charts">
      {error && <p class="error" role="alert">{error}</p>}
      {charts.map(({ name, lines }) => (
        <div key={name}>
          <Chart
            title={name}
            lines={lines}
            xMode={controls.xMode}
            logScale={controls.logScale}
            smoothing={controls.smoothing}
            zoom={zooms[name] ?? null}
            onZoom={(range) => zoomTo(name, range)}
          />
          {zooms[name] && (
            <button type="button" class="link" onClick={() => zoomTo(name, null)}>Reset zoom of {name}</button>
          )}
        </div>
      ))}
    </div>
  );
}
