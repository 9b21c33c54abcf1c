// The runs of an experiment: server-side sort and filter on any column, a column chooser,
// selection for comparing, and virtual scrolling over server pages (100,000 runs and more).
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, Filter, RunRow, RunsQuery } from "../api";
import { duration, value, when } from "../format";
import { navigate, setQuery } from "../router";
import { useExperimentLive } from "../live";

const ROW_H = 30;
const PAGE = 200;
const STATUSES = ["Running", "Queued", "Preparing", "Starting", "Finalizing", "Completed", "Failed", "Canceled", "NotStarted", "CancelRequested"];
const OPS = ["=", "!=", "<", "<=", ">", ">=", "contains"];
const ATTRS: Record<string, string> = {
  "attr:number": "#", "attr:display_name": "Name", "attr:status": "Status",
  "attr:created_at": "Created", "attr:duration": "Duration", "attr:target": "Target",
};

export function columnLabel(id: string): string {
  if (ATTRS[id]) return ATTRS[id];
  const [kind, ...rest] = id.split(":");
  if (kind === "metric") {
    const agg = rest.pop();
    return `${rest.join(":")}${agg === "last" ? "" : ` (${agg})`}`;
  }
  return `${rest.join(":")}`;
}

function cell(row: RunRow, id: string, ws: string) {
  const [kind, ...rest] = id.split(":");
  const name = rest.join(":");
  if (kind === "metric") return value(row.metrics[id]);
  if (kind === "tag") return row.tags[name] ?? "";
  if (kind === "param") return row.params[name] ?? "";
  switch (id) {
    case "attr:number": return row.number;
    case "attr:display_name":
      return <a href={`/w/${encodeURIComponent(ws)}/runs/${encodeURIComponent(row.run_id)}`}>{row.display_name}</a>;
    case "attr:status": return <span class={`status s-${row.status}`}>{row.status}</span>;
    case "attr:created_at": return when(row.created_at);
    case "attr:duration": return duration(row.started_at ?? row.created_at, row.ended_at);
    case "attr:target": return row.target ?? "";
  }
  return "";
}

function parseFilters(query: URLSearchParams): Filter[] {
  return query.getAll("f").map((text) => {
    const [column, op, ...v] = text.split("|");
    return { column, op, value: v.join("|") };
  });
}

