// A run's logs, followed live: new bytes are read from the last offset every second
// until the run has ended and nothing is left.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, fileUrl } from "../api";
import { DownloadLink } from "./AuthFiles";

const POLL_MS = 1000;
const KEEP_CHARS = 2_000_000; // what the page keeps of a very long log (the newest part)

export function LogTail({ ws, runId }: { ws: string; runId: string }) {
  const [logs, setLogs] = useState<string[] | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [follow, setFollow] = useState(true);
  const [live, setLive] = useState(true);
  const pre = useRef<HTMLPreElement>(null);
  // Until the reader picks one: the script's output once it exists, else the first log.
  const name = chosen ?? logs?.find((l) => l.endsWith("driver.txt")) ?? logs?.[0] ?? null;

  useEffect(() => {
    let stop = false, timer = 0;
    const look = () => api.files(ws, runId).then((r) => {
      if (stop) return;
      setLogs(r.logs);
      if (live) timer = window.setTimeout(look, 2 * POLL_MS); // new logs appear as it runs
    });
    look();
    return () => { stop = true; clearTimeout(timer); };
  }, [ws, runId, live]);

  useEffect(() => {
    if (!name) return;
    let stop = false, timer = 0, offset = 0;
    setText("");
    const read = () => api.tail(ws, runId, name, offset).then((t) => {
      if (stop) return;
      offset = t.offset;
      if (t.text) setText((old) => (old + t.text).slice(-KEEP_CHARS));
      setLive(!t.ended);
      if (t.more) read();
      else if (!t.ended) timer = window.setTimeout(read, POLL_MS);
      else if (t.ended) timer = window.setTimeout(() => api.tail(ws, runId, name, offset).then((last) => {
        if (!stop && last.text) setText((old) => old + last.text); // what came after the end
      }), POLL_MS);
    });
    read();
    return () => { stop = true; clearTimeout(timer); };
  }, [ws, runId, name]);

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
        {live && <span class="live" role="status">● live</span>}
        {name && <DownloadLink href={fileUrl(ws, runId, name, true)} name={name} />}
      </div>
      {!logs.length && <p>No logs yet.</p>}
      <pre class="log" ref={pre} tabIndex={0} aria-label="Log" aria-live="off">{text}</pre>
    </div>
  );
}
