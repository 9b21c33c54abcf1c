// A run's phase timeline from its status history: one bar per status it went through
// (Queued -> Preparing -> Starting -> Running -> Finalizing), each as wide as the time it
// spent there, with its duration; the phase a running run is in grows until now, and the
// status it ended with closes the line.
import { useEffect, useState } from "preact/hooks";
import type { StatusChange } from "../api";
import { duration, TERMINAL, when } from "../format";

const MIN_WIDTH_PCT = 8; // a phase of a few milliseconds stays readable

export function PhaseTimeline({ history }: { history: StatusChange[] }) {
  const last = history[history.length - 1];
  const ended = TERMINAL.has(last.status);
  const [now, setNow] = useState(Date.now() / 1000);
  useEffect(() => {
    if (ended) return;
    const timer = window.setInterval(() => setNow(Date.now() / 1000), 1000);
    return () => clearInterval(timer);
  }, [ended]);
  const phases = history.map((change, i) => ({
    ...change,
    until: i + 1 < history.length ? history[i + 1].at : ended ? null : Math.max(now, change.at),
  }));
  const spans = phases.filter((p) => p.until !== null);
  const start = history[0].at;
  const total = Math.max(1e-6, (ended ? last.at : Math.max(now, last.at)) - start);
  return (
    <ol class="timeline" aria-label="Phases">
      {spans.map((p, i) => (
        <li
          key={i}
          class={`phase s-${p.status}`}
          data-phase={p.status}
          style={{ flexBasis: `${Math.max((100 * ((p.until as number) - p.at)) / total, MIN_WIDTH_PCT)}%` }}
          title={`${p.status} from ${when(p.at)}`}
        >
          <strong>{p.status}</strong> <span class="phase-duration">{duration(p.at, p.until)}</span>
        </li>
      ))}
      {ended && (
        <li class={`phase end s-${last.status}`} data-phase={last.status} title={`${last.status} at ${when(last.at)}`}>
          <strong>{last.status}</strong> <span class="muted">{when(last.at).slice(11)}</span>
        </li>
      )}
    </ol>
  );
}
