// The run's files, or with ``snapshot`` the files of its snapshot (the source folder it was
// submitted with): a folder tree to browse, a preview (text, JSON, images) and downloads.
import { useEffect, useState } from "preact/hooks";
import { api, fetchBlob, fileUrl, FileEntry, snapshotUrl } from "../api";
import { AuthImage, DownloadLink } from "./AuthFiles";
import { bytes } from "../format";

const PREVIEW_BYTES = 512 * 1024;
const IMAGE = /\.(png|jpe?g|gif|svg|webp)$/i;

export function FilesBrowser({ ws, runId, snapshot = false }: { ws: string; runId: string; snapshot?: boolean }) {
  const [files, setFiles] = useState<FileEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [folder, setFolder] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const urlOf = (name: string, download = false) => (snapshot ? snapshotUrl : fileUrl)(ws, runId, name, download);
  useEffect(() => {
    setFiles(null); setFolder(""); setOpen(null);
    (snapshot ? api.snapshot(ws, runId) : api.files(ws, runId)).then((r) => setFiles(r.files), (e: Error) => setError(e.message));
  }, [ws, runId, snapshot]);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (files === null) return <p role="status">Loading files…</p>;
  if (!files.length) return <p>{snapshot ? "The snapshot has no files." : "This run has no files."}</p>;
  const prefix = folder ? folder + "/" : "";
  const here = files.filter((f) => f.name.startsWith(prefix));
  const folders = [...new Set(here.map((f) => f.name.slice(prefix.length)).filter((r) => r.includes("/")).map((r) => r.split("/")[0]))].sort();
  const leaves = here.filter((f) => !f.name.slice(prefix.length).includes("/"));
  return (
    <div class="files">
      <nav class="crumbs" aria-label="Folder">
        <button type="button" class="link" onClick={() => setFolder("")}>{snapshot ? "snapshot" : "files"}</button>
        {folder.split("/").filter(Boolean).map((part, i, all) => (
          <span key={i}> / <button type="button" class="link" onClick={() => setFolder(all.slice(0, i + 1).join("/"))}>{part}</button></span>
        ))}
      </nav>
      <div class="split">
        <ul class="filelist">
          {folders.map((f) => (
            <li key={f}><button type="button" class="link" onClick={() => setFolder(prefix + f)}>📁 {f}/</button></li>
          ))}
          {leaves.map((f) => (
            <li key={f.name}>
              <button type="button" class="link" aria-pressed={open === f.name} onClick={() => setOpen(f.name)}>{f.name.slice(prefix.length)}</button>{" "}
              <span class="muted">{bytes(f.size)}</span>{" "}
              <DownloadLink href={urlOf(f.name, true)} name={f.name} label="⤓" />
            </li>
          ))}
        </ul>
        <div class="preview">{open && <Preview file={files.find((f) => f.name === open)!} urlOf={urlOf} />}</div>
      </div>
    </div>
  );
}

function Preview({ file, urlOf }: { file: FileEntry; urlOf: (name: string, download?: boolean) => string }) {
  const [text, setText] = useState<string | null>(null);
  const url = urlOf(file.name);
  const image = IMAGE.test(file.name);
  useEffect(() => {
    setText(null);
    if (image) return;
    fetchBlob(url, `bytes=0-${PREVIEW_BYTES - 1}`).then(async (blob) => {
      const body = await blob.text();
      if (file.name.endsWith(".json")) {
        try { return setText(JSON.stringify(JSON.parse(body), null, 2)); } catch { /* shown as text */ }
      }
      setText(body + ((file.size ?? 0) > PREVIEW_BYTES ? "\n… (preview cut; download for the whole file)" : ""));
    });
  }, [url]);
  return (
    <figure>
      <figcaption>{file.name} <DownloadLink href={urlOf(file.name, true)} name={file.name} /></figcaption>
      {image ? <AuthImage src={url} alt={file.name} /> : <pre class="code">{text ?? "Loading…"}</pre>}
    </figure>
  );
}
