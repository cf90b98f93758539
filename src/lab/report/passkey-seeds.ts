/**
 * Passkey heatmaps over seeds (`posenc report passkey`): the grids `posenc eval --passkey --json` prints, one per
 * checkpoint, read back (validated with zod) and summarized per encoding and cell (context, depth) as the mean ±
 * sample standard deviation over seeds of the exact-match accuracy, with the per-seed values; one mean heatmap per
 * encoding (heatmap.ts) and a self-contained HTML page holding them all.
 *
 * Every file must share the grid (contexts, depths, examples per cell, digits), the split and the trained context,
 * so the encodings are compared on the same examples (a cell's examples depend only on (seed, context, depth), see
 * retrieval.ts); an (encoding, seed) pair may appear once. Encodings are listed in the order they first appear,
 * seeds in increasing order.
 */
import { z } from "zod";
import { PosencConfigError } from "../../util/validation.js";
import type { PasskeyGrid } from "../retrieval.js";
import { readJsonFileAs } from "../zod-issues.js";
import { renderPasskeyHeatmap } from "./heatmap.js";
import { markdownTableToHtml, REPORT_STYLE } from "./html.js";
import { type SeedStat, seedStat } from "./summary.js";
import { escapeXml } from "./svg.js";

export const PASSKEY_FORMAT = "posenc-passkey/1";

const int = (min: number) =>
  z.number().int().min(min).max(Number.MAX_SAFE_INTEGER).describe(`an integer >= ${min}`);
const fraction = z.number().min(0).max(1).describe("a number in [0, 1]");

const cellSchema = z.strictObject({
  context: int(1),
  depth: fraction,
  examples: int(1),
  correct: int(0),
  accuracy: fraction,
  digitAccuracy: fraction,
});

const fileSchema = z.strictObject({
  format: z.literal(PASSKEY_FORMAT).describe(`"${PASSKEY_FORMAT}"`),
  checkpoint: z.string().describe("the checkpoint folder"),
  encoding: z.string().min(1).describe("the checkpoint's encoding label"),
  step: int(0),
  trainedContext: int(1),
  split: z.enum(["validation", "test"]).describe('"validation" or "test"'),
  contexts: z.array(int(1)).min(1).describe("a non-empty list of context lengths"),
  depths: z.array(fraction).min(1).describe("a non-empty list of depths in [0, 1]"),
  perCell: int(1),
  digits: int(1),
  seed: int(0),
  cells: z.array(cellSchema).min(1).describe("a non-empty list of cells"),
});

export type PasskeyFile = z.output<typeof fileSchema>;

/** A passkey grid file, validated (also: one cell per (context, depth) in row-major order); one line otherwise. */
export function readPasskeyFile(path: string): PasskeyFile {
  const file = readJsonFileAs(path, fileSchema);
  const { contexts, depths, cells } = file;
  if (cells.length !== contexts.length * depths.length) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}: cells`,
      `${cells.length} cells`,
      `${contexts.length * depths.length} (contexts x depths)`,
    );
  }
  cells.forEach((cell, i) => {
    const context = contexts[Math.floor(i / depths.length)];
    const depth = depths[i % depths.length];
    if (cell.context !== context || cell.depth !== depth) {
      throw new PosencConfigError(
        "invalid_value",
        `${path}: cells[${i}]`,
        `(${cell.context}, ${cell.depth})`,
        `(context ${context}, depth ${depth}), the grid's row-major order`,
      );
    }
    if (cell.examples !== file.perCell || cell.correct > cell.examples) {
      throw new PosencConfigError(
        "invalid_value",
        `${path}: cells[${i}].correct`,
        `${cell.correct} of ${cell.examples}`,
        `at most perCell = ${file.perCell} of ${file.perCell}`,
      );
    }
  });
  return file;
}

export interface PasskeySeedCell {
  context: number;
  depth: number;
  /** Exact match over seeds (per-seed values in seed order). */
  accuracy: SeedStat;
  digitAccuracy: SeedStat;
}

export interface PasskeyEncodingSummary {
  encoding: string;
  seeds: number[];
  /** Row-major: contexts then depths, as in the files. */
  cells: PasskeySeedCell[];
}

export interface PasskeySummary {
  contexts: number[];
  depths: number[];
  perCell: number;
  digits: number;
  split: "validation" | "test";
  trainedContext: number;
  encodings: PasskeyEncodingSummary[];
}

