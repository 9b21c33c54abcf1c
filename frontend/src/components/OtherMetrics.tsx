// Metrics that are not single numbers: rows and tables as tables, lists, images inline, text.
import { fileUrl, OtherValue } from "../api";
import { AuthImage } from "./AuthFiles";
import { value } from "../format";

function Table({ columns }: { columns: Record<string, unknown[]> }) {
  const names = Object.keys(columns);
  const length = Math.max(0, ...names.map((n) => (Array.isArray(columns[n]) ? columns[n].length : 1)));
  return (
    <table class="grid-table">
      <thead><tr>{names.map((n) => <th scope="col" key={n}>{n}</th>)}</tr></thead>
      <tbody>
        {Array.from({ length }, (_, i) => (
          <tr key={i}>{names.map((n) => <td key={n} class="num">{value(Array.isArray(columns[n]) ? columns[n][i] : columns[n])}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
}

export function OtherMetrics({ ws, runId, values }: { ws: string; runId: string; values: OtherValue[] }) {
  const groups = new Map<string, OtherValue[]>();
  for (const v of values) groups.set(`${v.kind}:${v.name}`, [...(groups.get(`${v.kind}:${v.name}`) ?? []), v]);
  return (
    <>
      {[...groups.entries()].map(([key, items]) => {
        const { kind, name } = items[0];
        let body;
        if (kind === "row") {
          const columns: Record<string, unknown[]> = {};
          items.forEach((item, i) => Object.entries(item.value as Record<string, unknown>).forEach(([c, v]) => ((columns[c] ??= Array(items.length).fill(null))[i] = v)));
          body = <Table columns={columns} />;
        } else if (kind === "table") body = <Table columns={items[items.length - 1].value} />;
        else if (kind === "list") body = <p class="num">{(items[items.length - 1].value as unknown[]).map(value).join(", ")}</p>;
        else if (kind === "image")
          body = <div class="images">{items.map((item) => <AuthImage key={item.value} src={fileUrl(ws, runId, item.value)} alt={`${name}${item.step !== null ? ` step ${item.step}` : ""}`} />)}</div>;
        else body = <ul>{items.map((item, i) => <li key={i}>{String(item.value)}</li>)}</ul>;
        return (
          <section key={key} class="other-metric" data-kind={kind}>
            <h2>{name} <span class="muted">({kind})</span></h2>
            {body}
          </section>
        );
      })}
    </>
  );
}