export function RunsPage({ ws, experiment, query, parent }: { ws: string; experiment: string; query: URLSearchParams; parent?: string }) {
  const sort = query.get("sort") ?? "attr:number";
  const descending = query.get("asc") === null;
  const text = query.get("q") ?? "";
  const status = query.get("status") ?? "";
  const filters = parseFilters(query);
  const [names, setNames] = useState<{ metrics: string[]; tags: string[]; params: string[] } | null>(null);
  const chosen = query.get("cols");
  const columns = useMemo(() => {
    if (chosen !== null) return chosen ? chosen.split(",") : [];
    if (!names) return [];
    return [
      ...names.metrics.slice(0, 6).map((m) => `metric:${m}:last`),
      ...names.params.slice(0, 4).map((p) => `param:${p}`),
      ...names.tags.filter((t) => !t.startsWith(experiment)).slice(0, 3).map((t) => `tag:${t}`),
    ];
  }, [chosen, names, experiment]);
  const visible = ["attr:number", "attr:display_name", "attr:status", "attr:created_at", "attr:duration", "attr:target", ...columns];
  const [total, setTotal] = useState<number | null>(null);
  const [pages, setPages] = useState<Map<number, RunRow[]>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [span, setSpan] = useState<[number, number]>([0, 40]);
  const asked = useRef(new Set<number>());
  const generation = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);
  const base: RunsQuery = {
    experiment, parent: parent ?? null, text, statuses: status ? [status] : [], filters, sort, descending,
    columns: columns.filter((c) => c.startsWith("metric:")),
  };
  const key = JSON.stringify(base);

  const fetchPage = (page: number, gen: number) => {
    asked.current.add(page);
    const started = performance.now();
    return api.runs(ws, { ...base, offset: page * PAGE, limit: PAGE }).then(
      (table) => {
        if (gen !== generation.current) return;
        setTotal(table.total);
        setPages((p) => new Map(p).set(page, table.rows));
        setError(null);
        document.body.dataset.runsLoadedMs = String(Math.round(performance.now() - started));
      },
      (e: Error) => { if (gen === generation.current) setError(e.message); },
    );
  };

  useEffect(() => {
    generation.current += 1;
    asked.current = new Set();
    setPages(new Map());
    const gen = generation.current;
    const first = fetchPage(0, gen);
    if (names === null) {
      // With the columns in the address, the names (for the chooser and the filters) are
      // asked for once the first rows are in: on a large experiment they cost the server
      // a scan that would otherwise delay those rows. Without, the columns wait for them.
      const askNames = () => api.runs(ws, { ...base, columns: [], limit: 1, with_names: true }).then((t) => {
        if (gen === generation.current && t.metric_names)
          setNames({ metrics: t.metric_names, tags: t.tag_names ?? [], params: t.param_names ?? [] });
      }, () => undefined);
      if (chosen === null) askNames();
      else first.then(askNames);
    }
    if (scroller.current) scroller.current.scrollTop = 0;
  }, [ws, key]);

  // A run created or changing status: the pages already read are read again, in place.
  useExperimentLive(ws, experiment, () => asked.current.forEach((p) => fetchPage(p, generation.current)));

  useEffect(() => {
    const first = Math.floor(span[0] / PAGE), last = Math.floor(span[1] / PAGE);
    for (let p = first; p <= last; p++) if (!asked.current.has(p) && (total === null || p * PAGE < total)) fetchPage(p, generation.current);
  }, [span, total, key]);

  const onScroll = () => {
    const el = scroller.current!;
    const first = Math.floor(el.scrollTop / ROW_H);
    setSpan([first, first + Math.ceil(el.clientHeight / ROW_H) + 1]);
  };

  const sortBy = (id: string) => {
    if (id === sort) setQuery({ asc: descending ? "1" : null });
    else setQuery({ sort: id, asc: null });
  };
  const setFilters = (next: Filter[]) => {
    const q = new URLSearchParams(location.search);
    q.delete("f");
    next.forEach((f) => q.append("f", `${f.column}|${f.op}|${f.value}`));
    navigate(`${location.pathname}?${q}`, true);
  };
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const allColumns = names
    ? [
        ...names.metrics.flatMap((m) => [`metric:${m}:last`, `metric:${m}:min`, `metric:${m}:max`]),
        ...names.params.map((p) => `param:${p}`),
        ...names.tags.map((t) => `tag:${t}`),
      ]
    : [];
  const rows: (RunRow | null)[] = [];
  const [from, to] = [Math.max(0, span[0] - 10), Math.min(total ?? 0, span[1] + 10)];
  for (let i = from; i < to; i++) rows.push(pages.get(Math.floor(i / PAGE))?.[i % PAGE] ?? null);
  const template = `2.2em 4em minmax(14em, 2fr) 8em 11em 6em 7em ${columns.map(() => "minmax(7em, 1fr)").join(" ")}`;

  return (
    <main class={parent ? "" : "page"}>
      {!parent && (
        <h1>
          <a href={`/w/${encodeURIComponent(ws)}`}>Experiments</a> / {experiment}
        </h1>
      )}
      <div class="toolbar" role="search">
        <input
          type="search" value={text} placeholder="run name or id" aria-label="Search runs"
          onInput={(e) => setQuery({ q: (e.target as HTMLInputElement).value })}
        />
        <select aria-label="Status" value={status} onChange={(e) => setQuery({ status: (e.target as HTMLSelectElement).value })}>
          <option value="">any status</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <FilterBuilder columns={[...Object.keys(ATTRS), ...allColumns]} onAdd={(f) => setFilters([...filters, f])} />
        <ColumnChooser all={allColumns} shown={columns} onChange={(cols) => setQuery({ cols: cols.join(",") })} />
        <button
          type="button" disabled={selected.length < 2}
          onClick={() => navigate(`/w/${encodeURIComponent(ws)}/compare?runs=${selected.map(encodeURIComponent).join(",")}`)}
        >
          Compare {selected.length ? `(${selected.length})` : ""}
        </button>
      </div>
      {filters.length > 0 && (
        <ul class="chips" aria-label="Filters">
          {filters.map((f, i) => (
            <li key={i}>
              {columnLabel(f.column)} {f.op} {f.value}{" "}
              <button type="button" aria-label={`Remove filter ${columnLabel(f.column)}`} onClick={() => setFilters(filters.filter((_, j) => j !== i))}>×</button>
            </li>
          ))}
        </ul>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <p class="count" role="status" data-total={total ?? ""}>{total === null ? "Loading runs…" : `${total.toLocaleString()} runs`}</p>
      <div class="vtable" role="grid" aria-rowcount={total ?? 0} ref={scroller} onScroll={onScroll}>
        <div class="vrow vhead" role="row" style={{ gridTemplateColumns: template }}>
          <span role="columnheader" />
          {visible.map((id) => (
            <span role="columnheader" key={id} aria-sort={id === sort ? (descending ? "descending" : "ascending") : "none"}>
              <button type="button" class="sort" onClick={() => sortBy(id)} data-column={id}>
                {columnLabel(id)} {id === sort ? (descending ? "▼" : "▲") : ""}
              </button>
            </span>
          ))}
        </div>
        <div style={{ height: `${(total ?? 0) * ROW_H}px`, position: "relative" }}>
          {rows.map((row, k) => {
            const i = from + k;
            return (
              <div
                class="vrow" role="row" aria-rowindex={i + 2} key={i} data-run={row?.run_id}
                style={{ gridTemplateColumns: template, transform: `translateY(${i * ROW_H}px)` }}
              >
                <span role="gridcell">
                  {row && (
                    <input type="checkbox" aria-label={`Select ${row.display_name}`} checked={selected.includes(row.run_id)} onChange={() => toggle(row.run_id)} />
                  )}
                </span>
                {visible.map((id) => (
                  <span role="gridcell" key={id} class={id.startsWith("metric:") || id === "attr:number" ? "num" : ""} data-column={id}>
                    {row ? cell(row, id, ws) : "…"}
                  </span>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </main>
  );
}

function FilterBuilder({ columns, onAdd }: { columns: string[]; onAdd: (f: Filter) => void }) {
  const [column, setColumn] = useState("attr:status");
  const [op, setOp] = useState("=");
  const [text, setText] = useState("");
  return (
    <form class="filter" onSubmit={(e) => { e.preventDefault(); if (text) { onAdd({ column, op, value: text }); setText(""); } }}>
      <select aria-label="Filter column" value={column} onChange={(e) => setColumn((e.target as HTMLSelectElement).value)}>
        {columns.map((c) => <option key={c} value={c}>{columnLabel(c)}{c.startsWith("tag:") ? " (tag)" : c.startsWith("param:") ? " (param)" : ""}</option>)}
      </select>
      <select aria-label="Filter operator" value={op} onChange={(e) => setOp((e.target as HTMLSelectElement).value)}>
        {OPS.map((o) => <option key={o} value={o}>{o}</option>)}
      </select>
      <input aria-label="Filter value" value={text} size={8} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
      <button type="submit">Add filter</button>
    </form>
  );
}

function ColumnChooser({ all, shown, onChange }: { all: string[]; shown: string[]; onChange: (c: string[]) => void }) {
  return (
    <details class="chooser">
      <summary>Columns</summary>
      <div class="menu" role="group" aria-label="Columns">
        {all.length === 0 && <p>No metric, parameter or tag columns.</p>}
        {all.map((c) => (
          <label key={c}>
            <input
              type="checkbox" checked={shown.includes(c)}
              onChange={() => onChange(shown.includes(c) ? shown.filter((x) => x !== c) : [...shown, c])}
            />{" "}
            {c.split(":")[0]}: {columnLabel(c)}
          </label>
        ))}
      </div>
    </details>
  );
}
