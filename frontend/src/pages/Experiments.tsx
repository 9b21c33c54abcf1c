import { useEffect, useState } from "preact/hooks";
import { api, ExperimentSummary } from "../api";
import { ago, when } from "../format";
import { setQuery } from "../router";

export function ExperimentsPage({ ws, query }: { ws: string; query: URLSearchParams }) {
  const q = query.get("q") ?? "";
  const [items, setItems] = useState<ExperimentSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const timer = setTimeout(() => api.experiments(ws, q).then((r) => setItems(r.experiments), (e: Error) => setError(e.message)), q ? 150 : 0);
    return () => clearTimeout(timer);
  }, [ws, q]);
  return (
    <main class="page">
      <h1>Experiments</h1>
      <div class="toolbar">
        <label>
          Search{" "}
          <input
            type="search" value={q} placeholder="experiment name" aria-label="Search experiments"
            onInput={(e) => setQuery({ q: (e.target as HTMLInputElement).value })}
          />
        </label>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {items === null ? (
        <p role="status">Loading…</p>
      ) : items.length === 0 ? (
        <p>{q ? `No experiment matches “${q}”.` : "No experiments yet: log a run with Experiment(ws, name).start_logging()."}</p>
      ) : (
        <table class="grid-table">
          <thead>
            <tr><th scope="col">Experiment</th><th scope="col">Runs</th><th scope="col">Active</th><th scope="col">Last activity</th><th scope="col">Created</th></tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.name}>
                <td><a href={`/w/${encodeURIComponent(ws)}/experiments/${encodeURIComponent(e.name)}`}>{e.name}</a></td>
                <td class="num">{e.run_count}</td>
                <td class="num">{e.active_count || ""}</td>
                <td title={when(e.last_activity)}>{ago(e.last_activity)}</td>
                <td>{when(e.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
