// Files of the API shown or saved with the caller's token: an <img> or a plain link cannot
// send an Authorization header (and the server takes tokens from that header only).
import { useEffect, useState } from "preact/hooks";
import { download, fetchBlob } from "../api";

export function AuthImage({ src, alt }: { src: string; alt: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let made: string | null = null;
    fetchBlob(src).then((blob) => setUrl((made = URL.createObjectURL(blob))), () => setFailed(true));
    return () => { if (made) URL.revokeObjectURL(made); };
  }, [src]);
  if (failed) return <span class="error">({alt}: not readable)</span>;
  return url ? <img src={url} alt={alt} data-src={src} /> : <span class="muted">{alt}…</span>;
}

export function DownloadLink({ href, name, label }: { href: string; name: string; label?: string }) {
  return (
    <a
      href={href}
      download={name.split("/").pop()}
      aria-label={`Download ${name}`}
      onClick={(e) => { e.preventDefault(); download(href, name); }}
    >
      {label ?? "Download"}
    </a>
  );
}
