/**
 * Extension reports over seeds (`posenc report extension`): the extension.json files `posenc eval --bpc --extend
 * --report` writes, one per checkpoint, read back (validated with zod) and summarized per curve and context as
 * mean ± sample standard deviation over seeds, with the per-seed values.
 *
 * A curve is named by what the model reads with: the checkpoint's own encoding as trained ("rope", "alibi") for the
 * baseline (method "rope", no rescaling), else the method ("pi", "yarn", ...) with its non-default parameters when
 * it has them ("giraffe-power (power 1)"), plus " +K steps" after a fine-tune of K steps at the target, " +K steps
 * at N" on rows of N, " +K steps (n segments)" on segmented rows. Several files of one checkpoint (one per fine-tune length) repeat its training-free curves:
 * a (curve, seed) pair is kept once, the first met. Every file must share the trained context and the target.
 * Curves are listed method by method (in the order the methods first appear), each by fine-tune steps.
 */
import { z } from "zod";
import { PosencConfigError } from "../../util/validation.js";
import type { ExtensionCurve } from "../extension-eval.js";
import { readJsonFileAs } from "../zod-issues.js";
import { renderSeedsCharts } from "./extension-charts.js";
import { markdownTableToHtml, REPORT_STYLE } from "./html.js";
import { type SeedStat, seedStat } from "./summary.js";
import { escapeXml } from "./svg.js";

export const EXTENSION_FORMAT = "posenc-extension/1";

const positive = z.number().min(0).describe("a finite number >= 0");
const int = (min: number) =>
  z.number().int().min(min).max(Number.MAX_SAFE_INTEGER).describe(`an integer >= ${min}`);

const rowSchema = z.strictObject({
  window: int(1),
  stride: int(1),
  windows: int(1),
  chars: int(1),
  bits: positive,
  bitsPerChar: positive,
  rssBytes: positive,
  engineHeapBytes: positive,
  seconds: positive,
});

const curveSchema = z.strictObject({
  method: z.string().min(1).describe("a method name"),
  target: int(1),
  finetuneSteps: int(0),
  finetuneSegments: int(1).optional(),
  finetuneLength: int(1).optional(),
  params: z
    .record(z.string(), z.number())
    .optional()
    .describe('a method\'s non-default parameters, e.g. { "power": 1 }'),
  block: z.record(z.string(), z.unknown()).nullable().describe("a rope block or null"),
  rows: z.array(rowSchema).min(1).describe("a non-empty list of context rows"),
  finetuneSeconds: positive.optional(),
  tokensPerSecond: positive.optional(),
});

const fileSchema = z.strictObject({
  format: z.literal(EXTENSION_FORMAT).describe(`"${EXTENSION_FORMAT}"`),
  checkpoint: z.string().describe("the checkpoint folder"),
  encoding: z.string().min(1).describe("the checkpoint's encoding label"),
  seed: int(0),
  trainedContext: int(1),
  split: z.enum(["validation", "test"]).describe('"validation" or "test"'),
  cpuSeconds: positive,
  curves: z.array(curveSchema).min(1).describe("a non-empty list of curves"),
});

export type ExtensionFile = z.output<typeof fileSchema>;

/** An extension.json, validated; one line naming the file and key otherwise. */
export function readExtensionFile(path: string): ExtensionFile {
  return readJsonFileAs(path, fileSchema);
}

/** The curve's name in a report over seeds (see the file comment). */
export function curveName(
  encoding: string,
  curve: Pick<ExtensionCurve, "method" | "params" | "finetuneSteps" | "finetuneSegments" | "finetuneLength">,
): string {
  const base = methodName(encoding, curve);
  return curve.finetuneSteps ? `${base} ${finetuneSuffix(curve)}` : base;
}

/** What the model reads with: the encoding as trained for "rope", else the method and its non-default parameters. */
export function methodName(encoding: string, curve: Pick<ExtensionCurve, "method" | "params">): string {
  const base = curve.method === "rope" ? encoding : curve.method;
  const params = Object.entries(curve.params ?? {});
  return params.length ? `${base} (${params.map(([k, v]) => `${k} ${v}`).join(", ")})` : base;
}

