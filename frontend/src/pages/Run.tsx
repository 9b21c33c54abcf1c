// One run: status and phase timeline, details, metric charts and tables, images, the live
// log tail, the files browser and the child runs.
import { useEffect, useState } from "preact/hooks";
import { api, MetricOverview, RunView } from "../api";
import { useRunLive } from "../live";
import { PhaseTimeline } from "../components/Timeline";
import { duration, TERMINAL, value, when } from "../format";
import { setQuery } from "../router";
import { ChartControls, ChartToolbar } from "../components/Chart";
import { MetricCharts } from "../components/MetricCharts";
import { LogTail } from "../components/LogTail";
import { FilesBrowser } from "../components/Files";
import { OtherMetrics } from "../components/OtherMetrics";
import { RunsPage } from "./Runs";
import { RunEditControls } from "../components/EditControls";

const TABS = ["overview", "metrics", "logs", "files", "snapshot", "children"] as const;

export function RunPage({ ws, runId, query }: { ws: string; runId: string; query: URLSearchParams }) {
  const [view, setView] = useState<RunView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tab = (query.get("tab") ?? "overview") as (typeof TABS)[number];
  const ended = view ? TERMINAL.has(view.run.status) : false;
  // The server's event stream says when the run, its metrics or its logs changed.
  const live = useRunLive(ws, runId);

  useEffect(() => {
    let stop = false;
    api.run(ws, runId).then((v) => !stop && setView(v), (e: Error) => !stop && setError(e.message));
    return () => { stop = true; };
  }, [ws, runId, live.run]);

  if (error) return <main class="page"><p class="error" role="alert">{error}</p></main>;
  if (!view) return <main class="page"><p role="status">Loading run…</p></main>;
  const run = view.run;
  const tabs = TABS.filter((t) => (t !== "children" || view.has_children) && (t !== "snapshot" || !!run.details?.runDefinition?.snapshotId));
  return (
    <main class="page">
      <h1>
        <a href={`/w/${encodeURIComponent(ws)}`}>Experiments</a> /{" "}
        <a href={`/w/${encodeURIComponent(ws)}/experiments/${encodeURIComponent(run.experiment_name)}`}>{run.experiment_name}</a> /{" "}
        {run.display_name} <span class={`status s-${run.status}`} data-status={run.status}>{run.status}</span>
      </h1>
      <div role="tablist" class="tabs" aria-label="Run sections">
        {tabs.map((t) => (
          <button
            type="button" role="tab" key={t} aria-selected={t === tab} tabIndex={t === tab ? 0 : -1}
            onClick={() => setQuery({ tab: t === "overview" ? null : t })}
            onKeyDown={(e) => {
              const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
              if (!step) return;
              const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
              setQuery({ tab: next === "overview" ? null : next });
              requestAnimationFrame(() => (document.querySelector('[role=tab][aria-selected="true"]') as HTMLElement | null)?.focus());
            }}
          >
            {t[0].toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      <section role="tabpanel" aria-label={tab}>
        {tab === "overview" && <Overview ws={ws} view={view} />}
        {tab === "metrics" && <Metrics ws={ws} runId={runId} version={live.metrics} />}
        {tab === "logs" && <LogTail ws={ws} runId={runId} version={live.logs} ended={live.ended || ended} />}
        {tab === "files" && <FilesBrowser ws={ws} runId={runId} />}
        {tab === "snapshot" && <FilesBrowser ws={ws} runId={runId} snapshot />}
        {tab === "children" && <RunsPage ws={ws} experiment={run.experiment_name} parent={run.run_id} query={query} />}
      </section>
    </main>
  );
}

interface Phase { name: string; at: number | null | undefined }

function phases(view: RunView): Phase[] {
  const { run } = view;
  const d = run.details ?? {};
  return [
    { name: "Queued", at: run.created_at },
    { name: "Launched", at: d.executor?.launchedAt ?? d.executor?.launched_at },
    { name: "Preparing", at: d.executor?.startedAt ?? d.executor?.started_at },
    { name: "Running", at: d.script?.startedAt ?? d.script?.started_at ?? run.started_at },
    { name: run.ended_at ? run.status : "now", at: run.ended_at ?? (TERMINAL.has(run.status) ? null : Date.now() / 1000) },
  ].filter((p) => p.at);
}

function Overview({ ws, view }: { ws: string; view: RunView }) {
  const { run } = view;
  const steps = phases(view);
  const start = steps[0]?.at ?? run.created_at;
  const end = steps[steps.length - 1]?.at ?? start;
  const total = Math.max(1e-6, (end as number) - (start as number));
  const definition = run.details?.runDefinition;
  const environment = definition?.environment;
  const lock = run.details?.environment;
  return (
    <div class="overview">
      <RunEditControls ws={ws} run={run} />
      <h2>Timeline</h2>
      {view.history && view.history.length > 1 ? (
        <PhaseTimeline history={view.history} />
      ) : (
        <ol class="timeline" aria-label="Phases">
          {steps.slice(0, -1).map((p, i) => {
            const next = steps[i + 1].at as number;
            const width = (100 * (next - (p.at as number))) / total;
            return (
              <li key={p.name} style={{ flexBasis: `${Math.max(width, 8)}%` }} title={`${p.name} from ${when(p.at)}`}>
                <strong>{p.name}</strong> <span>{duration(p.at as number, next)}</span>
              </li>
            );
          })}
        </ol>
      )}
      <h2>Details</h2>
      <dl class="facts">
        <dt>Run id</dt><dd><code>{run.run_id}</code></dd>
        <dt>Number</dt><dd>{run.number}</dd>
        <dt>Type</dt><dd>{run.run_type}</dd>
        <dt>Created</dt><dd>{when(run.created_at)}</dd>
        <dt>Duration</dt><dd>{duration(run.started_at ?? run.created_at, run.ended_at)}</dd>
        {run.parent_run_id && (<><dt>Parent</dt><dd><a href={`/w/${encodeURIComponent(ws)}/runs/${encodeURIComponent(run.parent_run_id)}`}>{run.parent_run_id}</a></dd></>)}
        {run.target && (<><dt>Compute target</dt><dd>{run.target}{run.details?.placement?.node ? ` (node ${run.details.placement.node})` : ""}</dd></>)}
        {definition?.script && (<><dt>Script</dt><dd><code>{definition.script}</code></dd></>)}
        {definition?.arguments && (<><dt>Arguments</dt><dd><code>{definition.arguments.map((a: unknown) => (typeof a === "string" ? a : "(data)")).join(" ")}</code></dd></>)}
        {environment && (<><dt>Environment</dt><dd>{environment.name}{environment.version ? ` v${environment.version}` : ""}</dd></>)}
        {definition?.snapshotId && (<><dt>Snapshot</dt><dd><code>{definition.snapshotId}</code></dd></>)}
        {view.models.length > 0 && (
          <>
            <dt>Registered models</dt>
            <dd>{view.models.map((m) => <a key={`${m.name}:${m.version}`} href={`/w/${encodeURIComponent(ws)}/models#${encodeURIComponent(m.name)}`}>{m.name}:{m.version} </a>)}</dd>
          </>
        )}
      </dl>
      {run.error && (<><h2>Error</h2><pre class="errorbox">{JSON.stringify(run.error, null, 2)}</pre></>)}
      <KeyValues title="Tags" values={run.tags} />
      <KeyValues title="Properties" values={run.properties} />
      {lock && (
        <details>
          <summary>Environment as built (package lock)</summary>
          <pre class="code">{JSON.stringify(lock, null, 2)}</pre>
        </details>
      )}
      <details>
        <summary>All details (JSON)</summary>
        <pre class="code">{JSON.stringify(run.details, null, 2)}</pre>
      </details>
    </div>
  );
}

function KeyValues({ title, values }: { title: string; values: Record<string, string> }) {
  const entries = Object.entries(values);
  if (!entries.length) return null;
  return (
    <>
      <h2>{title}</h2>
      <table class="grid-table kv"><tbody>{entries.map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td>{v}</td></tr>)}</tbody></table>
    </>
  );
}

function Metrics({ ws, runId, version }: { ws: string; runId: string; version: number }) {
  const [overview, setOverview] = useState<MetricOverview | null>(null);
  const [controls, setControls] = useState<ChartControls>({ smoothing: 0, logScale: false, xMode: "step" });
  useEffect(() => {
    let stop = false;
    api.metrics(ws, runId).then((o) => !stop && setOverview(o));
    return () => { stop = true; };
  }, [ws, runId, version]);
  if (!overview) return <p role="status">Loading metrics…</p>;
  const names = Object.keys(overview.scalars).sort();
  const series = names.filter((n) => overview.scalars[n] > 1);
  const singles = names.filter((n) => overview.scalars[n] === 1);
  return (
    <div>
      {series.length > 0 && <ChartToolbar value={controls} onChange={setControls} />}
      <MetricCharts ws={ws} runs={[runId]} names={series} controls={controls} version={version} />
      {singles.length > 0 && <SingleValues ws={ws} runId={runId} names={singles} version={version} />}
      <OtherMetrics ws={ws} runId={runId} values={overview.others} />
      {!names.length && !overview.others.length && <p>This run has logged no metrics.</p>}
    </div>
  );
}

function SingleValues({ ws, runId, names, version }: { ws: string; runId: string; names: string[]; version: number }) {
  const [values, setValues] = useState<Record<string, unknown>>({});
  useEffect(() => {
    api.series(ws, { runs: [runId], names }).then((r) => setValues(Object.fromEntries(r.series.map((s) => [s.name, s.y[0]]))));
  }, [ws, runId, names.join(","), version]);
  return (
    <>
      <h2>Values</h2>
      <table class="grid-table kv"><tbody>{names.map((n) => <tr key={n}><th scope="row">{n}</th><td class="num">{value(values[n])}</td></tr>)}</tbody></table>
    </>
  );
}
