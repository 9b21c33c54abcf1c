import { useEffect, useState } from "preact/hooks";
import { api, enc } from "../api";
import { when } from "../format";

export function ComputePage({ ws }: { ws: string }) {
  const [targets, setTargets] = useState<any[] | null>(null);
  const [services, setServices] = useState<any[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.compute(ws).then((r) => setTargets(r.targets), (e: Error) => setError(e.message));
    api.services(ws).then((r) => setServices(r.services), (e: Error) => setError(e.message));
  }, [ws]);
  return (
    <main class="page">
      <h1>Compute targets</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {targets === null ? <p role="status">Loading…</p> : targets.length === 0 ? <p>No compute targets: runs go to the local machine.</p> : (
        <table class="grid-table">
          <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">State</th><th scope="col">Configuration</th><th scope="col">Queued and running runs</th></tr></thead>
          <tbody>
            {targets.map((t) => (
              <tr key={t.name}>
                <td>{t.name}</td><td>{t.kind}</td><td>{t.state}</td>
                <td><code>{Object.entries(t.config).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ")}</code></td>
                <td>{t.active_runs.length === 0 ? "none" : t.active_runs.map((r: any) => <a key={r.run_id} class="chip" href={`/w/${enc(ws)}/runs/${enc(r.run_id)}`}>{r.run_id} ({r.status})</a>)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h1>Web services</h1>
      {services === null ? <p role="status">Loading…</p> : services.length === 0 ? <p>No web services: deploy a model with Model.deploy(...) or runyard service.</p> : (
        <table class="grid-table">
          <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">State</th><th scope="col">Scoring URI</th><th scope="col">Models</th><th scope="col">Updated</th><th scope="col">Error</th></tr></thead>
          <tbody>
            {services.map((s) => (
              <tr key={s.name}>
                <td>{s.name}</td><td>{s.compute_type}</td><td>{s.state}</td>
                <td>{s.scoring_uri ? <code>{s.scoring_uri}</code> : ""}</td>
                <td>{(s.models as string[]).join(", ")}</td>
                <td>{when(s.updated_at)}</td>
                <td>{s.error ? <details><summary>{s.error.message ?? "error"}</summary><pre class="code">{s.error.log_tail ?? ""}</pre></details> : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
