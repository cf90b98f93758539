/**
 * Reports of a resolution-extrapolation results file: accuracy against grid side per encoding.
 *   report.md      settings, the table (mean ± sample std over seeds, per-seed values), runs
 *   accuracy.svg   accuracy against grid side, training grid shaded, seed band (../report/svg.ts)
 *   attention.svg  what each head attends to from the centre patch (./attention.ts), when the results hold it
 *   report.html    all of it, self-contained
 */
import { join } from "node:path";
import { encodingLabel } from "../config.js";
import { writeFileAtomic } from "../files.js";
import { markdownTableToHtml, REPORT_STYLE } from "../report/html.js";
import { formatStat, seedStat } from "../report/summary.js";
import { escapeXml, renderCurveChart } from "../report/svg.js";
import { renderAttentionSvg } from "./attention.js";
import type { VisionResults } from "./run.js";

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function encodingsOf(file: VisionResults): string[] {
  const present = new Set(file.rows.map((r) => r.encoding));
  return file.config.encodings.map(encodingLabel).filter((e) => present.has(e));
}

/** Encoding x grid: mean ± std over seeds (per-seed values); * marks grids other than the training grid. */
export function renderVisionTable(file: VisionResults): string {
  const grids = file.config.eval.grids;
  const train = file.config.train.grid;
  const header = [
    "encoding",
    "seeds",
    ...grids.map((g) => `${g}x${g}${g === train ? "" : " *"}`),
    "train s/run",
    "tok/s",
  ];
  const rows = encodingsOf(file).map((encoding) => {
    const runs = file.runs.filter((r) => r.encoding === encoding);
    const cells = grids.map((g) =>
      formatStat(
        seedStat(file.rows.filter((r) => r.encoding === encoding && r.grid === g).map((r) => r.accuracy)),
      ),
    );
    const mean = (f: (r: (typeof runs)[number]) => number) =>
      runs.reduce((s, r) => s + f(r), 0) / runs.length;
    return [
      encoding,
      String(runs.length),
      ...cells,
      mean((r) => r.trainSeconds).toFixed(1),
      `${(mean((r) => r.tokensPerSecond) / 1000).toFixed(1)}k`,
    ];
  });
  return table(header, rows);
}

function settings(file: VisionResults): string {
  const c = file.config;
  const m = c.model;
  return `Task \`${c.task.id}\` ${JSON.stringify(c.task.params)}; trained on the ${c.train.grid}x${c.train.grid} grid for ${c.train.steps} steps of ${c.train.batchSize} examples (lr ${c.train.lr}), tested on ${c.eval.samples} fresh examples per grid; patch encoder with ${m.numLayers} layers, d_model ${m.dModel}, ${m.numHeads} heads, mean pooling; seeds ${c.seeds.join(", ")}. Cells: exact accuracy, mean ± sample standard deviation over seeds (per-seed values); * marks grids larger (or smaller) than the training grid.`;
}

export function renderVisionChart(file: VisionResults): string {
  const curves = encodingsOf(file).map((encoding) => ({
    encoding,
    points: file.config.eval.grids.map((grid) => {
      const values = file.rows
        .filter((r) => r.encoding === encoding && r.grid === grid)
        .map((r) => r.accuracy);
      return {
        length: grid,
        value: values.reduce((a, b) => a + b, 0) / values.length,
        min: Math.min(...values),
        max: Math.max(...values),
        seeds: values.length,
      };
    }),
  }));
  const g = file.config.train.grid;
  return renderCurveChart(curves, {
    title: `${file.config.task.id}: accuracy by grid side (trained at ${g}x${g})`,
    trainLength: { min: g, max: g },
    xLabel: "grid side (patches per row and column)",
    yLabel: "accuracy",
    bandLabel: "training grid",
  });
}

const ATTENTION_NOTE =
  "Attention of the centre patch (outlined) over every patch, per layer and head, mean over the first evaluation batch, first seed; shade relative to each picture's largest weight.";

/** The attention pictures of the results ("" when it holds none: results of older versions). */
export function renderVisionAttention(file: VisionResults): string {
  return renderAttentionSvg(
    file.attention ?? [],
    `${file.name}: what each head attends to from the centre patch`,
  );
}

export function renderVisionMarkdown(file: VisionResults): string {
  const runs = table(
    ["encoding", "seed", "steps", "final loss", "train s", "train CPU s", "tok/s", "parameters"],
    file.runs.map((r) => [
      r.encoding,
      String(r.seed),
      String(r.steps),
      r.finalLoss.toFixed(4),
      r.trainSeconds.toFixed(1),
      r.trainCpuSeconds === undefined ? "-" : r.trainCpuSeconds.toFixed(1),
      String(Math.round(r.tokensPerSecond)),
      String(r.parameters),
    ]),
  );
  const attention = file.attention?.length
    ? `## Attention\n\n${ATTENTION_NOTE}\n\n![attention of the centre patch](attention.svg)\n\n`
    : "";
  return `# ${file.name}: resolution extrapolation on \`${file.config.task.id}\`\n\n${settings(file)}\n\n${renderVisionTable(file)}\n\n![accuracy by grid](accuracy.svg)\n\n${attention}## Runs\n\n${runs}\n`;
}

export function renderVisionHtml(file: VisionResults): string {
  const title = `${file.name}: resolution extrapolation on ${file.config.task.id}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<p class="note">${escapeXml(settings(file))}</p>
${markdownTableToHtml(renderVisionTable(file))}
<figure>
${renderVisionChart(file)}</figure>
${file.attention?.length ? `<h2>Attention</h2>\n<p class="note">${escapeXml(ATTENTION_NOTE)}</p>\n<figure>\n${renderVisionAttention(file)}</figure>\n` : ""}<h2>Config</h2>
<pre>${escapeXml(JSON.stringify(file.config, null, 2))}</pre>
</body>
</html>
`;
}

/** Writes report.md, accuracy.svg and report.html into `dir`; returns their names. */
export function writeVisionReports(dir: string, file: VisionResults): string[] {
  const files: [string, string][] = [
    ["report.md", renderVisionMarkdown(file)],
    ["accuracy.svg", renderVisionChart(file)],
    ["report.html", renderVisionHtml(file)],
  ];
  if (file.attention?.length) files.splice(2, 0, ["attention.svg", renderVisionAttention(file)]);
  for (const [name, content] of files) writeFileAtomic(join(dir, name), content);
  return files.map(([name]) => name);
}