/** Mean ± spread over seeds per encoding and cell (see the file comment); refuses mixed grids and repeats. */
export function summarizePasskeyGrids(files: readonly { path: string; file: PasskeyFile }[]): PasskeySummary {
  if (files.length === 0)
    throw new PosencConfigError("missing_key", "inputs", undefined, "passkey grid files");
  const first = files[0]!.file;
  const shared = ["contexts", "depths", "perCell", "digits", "split", "trainedContext"] as const;
  const byEncoding = new Map<string, PasskeyFile[]>();
  for (const { path, file } of files) {
    for (const key of shared) {
      if (JSON.stringify(file[key]) !== JSON.stringify(first[key])) {
        throw new PosencConfigError(
          "conflict",
          `${path}: ${key}`,
          JSON.stringify(file[key]),
          `${JSON.stringify(first[key])}, as in ${files[0]!.path}`,
        );
      }
    }
    const list = byEncoding.get(file.encoding) ?? [];
    if (list.some((f) => f.seed === file.seed)) {
      throw new PosencConfigError(
        "conflict",
        `${path}: seed`,
        file.seed,
        `one file per (encoding, seed); ${file.encoding} seed ${file.seed} is given twice`,
      );
    }
    list.push(file);
    byEncoding.set(file.encoding, list);
  }
  const encodings = [...byEncoding].map(([encoding, list]) => {
    const sorted = [...list].sort((a, b) => a.seed - b.seed);
    return {
      encoding,
      seeds: sorted.map((f) => f.seed),
      cells: first.cells.map((cell, i) => ({
        context: cell.context,
        depth: cell.depth,
        accuracy: seedStat(sorted.map((f) => f.cells[i]!.accuracy)),
        digitAccuracy: seedStat(sorted.map((f) => f.cells[i]!.digitAccuracy)),
      })),
    };
  });
  const { contexts, depths, perCell, digits, split, trainedContext } = first;
  return { contexts, depths, perCell, digits, split, trainedContext, encodings };
}

/** "0.93 ± 0.05 (1.00 0.85 0.95)": mean ± sample sd (none for one seed), then the per-seed values. */
export function formatCell(stat: SeedStat): string {
  const spread = Number.isNaN(stat.std) ? "" : ` ± ${stat.std.toFixed(2)}`;
  return `${stat.mean.toFixed(2)}${spread} (${stat.values.map((v) => v.toFixed(2)).join(" ")})`;
}

/** One table per encoding: rows contexts (trained first marked), columns depths; exact match over seeds. */
export function renderPasskeyMarkdown(summary: PasskeySummary): string {
  const { contexts, depths } = summary;
  const lines = [
    `Passkey exact match (${summary.digits} digits, ${summary.perCell} examples per cell and seed, ${summary.split} split), mean ± sd over seeds (per-seed values in seed order). Trained context ${summary.trainedContext}; * = longer.`,
    "",
  ];
  for (const enc of summary.encodings) {
    lines.push(`**${enc.encoding}** (seeds ${enc.seeds.join(", ")})`, "");
    lines.push(`| context | ${depths.map((d) => `depth ${d}`).join(" | ")} |`);
    lines.push(`| ---: | ${depths.map(() => "---:").join(" | ")} |`);
    contexts.forEach((context, r) => {
      const mark = context > summary.trainedContext ? " *" : "";
      const row = depths.map((_, c) => formatCell(enc.cells[r * depths.length + c]!.accuracy));
      lines.push(`| ${context}${mark} | ${row.join(" | ")} |`);
    });
    lines.push("");
  }
  return `${lines.join("\n")}`;
}

/** The mean heatmap of one encoding (the values printed are means over its seeds). */
export function renderMeanHeatmap(
  summary: PasskeySummary,
  enc: PasskeyEncodingSummary,
  title: string,
): string {
  const n = enc.seeds.length;
  const grid: PasskeyGrid = {
    contexts: summary.contexts,
    depths: summary.depths,
    perCell: summary.perCell,
    digits: summary.digits,
    seed: enc.seeds[0]!,
    cells: enc.cells.map((cell) => ({
      context: cell.context,
      depth: cell.depth,
      examples: summary.perCell * n,
      correct: Math.round(cell.accuracy.mean * summary.perCell * n),
      accuracy: cell.accuracy.mean,
      digitAccuracy: cell.digitAccuracy.mean,
    })),
  };
  return renderPasskeyHeatmap(grid, {
    title: `${title}: ${enc.encoding}`,
    trainedContext: summary.trainedContext,
    subtitle: `passkey exact match, mean of ${n} seed${n === 1 ? "" : "s"} (${enc.seeds.join(", ")}), ${summary.perCell} per cell and seed, ${summary.digits} digits`,
  });
}

/**
 * The mean heatmap file of every encoding, named by its label made file-name safe ("rope b=500" ->
 * "passkey-rope-b-500.svg"); a name already taken gets "-2", "-3", ... before ".svg".
 */
export function heatmapFiles(summary: PasskeySummary, title: string): [string, string][] {
  const taken = new Set<string>();
  return summary.encodings.map((enc) => {
    const safe = enc.encoding
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 80);
    const stem = `passkey-${safe || "encoding"}`;
    let name = `${stem}.svg`;
    for (let k = 2; taken.has(name); k++) name = `${stem}-${k}.svg`;
    taken.add(name);
    return [name, renderMeanHeatmap(summary, enc, title)];
  });
}

/** A self-contained page: every encoding's mean heatmap inline, then its table. */
export function renderPasskeyHtml(summary: PasskeySummary, title: string): string {
  const markdown = renderPasskeyMarkdown(summary);
  const [intro, ...rest] = markdown.split("\n");
  const sections = summary.encodings.map((enc) => {
    const start = rest.indexOf(`**${enc.encoding}** (seeds ${enc.seeds.join(", ")})`);
    const table = rest.slice(start + 2, start + 4 + summary.contexts.length).join("\n");
    return `<h2>${escapeXml(enc.encoding)}</h2>
<figure>${renderMeanHeatmap(summary, enc, title)}</figure>
${markdownTableToHtml(table)}`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>${REPORT_STYLE}</style>
</head><body>
<h1>${escapeXml(title)}</h1>
<p>${escapeXml(intro!)}</p>
${sections.join("\n")}
</body></html>
`;
}
