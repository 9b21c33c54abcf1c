// The REST calls the pages make, and the records they get back.

export interface Me { name: string; role: string; can_edit: boolean; workspace: string }
export interface ExperimentSummary {
  name: string; created_at: number; run_count: number; active_count: number; last_activity: number;
}
export interface RunRow {
  run_id: string; number: number; display_name: string; status: string;
  created_at: number; started_at: number | null; ended_at: number | null;
  target: string | null; run_type: string; parent_run_id: string | null;
  tags: Record<string, string>; params: Record<string, string>;
  metrics: Record<string, number | string | null>;
}
export interface RunsTable {
  total: number; offset: number; rows: RunRow[];
  metric_names: string[] | null; tag_names: string[] | null; param_names: string[] | null;
}
export interface Filter { column: string; op: string; value: string }
export interface RunsQuery {
  experiment: string; parent?: string | null; text?: string; statuses?: string[];
  filters?: Filter[]; sort?: string; descending?: boolean; offset?: number; limit?: number;
  columns?: string[]; with_names?: boolean;
}
export interface RunRecord {
  run_id: string; experiment_name: string; number: number; status: string; display_name: string;
  created_at: number; parent_run_id: string | null; run_type: string; target: string | null;
  started_at: number | null; ended_at: number | null; heartbeat_at: number | null;
  error: Record<string, unknown> | null; tags: Record<string, string>;
  properties: Record<string, string>; details: Record<string, any>;
}
export interface StatusChange { status: string; at: number }
export interface RunView {
  run: RunRecord; history?: StatusChange[]; has_children: boolean; models: { name: string; version: number }[];
}
export interface Series {
  run_id: string; name: string; x: number[]; y: (number | string | null)[];
  total: number; downsampled: boolean; last_seq: number;
}
export interface SeriesQuery {
  runs: string[]; names?: string[]; x?: "step" | "time"; x_min?: number | null;
  x_max?: number | null; max_points?: number; after_seq?: number;
}
export interface OtherValue { name: string; kind: string; value: any; step: number | null; logged_at: number }
export interface MetricOverview { scalars: Record<string, number>; others: OtherValue[]; truncated: boolean }
export interface FileEntry { name: string; size: number | null }
export interface Tail { text: string; offset: number; more: boolean; status: string; ended: boolean }

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) { super(message); }
}

const TOKEN_KEY = "runyard.token";

