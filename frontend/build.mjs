// Builds the UI into ../src/runyard/server/ui/dist: content-hashed JS and CSS under assets/,
// and index.html naming them. Prints each asset's gzip size (the first page loads all).
import { build } from "esbuild";
import { mkdirSync, rmSync, writeFileSync, readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "src", "runyard", "server", "ui", "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

const result = await build({
  entryPoints: [join(here, "src", "main.tsx")],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  outdir: join(dist, "assets"),
  entryNames: "[name]-[hash]",
  metafile: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "linked",
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => p.split("/").pop());
const js = outputs.find((n) => n.endsWith(".js"));
const css = outputs.find((n) => n.endsWith(".css"));
writeFileSync(
  join(dist, "index.html"),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Runyard</title>
<link rel="icon" href="data:,">
${css ? `<link rel="stylesheet" href="/assets/${css}">` : ""}
<script type="module" src="/assets/${js}"></script>
</head>
<body><div id="app"></div></body>
</html>
`,
);
let total = 0;
for (const name of readdirSync(join(dist, "assets"))) {
  const size = gzipSync(readFileSync(join(dist, "assets", name))).length;
  if (!name.endsWith(".txt")) total += size;
  console.log(`  ${name}: ${(size / 1024).toFixed(1)} KB gzip`);
}
console.log(`UI built into ${dist}: first page ${(total / 1024).toFixed(1)} KB gzip`);