/** "+K steps", then " at N" for rows of N other than the target, or " (n segments)". */
export function finetuneSuffix(
  curve: Pick<ExtensionCurve, "finetuneSteps" | "finetuneSegments" | "finetuneLength">,
) {
  const at = curve.finetuneLength !== undefined ? ` at ${curve.finetuneLength}` : "";
  const segments = curve.finetuneSegments ? ` (${curve.finetuneSegments} segments)` : "";
  return `+${curve.finetuneSteps} steps${at}${segments}`;
}

export interface SeedCurve {
  name: string;
  /** The method ("rope" = as trained) and fine-tune steps of every seed's curve. */
  method: string;
  /** The name without the fine-tune: the method and its non-default parameters (methodName). */
  base: string;
  finetuneSteps: number;
  /** Segments per row of a segmented fine-tune; 0 otherwise. */
  finetuneSegments: number;
  /** Row length of a fine-tune on rows other than the target; 0 otherwise (rows of the target). */
  finetuneLength: number;
  seeds: number[];
  /** Per context: bpc over seeds. */
  points: { window: number; stat: SeedStat }[];
  /** Fine-tune seconds and tokens/s per seed (fine-tuned curves only). */
  finetuneSeconds: number[];
  tokensPerSecond: number[];
}

export interface ExtensionSummary {
  trainedContext: number;
  target: number;
  split: "validation" | "test";
  curves: SeedCurve[];
  /** Sum of the files' evaluation CPU seconds (fine-tunes included). */
  cpuSeconds: number;
}

/** Mean ± spread over seeds of every curve of `files` (see the file comment); refuses mixed setups. */
export function summarizeExtensions(
  files: readonly { path: string; file: ExtensionFile }[],
): ExtensionSummary {
  if (files.length === 0)
    throw new PosencConfigError("missing_key", "inputs", undefined, "extension.json files");
  const first = files[0]!.file;
  const target = first.curves[0]!.target;
  const byName = new Map<string, { curve: ExtensionCurve; seed: number; encoding: string }[]>();
  for (const { path, file } of files) {
    if (file.trainedContext !== first.trainedContext) {
      throw new PosencConfigError(
        "conflict",
        `${path}: trainedContext`,
        file.trainedContext,
        `${first.trainedContext}`,
      );
    }
    if (file.split !== first.split) {
      throw new PosencConfigError("conflict", `${path}: split`, file.split, `"${first.split}"`);
    }
    file.curves.forEach((curve, i) => {
      if (curve.target !== target) {
        throw new PosencConfigError("conflict", `${path}: curves[${i}].target`, curve.target, `${target}`);
      }
      const name = curveName(file.encoding, curve);
      const list = byName.get(name) ?? [];
      if (!list.some((c) => c.seed === file.seed))
        list.push({ curve, seed: file.seed, encoding: file.encoding });
      byName.set(name, list);
    });
  }
  const curves: SeedCurve[] = [];
  for (const [name, list] of byName) {
    list.sort((a, b) => a.seed - b.seed);
    const windows = [...new Set(list.flatMap((c) => c.curve.rows.map((r) => r.window)))].sort(
      (a, b) => a - b,
    );
    const points = windows.map((window) => ({
      window,
      stat: seedStat(
        list.map((c) => c.curve.rows.find((r) => r.window === window)?.bitsPerChar ?? Number.NaN),
      ),
    }));
    const { method, finetuneSteps, finetuneSegments, finetuneLength } = list[0]!.curve;
    curves.push({
      name,
      method,
      finetuneSteps,
      base: methodName(list[0]!.encoding, list[0]!.curve),
      finetuneSegments: finetuneSegments ?? 0,
      finetuneLength: finetuneLength ?? 0,
      seeds: list.map((c) => c.seed),
      points,
      finetuneSeconds: list.flatMap((c) =>
        c.curve.finetuneSeconds === undefined ? [] : [c.curve.finetuneSeconds],
      ),
      tokensPerSecond: list.flatMap((c) =>
        c.curve.tokensPerSecond === undefined ? [] : [c.curve.tokensPerSecond],
      ),
    });
  }
  // Each method's curves together, in the order the methods first appear: training-free, then by fine-tune steps,
  // segmented fine-tunes after the full-length ones.
  const bases = [...new Set(curves.map((c) => c.name.split(" +")[0]!))];
  const baseIndex = (c: SeedCurve) => bases.indexOf(c.name.split(" +")[0]!);
  curves.sort(
    (a, b) =>
      baseIndex(a) - baseIndex(b) ||
      a.finetuneSegments - b.finetuneSegments ||
      a.finetuneLength - b.finetuneLength ||
      a.finetuneSteps - b.finetuneSteps,
  );
  const cpuSeconds = files.reduce((sum, f) => sum + f.file.cpuSeconds, 0);
  return { trainedContext: first.trainedContext, target, split: first.split, curves, cpuSeconds };
}