export function token(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

/**
 * A token handed in the page's address is taken out of it at once (the fragment never
 * reaches a server or a log). ``#token=T`` is kept as this browser's token; ``#login=T&id=I``
 * (what ``runyard ui`` prints) is a one-time link: it buys a session token and is revoked.
 */
export async function takeTokenFromUrl(): Promise<void> {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const given = fragment.get("token"), link = fragment.get("login"), id = fragment.get("id");
  if (!given && !link) return;
  history.replaceState(null, "", location.pathname + location.search);
  if (given) return setToken(given);
  const auth = { Authorization: `Bearer ${link}`, "Content-Type": "application/json" };
  const made = await fetch("/api/v1/tokens", {
    method: "POST", headers: auth, body: JSON.stringify({ name: "web UI session", expires_days: 7 }),
  });
  if (!made.ok) return; // used or expired: the page asks for a token
  setToken((await made.json()).token);
  if (id) await fetch(`/api/v1/tokens/${encodeURIComponent(id)}`, { method: "DELETE", headers: auth });
}

function headers(): Record<string, string> {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** Fetch a file with the caller's token (images and downloads cannot send headers). */
export async function fetchBlob(url: string, range?: string): Promise<Blob> {
  const response = await fetch(url, { headers: { ...headers(), ...(range ? { Range: range } : {}) } });
  if (!response.ok) throw new ApiError(response.status, "error", `${response.status} ${response.statusText}`);
  return response.blob();
}

/** Save a file the API serves under ``name``. */
export async function download(url: string, name: string): Promise<void> {
  const blob = await fetchBlob(url);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name.split("/").pop() || "download";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

export async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, headers: headers(), signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const response = await fetch(`/api/v1${path}`, init);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = data?.error ?? {};
    if (response.status === 401) window.dispatchEvent(new Event("runyard:unauthorized"));
    throw new ApiError(response.status, error.code ?? "error", error.message ?? response.statusText);
  }
  return data as T;
}

/** The URL of a run file (for <img>, links and downloads), with the token when there is one. */
export function fileUrl(ws: string, runId: string, name: string, download = false): string {
  const path = name.split("/").map(encodeURIComponent).join("/");
  const params = new URLSearchParams();
  if (download) params.set("download", "true");
  const query = params.toString();
  return `/api/v1/workspaces/${enc(ws)}/ui/runs/${enc(runId)}/files/${path}${query ? "?" + query : ""}`;
}

/** The URL of a file of the run's snapshot (its submitted source folder). */
export function snapshotUrl(ws: string, runId: string, name: string, download = false): string {
  const path = name.split("/").map(encodeURIComponent).join("/");
  return `/api/v1/workspaces/${enc(ws)}/ui/runs/${enc(runId)}/snapshot/${path}${download ? "?download=true" : ""}`;
}

export const enc = encodeURIComponent;

export const api = {
  workspaces: () => call<{ workspaces: { name: string }[] }>("GET", "/workspaces"),
  me: (ws: string) => call<Me>("GET", `/workspaces/${enc(ws)}/ui/me`),
  experiments: (ws: string, q = "") =>
    call<{ experiments: ExperimentSummary[] }>("GET", `/workspaces/${enc(ws)}/ui/experiments?q=${enc(q)}`),
  runs: (ws: string, query: RunsQuery, signal?: AbortSignal) =>
    call<RunsTable>("POST", `/workspaces/${enc(ws)}/ui/runs/query`, query, signal),
  rows: (ws: string, runs: string[], columns: string[]) =>
    call<{ rows: RunRow[]; metric_names: string[] }>("POST", `/workspaces/${enc(ws)}/ui/runs/rows`, { runs, columns }),
  run: (ws: string, id: string) => call<RunView>("GET", `/workspaces/${enc(ws)}/ui/runs/${enc(id)}`),
  series: (ws: string, query: SeriesQuery, signal?: AbortSignal) =>
    call<{ series: Series[] }>("POST", `/workspaces/${enc(ws)}/ui/series`, query, signal),
  metrics: (ws: string, id: string) => call<MetricOverview>("GET", `/workspaces/${enc(ws)}/ui/runs/${enc(id)}/metrics`),
  files: (ws: string, id: string) =>
    call<{ files: FileEntry[]; logs: string[] }>("GET", `/workspaces/${enc(ws)}/ui/runs/${enc(id)}/files`),
  snapshot: (ws: string, id: string) =>
    call<{ snapshot_id: string; files: FileEntry[] }>("GET", `/workspaces/${enc(ws)}/ui/runs/${enc(id)}/snapshot`),
  tail: (ws: string, id: string, name: string, offset: number) =>
    call<Tail>("GET", `/workspaces/${enc(ws)}/ui/runs/${enc(id)}/tail?name=${enc(name)}&offset=${offset}`),
  models: (ws: string) => call<{ models: any[] }>("GET", `/workspaces/${enc(ws)}/ui/models`),
  services: (ws: string) => call<{ services: any[] }>("GET", `/workspaces/${enc(ws)}/ui/services`),
  compute: (ws: string) => call<{ targets: any[] }>("GET", `/workspaces/${enc(ws)}/ui/compute`),
  openapiPaths: () => call<{ paths: Record<string, Record<string, unknown>> }>("GET", "/openapi.json"),
};

/** JSON carries NaN and infinities as strings; charts want numbers (NaN as a gap). */
export function num(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  const parsed = Number(value);
  return Number.isNaN(parsed) ? null : parsed;
}
