// Edit controls of a run: shown only to contributors (and up), and only where the server
// has the route that carries them out.
import { useState } from "preact/hooks";
import { call, enc, RunRecord } from "../api";
import { useCanEdit } from "../session";

const TAGS_ROUTE = "/api/v1/workspaces/{workspace}/runs/{run_id}/tags";

export function RunEditControls({ ws, run }: { ws: string; run: RunRecord }) {
  const canTag = useCanEdit(TAGS_ROUTE);
  const [name, setName] = useState("");
  const [val, setVal] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  if (!canTag) return null;
  const add = (e: Event) => {
    e.preventDefault();
    call("PUT", `/workspaces/${enc(ws)}/runs/${enc(run.run_id)}/tags`, { tags: { [name]: val } }).then(
      () => { setMessage(`Tag ${name} set; it shows on the next refresh.`); setName(""); setVal(""); },
      (err: Error) => setMessage(err.message),
    );
  };
  return (
    <form class="edit-controls toolbar" onSubmit={add} aria-label="Edit run">
      <input required placeholder="tag" aria-label="Tag name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      <input placeholder="value" aria-label="Tag value" value={val} onInput={(e) => setVal((e.target as HTMLInputElement).value)} />
      <button type="submit">Set tag</button>
      {message && <span role="status">{message}</span>}
    </form>
  );
}
