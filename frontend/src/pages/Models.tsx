import { useEffect, useState } from "preact/hooks";
import { api, enc } from "../api";
import { when } from "../format";
import { DownloadLink } from "../components/AuthFiles";

export function ModelsPage({ ws }: { ws: string }) {
  const [models, setModels] = useState<any[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => { api.models(ws).then((r) => setModels(r.models), (e: Error) => setError(e.message)); }, [ws]);
  return (
    <main class="page">
      <h1>Models</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {models === null ? <p role="status">Loading…</p> : models.length === 0 ? <p>No registered models yet: run.register_model(name, model_path=...).</p> : (
        <table class="grid-table">
          <thead><tr><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Registered</th><th scope="col">Framework</th><th scope="col">Tags</th><th scope="col">Properties</th><th scope="col">Run</th><th scope="col">Files</th></tr></thead>
          <tbody>
            {models.map((m) => (
              <tr key={`${m.name}:${m.version}`} id={m.name}>
                <td>{m.name}</td>
                <td class="num">{m.version}</td>
                <td>{when(m.created_at)}</td>
                <td>{m.framework ?? ""}</td>
                <td>{Object.entries(m.tags).map(([k, v]) => <span class="chip" key={k}>{k}={String(v)}</span>)}</td>
                <td>{Object.entries(m.properties).map(([k, v]) => <span class="chip" key={k}>{k}={String(v)}</span>)}</td>
                <td>{m.run_id ? <a href={`/w/${enc(ws)}/runs/${enc(m.run_id)}`}>{m.run_id}</a> : ""}</td>
                <td>
                  {(m.files as string[]).map((f) => (
                    <DownloadLink key={f} name={f} label={f} href={`/api/v1/workspaces/${enc(ws)}/ui/models/${enc(m.name)}/${m.version}/files/${f.split("/").map(enc).join("/")}`} />
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
