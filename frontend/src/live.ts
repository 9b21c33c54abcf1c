// Live updates: the server's event streams (``.../ui/runs/ID/events``,
// ``.../ui/experiments/NAME/events``) read with fetch, so the token goes in the
// Authorization header as on every other call (EventSource cannot send headers, and a
// token in a URL ends up in logs). An event only says what changed; the page then reloads
// that part through its usual reads. A stream that drops is opened again after a second.
import { useEffect, useRef, useState } from "preact/hooks";
import { enc, token } from "./api";

export interface LiveEvent { name: string; data: any }

const RETRY_MS = 1000;

/** Follow the stream at ``path`` (under ``/api/v1``) until the returned function is called
 *  or the stream sends ``end``. */
export function follow(path: string, onEvent: (event: LiveEvent) => void): () => void {
  let stopped = false, timer = 0;
  let controller: AbortController | null = null;
  const open = async () => {
    controller = new AbortController();
    const t = token();
    let finished = false;
    try {
      const response = await fetch(`/api/v1${path}`, {
        headers: { Accept: "text/event-stream", ...(t ? { Authorization: `Bearer ${t}` } : {}) },
        signal: controller.signal,
      });
      if (response.status === 401) {
        window.dispatchEvent(new Event("runyard:unauthorized"));
        return;
      }
      if (!response.ok || !response.body) return; // 403/404: nothing to follow
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done || stopped) break;
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = parse(block);
          if (!event) continue;
          if (event.name === "end") finished = true;
          if (event.name === "error" && event.data?.code === "unauthorized") {
            window.dispatchEvent(new Event("runyard:unauthorized"));
            finished = true;
          }
          onEvent(event);
        }
      }
    } catch {
      /* dropped or aborted: opened again below unless stopped */
    }
    if (!stopped && !finished) timer = window.setTimeout(open, RETRY_MS);
  };
  open();
  return () => { stopped = true; clearTimeout(timer); controller?.abort(); };
}

function parse(block: string): LiveEvent | null {
  let name = "message", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) name = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (!data) return null; // a comment (keep-alive) or the retry hint
  try { return { name, data: JSON.parse(data) }; } catch { return null; }
}

/** What changed on a run, as counters a component puts in its effect's dependencies. */
export interface RunLive { run: number; metrics: number; logs: number; ended: boolean }

/** Follow a run: each counter goes up when that part changed on the server. */
export function useRunLive(ws: string, runId: string): RunLive {
  const [live, setLive] = useState<RunLive>({ run: 0, metrics: 0, logs: 0, ended: false });
  useEffect(() => {
    setLive({ run: 0, metrics: 0, logs: 0, ended: false });
    return follow(`/workspaces/${enc(ws)}/ui/runs/${enc(runId)}/events`, ({ name, data }) => {
      if (name === "run") setLive((l) => ({ ...l, run: l.run + 1, ended: !!data.ended }));
      else if (name === "metrics") setLive((l) => ({ ...l, metrics: l.metrics + 1 }));
      else if (name === "logs") setLive((l) => ({ ...l, logs: l.logs + 1 }));
      else if (name === "end") setLive((l) => ({ ...l, ended: true }));
    });
  }, [ws, runId]);
  return live;
}

/** Call ``onChange`` when a run of the experiment is created or changes status (not for
 *  the state the stream starts with: the page has just read it). */
export function useExperimentLive(ws: string, experiment: string, onChange: () => void): void {
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => {
    let first = true;
    return follow(`/workspaces/${enc(ws)}/ui/experiments/${enc(experiment)}/events`, ({ name }) => {
      if (name !== "runs") return;
      if (first) { first = false; return; }
      latest.current();
    });
  }, [ws, experiment]);
}
