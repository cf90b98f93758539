/**
 * The self-contained HTML report: inline CSS, the summary and per-length tables, both charts as inline SVG, the
 * runs and the config. No script, stylesheet, image or font is fetched: it opens the same offline.
 */
import { inDistributionRange } from "../config.js";
import type { ResultsFile } from "../results.js";
import { missingRuns } from "../results.js";
import { renderLengthTable, renderSummaryTable } from "./markdown.js";
import { escapeXml, renderAccuracyChart } from "./svg.js";

/** A Markdown pipe table (as renderSummaryTable writes it) as an HTML table. */
export function markdownTableToHtml(markdown: string): string {
  const lines = markdown.split("\n").filter((l) => l.startsWith("|"));
  const cells = (line: string) =>
    line
      .slice(1, -1)
      .split(" | ")
      .map((c) => escapeXml(c.trim()));
  const [header, , ...body] = lines;
  const head = `<tr>${cells(header ?? "")
    .map((c) => `<th>${c}</th>`)
    .join("")}</tr>`;
  const rows = body
    .map(
      (l) =>
        `<tr>${cells(l)
          .map((c) => `<td>${c}</td>`)
          .join("")}</tr>`,
    )
    .join("\n");
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows}\n</tbody>\n</table>`;
}

/** The reports' stylesheet (also the vision report's). */
export const REPORT_STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}thead{background:#f4f4f4}pre{background:#f7f7f7;padding:1rem;overflow:auto;font-size:.8rem}
figure{margin:1.5rem 0;width:100%}figure svg{display:block;width:100%;height:auto}.note{color:#555}`;

export function renderHtml(file: ResultsFile): string {
  const c = file.config;
  const charts = [
    renderAccuracyChart(file, {
      metric: "sequenceAccuracy",
      title: `${c.task.id}: exact match by length`,
      trainLength: inDistributionRange(c),
    }),
    renderAccuracyChart(file, {
      metric: "tokenAccuracy",
      title: `${c.task.id}: token accuracy by length`,
      trainLength: inDistributionRange(c),
    }),
  ];
  const runs = file.runs
    .map(
      (r) =>
        `<tr><td>${escapeXml(r.encoding)}</td><td>${r.seed}</td><td>${r.steps}</td><td>${Number.isFinite(r.finalLoss) ? r.finalLoss.toFixed(4) : "-"}</td><td>${r.trainSeconds.toFixed(1)}</td><td>${Math.round(r.tokensPerSecond)}</td></tr>`,
    )
    .join("\n");
  const missing = missingRuns(file);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(file.name)}: length generalization on ${escapeXml(c.task.id)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<h1>${escapeXml(file.name)}: length generalization on <code>${escapeXml(c.task.id)}</code></h1>
<p class="note">Trained on lengths ${c.train.length.min}..${c.train.length.max} (shaded), tested on ${c.eval.length.min}..${c.eval.length.max} with ${c.eval.samplesPerLength} held-out examples per length; ${c.model.numLayers} layers, d_model ${c.model.dModel}, ${c.model.numHeads} heads; ${c.train.steps} steps, batch ${c.train.batchSize}, lr ${c.train.lr}; seeds ${c.seeds.join(", ")}. Cells: mean ± sample standard deviation over seeds (per-seed values).</p>
${markdownTableToHtml(renderSummaryTable(file))}
${missing.length ? `<p class="note">Missing runs: ${escapeXml(missing.map((m) => `${m.encoding} seed ${m.seed}`).join(", "))}.</p>` : ""}
${charts.map((svg) => `<figure>\n${svg.replace(/^<\?xml[^>]*>\n?/, "")}</figure>`).join("\n")}
<h2>Exact match per length</h2>
<p class="note">Mean over seeds; * marks lengths outside the training range.</p>
${markdownTableToHtml(renderLengthTable(file))}
<h2>Runs</h2>
<table>
<thead><tr><th>encoding</th><th>seed</th><th>steps</th><th>final loss</th><th>train s</th><th>tok/s</th></tr></thead>
<tbody>
${runs}
</tbody>
</table>
<h2>Config</h2>
<pre>${escapeXml(JSON.stringify(c, null, 2))}</pre>
</body>
</html>
`;
}
