/**
 * The Markdown report: the settings, the summary table (mean ± sample std over seeds, per-seed values in
 * parentheses) for in-distribution and out-of-distribution lengths, and the per-length table of exact match.
 */
import { formatLengthRange, inDistributionRange } from "../config.js";
import type { ResultsFile } from "../results.js";
import { missingRuns } from "../results.js";
import {
  describeLengths,
  encodingsOf,
  formatAccuracy,
  formatStat,
  lengthSplit,
  meanCurves,
  summarize,
} from "./summary.js";

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The summary table alone (what `posenc demo` and `posenc bench` print). */
export function renderSummaryTable(file: ResultsFile): string {
  const { inside, outside } = lengthSplit(file);
  const id = describeLengths(inside);
  const ood = describeLengths(outside);
  const header = [
    "encoding",
    "seeds",
    `exact match, n = ${id} (ID)`,
    `exact match, n = ${ood} (OOD)`,
    "token acc. ID",
    "token acc. OOD",
    "train s/run",
    "tok/s",
  ];
  const rows = summarize(file).map((s) => [
    s.encoding,
    String(s.seeds.length),
    formatStat(s.inDistribution.sequenceAccuracy),
    formatStat(s.outOfDistribution.sequenceAccuracy),
    formatStat(s.inDistribution.tokenAccuracy),
    formatStat(s.outOfDistribution.tokenAccuracy),
    Number.isFinite(s.trainSeconds) ? s.trainSeconds.toFixed(1) : "-",
    Number.isFinite(s.tokensPerSecond) ? `${(s.tokensPerSecond / 1000).toFixed(1)}k` : "-",
  ]);
  return table(header, rows);
}

/** Exact match per length (mean over seeds): one row per length, one column per encoding. */
export function renderLengthTable(file: ResultsFile): string {
  const curves = meanCurves(file, "sequenceAccuracy");
  const lengths = [...new Set(file.rows.map((r) => r.length))].sort((a, b) => a - b);
  const train = inDistributionRange(file.config);
  const rows = lengths.map((n) => [
    n >= train.min && n <= train.max ? `${n}` : `${n} *`,
    ...curves.map((c) => formatAccuracy(c.points.find((p) => p.length === n)?.value ?? Number.NaN)),
  ]);
  return table(["n", ...encodingsOf(file)], rows);
}

export function renderMarkdown(file: ResultsFile): string {
  const c = file.config;
  const stack = (i: number) => {
    const e = c.encodings[i];
    return e.stack ? e.stack.map((s) => s.id).join(" + ") : (e.id ?? "");
  };
  const missing = missingRuns(file);
  const lines = [
    `# ${file.name}: length generalization on ${c.task.id}`,
    "",
    `Task \`${c.task.id}\` ${JSON.stringify(c.task.params)} (${c.task.layout}); trained on lengths ${formatLengthRange(c.train.length)}, tested on ${formatLengthRange(c.eval.length)} with ${c.eval.samplesPerLength} held-out examples per length.`,
    `Model: ${c.model.numLayers} layers, d_model ${c.model.dModel}, ${c.model.numHeads} heads, MLP ${c.model.mlpRatio}x. Training: ${c.train.steps} steps, batch ${c.train.batchSize}, AdamW lr ${c.train.lr} (betas ${c.train.beta1}/${c.train.beta2}, weight decay ${c.train.weightDecay}), warmup ${c.train.warmupFraction * 100}% then cosine to ${c.train.minLrRatio * 100}% of the peak, grad clip ${c.train.gradClip}. Seeds: ${c.seeds.join(", ")}.`,
    `Encodings: ${c.encodings.map((e, i) => `${e.label ?? stack(i)}${e.label ? ` (${stack(i)})` : ""}`).join(", ")}.`,
    "",
    "Exact match is the fraction of examples whose every answer token and EOS is right (teacher-forced argmax, equal to greedy decoding); token accuracy is the fraction of right answer tokens. Cells: mean ± sample standard deviation over seeds (per-seed values).",
    "",
    renderSummaryTable(file),
    "",
    "## Exact match per length (mean over seeds; * = outside the training range)",
    "",
    renderLengthTable(file),
    "",
  ];
  if (missing.length > 0) {
    lines.push(
      `Missing runs (not in these results): ${missing.map((m) => `${m.encoding} seed ${m.seed}`).join(", ")}.`,
      "",
    );
  }
  return lines.join("\n");
}
