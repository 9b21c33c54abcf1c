// A run's logs, followed live: new bytes are read from the last offset each time the
// run's event stream says a log grew (``version`` goes up), until the run has ended.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, fileUrl } from "../api";
import { DownloadLink } from "./AuthFiles";

const KEEP_CHARS = 2_000_000; // what the page keeps of a very long log (the newest part)

export function LogTail({ ws, runId, version, ended }: { ws: string; runId: string; version: number; ended: boolean }) {
  const [logs, setLogs] = useState<string[] | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [follow, setFollow] = useState(true);
  const pre = useRef<HTMLPreElement>(null);
  const offset = useRef(0);
  // Until the reader picks one: the script's output once it exists, else the first log.
  const name = chosen ?? logs?.find((l) => l.endsWith("driver.txt")) ?? logs?.[0] ?? null;

  useEffect(() => {
    let stop = false;
    api.files(ws, runId).then((r) => !stop && setLogs(r.logs)); // new logs appear as it runs
    return () => { stop = true; };
  }, [ws, runId, version]);

  useEffect(() => { offset.current = 0; setText(""); }, [ws, runId, name]);

  useEffect(() => {
    if (!name) return;
    let stop = false;
    // A read still in flight when the next change comes is dropped (stop), and the next
    // read starts from the offset the last kept read reached: no byte twice, none lost.
    const read = (): Promise<void> => api.tail(ws, runId, name, offset.current).then((t) => {
      if (stop) return;
      offset.current = t.offset;
      if (t.text) setText((old) => (old + t.text).slice(-KEEP_CHARS));
      if (t.more) return read();
    });
    read();
    return () => { stop = true; };
  }, [ws, runId, name, version]);

  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text, follow]);

  if (logs === null) return <p role="status">Loading logs…</p>;
  return (
    <div>
      <div class="toolbar">
        <label>
          Log{" "}
          <select value={name ?? ""} onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}>
            {logs.map((l) => <option key={l} value={l}>{l}</option>)}
          </select>
        </label>
        <label><input type="checkbox" checked={follow} onChange={() => setFollow(!follow)} /> Follow</label>
        {!ended && <span class="live" role="status">● live</span>}
        {name && <DownloadLink href={fileUrl(ws, runId, name, true)} name={name} />}
      </div>
      {!logs.length && <p>No logs yet.</p>}
      <pre class="log" ref={pre} tabIndex={0} aria-label="Log" aria-live="off">{text}</pre>
    </div>
  );
}
