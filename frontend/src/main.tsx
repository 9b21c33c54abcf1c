// Runyard's web UI: one page per URL under /w/{workspace}/...
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, Me, setToken, takeTokenFromUrl, token } from "./api";
import { navigate, onLinkClick, useLocation } from "./router";
import { ExperimentsPage } from "./pages/Experiments";
import { RunsPage } from "./pages/Runs";
import { RunPage } from "./pages/Run";
import { ComparePage } from "./pages/Compare";
import { ModelsPage } from "./pages/Models";
import { ComputePage } from "./pages/Compute";
import { Session } from "./session";
import "./style.css";

function Workspaces() {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.workspaces().then(
      ({ workspaces }) => {
        if (workspaces.length) navigate(`/w/${encodeURIComponent(workspaces[0].name)}`, true);
        else setError("This server serves no workspace yet.");
      },
      (e: Error) => setError(e.message),
    );
  }, []);
  return <main class="page"><p role="status">{error ?? "Loading workspaces…"}</p></main>;
}

function Login() {
  const [value, setValue] = useState("");
  // Whether this server signs people in through an OpenID Connect provider as well.
  const [sso, setSso] = useState<string | null>(null);
  useEffect(() => {
    fetch("/auth/config").then((r) => (r.ok ? r.json() : null)).then(
      (c: { oidc?: boolean; login_url?: string } | null) => {
        if (c?.oidc && c.login_url) setSso(`${c.login_url}?next=${encodeURIComponent(location.pathname + location.search)}`);
      },
      () => setSso(null),
    );
  }, []);
  return (
    <main class="page login">
      <h1>Sign in to Runyard</h1>
      {sso && <p><a class="button" href={sso}>Sign in with single sign-on</a></p>}
      <p>This server needs an API token. Paste one you hold (<code>runyard token create NAME --server URL</code> makes one),
        or open the link <code>runyard ui</code> printed.</p>
      <form onSubmit={(e) => { e.preventDefault(); setToken(value.trim()); location.reload(); }}>
        <label>Token <input type="password" autoComplete="off" value={value} required onInput={(e) => setValue((e.target as HTMLInputElement).value)} /></label>{" "}
        <button type="submit">Sign in</button>
      </form>
      {token() && <p class="error" role="alert">The token this browser held was refused (expired or revoked).</p>}
    </main>
  );
}

function App() {
  const loc = useLocation();
  const [unauthorized, setUnauthorized] = useState(false);
  useEffect(() => {
    const refused = () => setUnauthorized(true);
    window.addEventListener("runyard:unauthorized", refused);
    return () => window.removeEventListener("runyard:unauthorized", refused);
  }, []);
  if (unauthorized || !token()) return <Login />;
  const parts = loc.path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== "w" || !parts[1]) return <Workspaces />;
  return <WorkspaceApp ws={parts[1]} rest={parts.slice(2)} query={loc.query} />;
}

function WorkspaceApp({ ws, rest, query }: { ws: string; rest: string[]; query: URLSearchParams }) {
  const [me, setMe] = useState<Me | null>(null);
  const [canWrite, setCanWrite] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.me(ws).then(setMe, (e: ApiError) => setError(e.message));
    // Edit controls appear only where this server has the route that carries them out.
    api.openapiPaths().then(
      (doc) => setCanWrite(new Set(Object.keys(doc.paths))),
      () => setCanWrite(new Set()),
    );
  }, [ws]);
  const base = `/w/${encodeURIComponent(ws)}`;
  let page;
  const [section, name] = rest;
  if (!section) page = <ExperimentsPage ws={ws} query={query} />;
  else if (section === "experiments" && name) page = <RunsPage ws={ws} experiment={name} query={query} />;
  else if (section === "runs" && name) page = <RunPage ws={ws} runId={name} query={query} />;
  else if (section === "compare") page = <ComparePage ws={ws} query={query} />;
  else if (section === "models") page = <ModelsPage ws={ws} />;
  else if (section === "compute") page = <ComputePage ws={ws} />;
  else page = <main class="page"><h1>Not found</h1><p>No page at this address. <a href={base}>Experiments</a></p></main>;
  const active = (s: string) => (section ?? "") === s ? "page" : undefined;
  return (
    <Session.Provider value={{ ws, me, routes: canWrite }}>
      <header class="top">
        <a class="brand" href={base}>Runyard</a>
        <nav aria-label="Sections">
          <a href={base} aria-current={active("") ?? (section === "experiments" || section === "runs" ? "page" : undefined)}>Experiments</a>
          <a href={`${base}/compare${section === "compare" ? "?" + query.toString() : ""}`} aria-current={active("compare")}>Compare</a>
          <a href={`${base}/models`} aria-current={active("models")}>Models</a>
          <a href={`${base}/compute`} aria-current={active("compute")}>Compute &amp; services</a>
        </nav>
        <span class="who" title="Your role in this workspace">
          {ws} · {me ? `${me.name} (${me.role})` : ""}
        </span>
        <button type="button" class="link" onClick={() => { setToken(null); location.reload(); }}>Sign out</button>
      </header>
      {error ? <main class="page"><p class="error" role="alert">{error}</p></main> : page}
    </Session.Provider>
  );
}

document.addEventListener("click", onLinkClick);
takeTokenFromUrl().finally(() => render(<App />, document.getElementById("app")!));