/** "2.345 ± 0.012" (3 decimals); one seed: the value alone. */
export function formatBpc(stat: SeedStat): string {
  if (!Number.isFinite(stat.mean)) return "";
  return Number.isFinite(stat.std)
    ? `${stat.mean.toFixed(3)} ± ${stat.std.toFixed(3)}`
    : stat.mean.toFixed(3);
}

/** Markdown: one row per curve, mean ± sd per context; then the per-seed values. */
export function renderSeedsMarkdown(summary: ExtensionSummary): string {
  const contexts = [...new Set(summary.curves.flatMap((c) => c.points.map((p) => p.window)))].sort(
    (a, b) => a - b,
  );
  const mark = (t: number) => `${t}${t > summary.trainedContext ? " *" : ""}`;
  const head = `| curve | seeds | ${contexts.map(mark).join(" | ")} |`;
  const rule = `|---|---:|${contexts.map(() => "---:").join("|")}|`;
  const cell = (c: SeedCurve, t: number) => c.points.find((p) => p.window === t)?.stat;
  const body = summary.curves.map(
    (c) =>
      `| ${c.name} | ${c.seeds.length} | ${contexts.map((t) => formatBpc(cell(c, t) ?? seedStat([]))).join(" | ")} |`,
  );
  const perSeed = summary.curves.map(
    (c) =>
      `| ${c.name} | ${contexts.map((t) => (cell(c, t)?.values ?? []).map((v) => v.toFixed(3)).join(" / ")).join(" | ")} |`,
  );
  return [
    `Bits per character on the ${summary.split} split (lower is better), mean ± sample standard deviation over seeds; trained at ${summary.trainedContext} (* = longer), target ${summary.target}.`,
    "",
    head,
    rule,
    ...body,
    "",
    "Per seed (in seed order):",
    "",
    `| curve | ${contexts.map(mark).join(" | ")} |`,
    `|---|${contexts.map(() => "---:").join("|")}|`,
    ...perSeed,
    "",
  ].join("\n");
}

/** A self-contained page: both tables and the charts inline, nothing fetched. */
export function renderSeedsHtml(summary: ExtensionSummary, title: string): string {
  const markdown = renderSeedsMarkdown(summary);
  const [intro, , ...rest] = markdown.split("\n");
  const split = rest.indexOf("Per seed (in seed order):");
  const charts = renderSeedsCharts(summary, title);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>${REPORT_STYLE}</style>
</head><body>
<h1>${escapeXml(title)}</h1>
<p>${escapeXml(intro!)}</p>
${markdownTableToHtml(rest.slice(0, split).join("\n"))}
<figure>${charts.context}</figure>
${charts.steps ? `<figure>${charts.steps}</figure>` : ""}
<h2>Per seed</h2>
${markdownTableToHtml(rest.slice(split + 1).join("\n"))}
</body></html>
`;
}
