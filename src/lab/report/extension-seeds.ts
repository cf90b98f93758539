/**
 * Extension reports over seeds (`posenc report extension`): the extension.json files `posenc eval --bpc --extend
 * --report` writes, one per checkpoint, read back (validated with zod) and summarized per curve and context as
 * mean ± sample standard deviation over seeds, with the per-seed values.
 *
 * A curve is named by what the model reads with: the checkpoint's own encoding as trained ("rope", "alibi") for the
 * baseline (method "rope", no rescaling), else the method ("pi", "yarn", ...), plus " +K steps" after a fine-tune of
 * K steps at the target. Several files of one checkpoint (one per fine-tune length) repeat its training-free curves:
 * a (curve, seed) pair is kept once, the first met. Every file must share the trained context and the target.
 * Curves are listed method by method (in the order the methods first appear), each by fine-tune steps.
 */
import { z } from "zod";
import { PosencConfigError } from "../../util/validation.js";
import type { ExtensionCurve } from "../extension-eval.js";
import { readJsonFileAs } from "../zod-issues.js";
import { markdownTableToHtml, REPORT_STYLE } from "./html.js";
import { type SeedStat, seedStat } from "./summary.js";
import { escapeXml, niceTicks, PALETTE } from "./svg.js";

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
  curve: Pick<ExtensionCurve, "method" | "finetuneSteps" | "finetuneSegments" | "finetuneLength">,
): string {
  const base = curve.method === "rope" ? encoding : curve.method;
  return curve.finetuneSteps ? `${base} ${finetuneSuffix(curve)}` : base;
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
  finetuneSteps: number;
  /** Segments per row of a segmented fine-tune; 0 otherwise. */
  finetuneSegments: number;
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
    const { method, finetuneSteps, finetuneSegments } = list[0]!.curve;
    curves.push({
      name,
      method,
      finetuneSteps,
      finetuneSegments: finetuneSegments ?? 0,
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

const fmt = (x: number) => (Math.round(x * 100) / 100).toString();

/**
 * Lines of mean bpc over seeds with a band from the lowest to the highest seed, against x: log2 context (kind
 * "context") or fine-tune steps (kind "steps", linear). One colour per curve (per `group` when given: a method's
 * fine-tuned curves share its colour); the trained context and target marked.
 */
export function renderSeedsChart(
  lines: { name: string; points: { x: number; stat: SeedStat }[]; dashed?: boolean; group?: string }[],
  options: { title: string; kind: "context" | "steps"; marks?: [number, string][] },
): string {
  const width = 780;
  const height = 440;
  const m = { left: 56, right: 210, top: 40, bottom: 48 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const log = options.kind === "context";
  const xs = lines.flatMap((l) => l.points.map((p) => p.x));
  const reach = [...xs, ...(options.marks ?? []).map(([t]) => t)]; // the marks stay on the plot
  const lows = lines.flatMap((l) => l.points.map((p) => Math.min(...p.stat.values)));
  const highs = lines.flatMap((l) => l.points.map((p) => Math.max(...p.stat.values)));
  const tx = (v: number) => (log ? Math.log2(v) : v);
  const span = tx(Math.max(...reach)) - tx(Math.min(...reach));
  const xMin = tx(Math.min(...reach)) - (log ? 0.2 : span * 0.04);
  const xMax = tx(Math.max(...reach)) + (log ? 0.2 : span * 0.04);
  const yMin = Math.floor(Math.min(...lows) * 4) / 4;
  const yMax = Math.ceil(Math.max(...highs) * 4) / 4;
  const x = (v: number) => m.left + ((tx(v) - xMin) / Math.max(xMax - xMin, 1e-9)) * plotW;
  const y = (v: number) => m.top + (1 - (v - yMin) / Math.max(yMax - yMin, 1e-9)) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${m.left}" y="22" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`,
  ];
  for (const v of niceTicks(yMin, yMax, 6)) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${fmt(y(v))}" y2="${fmt(y(v))}" stroke="#cccccc" stroke-width="0.5"/>`,
      `<text x="${m.left - 8}" y="${fmt(y(v) + 4)}" text-anchor="end">${v}</text>`,
    );
  }
  for (const t of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(
      `<line x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${m.top + plotH}" y2="${m.top + plotH + 5}" stroke="#333"/>`,
      `<text x="${fmt(x(t))}" y="${m.top + plotH + 18}" text-anchor="middle">${t}</text>`,
    );
  }
  for (const [t, label] of options.marks ?? []) {
    parts.push(
      `<line x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${m.top}" y2="${m.top + plotH}" stroke="#888" stroke-dasharray="3 3"/>`,
      `<text x="${fmt(x(t) + 3)}" y="${m.top + 12}" fill="#555">${escapeXml(label)}</text>`,
    );
  }
  const xLabel = log ? "context length (characters, log scale)" : "fine-tune steps at the target";
  parts.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<text x="${m.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${xLabel}</text>`,
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">bits per character</text>`,
  );
  const groups = [...new Set(lines.map((l) => l.group ?? l.name))];
  lines.forEach((line, i) => {
    const g = groups.indexOf(line.group ?? line.name);
    const color = PALETTE[g % PALETTE.length];
    // Past the palette's colours, lines repeat a colour dotted (fine-tuned ones stay dashed).
    const dash = line.dashed
      ? ' stroke-dasharray="6 3"'
      : g >= PALETTE.length
        ? ' stroke-dasharray="2 2"'
        : "";
    const name = escapeXml(line.name);
    const pts = line.points;
    if (pts.some((p) => p.stat.values.length > 1)) {
      const upper = pts.map((p) => `${fmt(x(p.x))},${fmt(y(Math.max(...p.stat.values)))}`);
      const lower = pts.map((p) => `${fmt(x(p.x))},${fmt(y(Math.min(...p.stat.values)))}`).reverse();
      parts.push(
        `<polygon class="seed-band" fill="${color}" fill-opacity="0.12" stroke="none" points="${[...upper, ...lower].join(" ")}"/>`,
      );
    }
    parts.push(
      `<polyline class="curve" data-curve="${name}" fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map((p) => `${fmt(x(p.x))},${fmt(y(p.stat.mean))}`).join(" ")}"/>`,
      ...pts.map((p) => `<circle cx="${fmt(x(p.x))}" cy="${fmt(y(p.stat.mean))}" r="3" fill="${color}"/>`),
    );
    const ly = m.top + 10 + i * 18;
    const lx0 = m.left + plotW + 16;
    parts.push(
      `<line x1="${lx0}" x2="${lx0 + 26}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"${dash}/>`,
      `<text x="${lx0 + 32}" y="${ly + 4}">${name}</text>`,
    );
  });
  if (lines.some((l) => l.points.some((p) => p.stat.values.length > 1))) {
    const ly = m.top + 10 + lines.length * 18 + 6;
    parts.push(
      `<text x="${m.left + plotW + 16}" y="${ly + 4}" fill="#555" font-size="11">line: mean over seeds</text>`,
      `<text x="${m.left + plotW + 16}" y="${ly + 18}" fill="#555" font-size="11">band: lowest to highest seed</text>`,
    );
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** A fine-tune family: a method, and its segments per row (0: rows of the target). */
const familyOf = (c: SeedCurve) => `${c.method}|${c.finetuneSegments}`;

/**
 * bpc at context `window` against fine-tune steps, one line per method (and per segment count of a segmented
 * fine-tune): the method's training-free curve is step 0, each fine-tuned curve one more point. Methods without a
 * fine-tuned curve are left out.
 */
export function stepsLines(summary: ExtensionSummary, window: number) {
  const tuned = summary.curves.filter((c) => c.finetuneSteps > 0);
  const families = [...new Map(tuned.map((c) => [familyOf(c), c])).values()];
  return families.map(({ method, finetuneSegments }) => {
    const own = summary.curves
      .filter(
        (c) => c.method === method && (c.finetuneSteps === 0 || c.finetuneSegments === finetuneSegments),
      )
      .sort((a, b) => a.finetuneSteps - b.finetuneSteps);
    const base = own.find((c) => c.finetuneSteps === 0);
    const name = `${base ? base.name : method}${finetuneSegments ? ` (${finetuneSegments} segments)` : ""}`;
    const points = own.flatMap((c) => {
      const point = c.points.find((p) => p.window === window);
      return point ? [{ x: c.finetuneSteps, stat: point.stat }] : [];
    });
    return { name, points };
  });
}

/** The context chart's lines: every training-free curve, and each method's longest fine-tune, dashed. */
export function contextLines(summary: ExtensionSummary) {
  const longest = new Map<string, number>();
  for (const c of summary.curves)
    longest.set(familyOf(c), Math.max(longest.get(familyOf(c)) ?? 0, c.finetuneSteps));
  return summary.curves
    .filter((c) => c.finetuneSteps === 0 || c.finetuneSteps === longest.get(familyOf(c)))
    .map((c) => ({
      name: c.name,
      dashed: c.finetuneSteps > 0,
      points: c.points.map((p) => ({ x: p.window, stat: p.stat })),
    }));
}

/** The charts of a summary: bpc against context, and (with fine-tunes) bpc at the target against steps. */
export function renderSeedsCharts(
  summary: ExtensionSummary,
  title: string,
): { context: string; steps?: string } {
  const marks: [number, string][] = [
    [summary.trainedContext, `trained ${summary.trainedContext}`],
    [summary.target, `target ${summary.target}`],
  ];
  const context = renderSeedsChart(contextLines(summary), { title, kind: "context", marks });
  const lines = stepsLines(summary, summary.target);
  if (lines.length === 0) return { context };
  const steps = renderSeedsChart(lines, {
    title: `${title}: bpc at ${summary.target} against fine-tune steps`,
    kind: "steps",
  });
  return { context, steps };
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
