/**
 * Aggregation of result rows, the only input of every report.
 *
 * For encoding e and seed s, the accuracy over a set of lengths L (in-distribution: the test lengths inside the
 * training range; out-of-distribution: the test lengths outside it) is the mean over n in L of the per-length
 * accuracy, each length weighted equally (the calibration's bucket columns). Over seeds, a cell reports the mean,
 * the sample standard deviation (n - 1; none for one seed) and the per-seed values.
 */
import { encodingLabel, inDistributionRange, type LengthRange } from "../config.js";
import type { ResultRow } from "../evaluate.js";
import type { ResultsFile, RunSummary } from "../results.js";

export type Metric = "sequenceAccuracy" | "tokenAccuracy";

export interface SeedStat {
  mean: number;
  /** Sample standard deviation over seeds; NaN with one seed. */
  std: number;
  /** Per-seed values in seed order. */
  values: number[];
}

export interface EncodingSummary {
  encoding: string;
  seeds: number[];
  inDistribution: Record<Metric, SeedStat>;
  outOfDistribution: Record<Metric, SeedStat>;
  /** Mean training seconds per run and mean tokens/s. */
  trainSeconds: number;
  tokensPerSecond: number;
}

export function seedStat(values: number[]): SeedStat {
  const finite = values.filter(Number.isFinite);
  const n = finite.length;
  const mean = n ? finite.reduce((a, b) => a + b, 0) / n : Number.NaN;
  const std = n > 1 ? Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : Number.NaN;
  return { mean, std, values };
}

/** The test lengths of the results, split by the training range. */
export function lengthSplit(file: ResultsFile): {
  inside: number[];
  outside: number[];
  train: LengthRange;
  test: LengthRange;
} {
  const train = inDistributionRange(file.config);
  const test = file.config.eval.length;
  const lengths = [...new Set(file.rows.map((r) => r.length))].sort((a, b) => a - b);
  return {
    inside: lengths.filter((n) => n >= train.min && n <= train.max),
    outside: lengths.filter((n) => n < train.min || n > train.max),
    train,
    test,
  };
}

function meanAt(rows: readonly ResultRow[], lengths: readonly number[], metric: Metric): number {
  const set = new Set(lengths);
  const picked = rows.filter((r) => set.has(r.length));
  if (picked.length === 0) return Number.NaN;
  return picked.reduce((a, r) => a + r[metric], 0) / picked.length;
}

/** The encodings of the results in config order (those with rows). */
export function encodingsOf(file: ResultsFile): string[] {
  const present = new Set(file.rows.map((r) => r.encoding));
  return file.config.encodings.map(encodingLabel).filter((e) => present.has(e));
}

/**
 * The mean of `metric` over `lengths` (each length weighted equally) for each seed of `encoding` that has rows, in
 * config order; NaN for a seed with no row at those lengths.
 */
export function perSeedMeans(
  file: ResultsFile,
  encoding: string,
  lengths: readonly number[],
  metric: Metric,
): number[] {
  const rows = file.rows.filter((r) => r.encoding === encoding);
  const seeds = file.config.seeds.filter((s) => rows.some((r) => r.seed === s));
  return seeds.map((s) =>
    meanAt(
      rows.filter((r) => r.seed === s),
      lengths,
      metric,
    ),
  );
}

/** One summary per encoding, in config order. */
export function summarize(file: ResultsFile): EncodingSummary[] {
  const { inside, outside } = lengthSplit(file);
  return encodingsOf(file).map((encoding) => {
    const seeds = file.config.seeds.filter((s) =>
      file.rows.some((r) => r.encoding === encoding && r.seed === s),
    );
    const stat = (lengths: number[], metric: Metric) =>
      seedStat(perSeedMeans(file, encoding, lengths, metric));
    const runs: RunSummary[] = file.runs.filter((r) => r.encoding === encoding);
    const avg = (f: (r: RunSummary) => number) =>
      runs.length ? runs.reduce((a, r) => a + f(r), 0) / runs.length : Number.NaN;
    return {
      encoding,
      seeds,
      inDistribution: {
        sequenceAccuracy: stat(inside, "sequenceAccuracy"),
        tokenAccuracy: stat(inside, "tokenAccuracy"),
      },
      outOfDistribution: {
        sequenceAccuracy: stat(outside, "sequenceAccuracy"),
        tokenAccuracy: stat(outside, "tokenAccuracy"),
      },
      trainSeconds: avg((r) => r.trainSeconds),
      tokensPerSecond: avg((r) => r.tokensPerSecond),
    };
  });
}

/** One point of a chart curve: the mean over seeds at a length, and the lowest and highest seed. */
export interface CurvePoint {
  length: number;
  value: number;
  min: number;
  max: number;
  /** Seeds with a row at this length. */
  seeds: number;
}

/** Mean, lowest and highest over seeds of `metric` at each length, per encoding: the chart's curves. */
export function meanCurves(file: ResultsFile, metric: Metric): { encoding: string; points: CurvePoint[] }[] {
  return encodingsOf(file).map((encoding) => {
    const byLength = new Map<number, number[]>();
    for (const r of file.rows) {
      if (r.encoding !== encoding) continue;
      const list = byLength.get(r.length) ?? [];
      list.push(r[metric]);
      byLength.set(r.length, list);
    }
    const points = [...byLength.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([length, values]) => ({
        length,
        value: values.reduce((a, b) => a + b, 0) / values.length,
        min: Math.min(...values),
        max: Math.max(...values),
        seeds: values.length,
      }));
    return { encoding, points };
  });
}

/** "0.34", or "-" for NaN. */
export function formatAccuracy(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : "-";
}

/** "0.34 ± 0.08 (0.40/0.37/0.24)"; one seed: "0.34". */
export function formatStat(stat: SeedStat): string {
  if (stat.values.length <= 1) return formatAccuracy(stat.mean);
  const spread = Number.isFinite(stat.std) ? ` ± ${stat.std.toFixed(2)}` : "";
  return `${formatAccuracy(stat.mean)}${spread} (${stat.values.map(formatAccuracy).join("/")})`;
}

/** "1..20, 41..60" from a sorted list of lengths. */
export function describeLengths(lengths: readonly number[]): string {
  const parts: string[] = [];
  let start = lengths[0];
  for (let i = 1; i <= lengths.length; i++) {
    if (i === lengths.length || lengths[i] !== lengths[i - 1] + 1) {
      const end = lengths[i - 1];
      if (start !== undefined) parts.push(start === end ? `${start}` : `${start}..${end}`);
      start = lengths[i];
    }
  }
  return parts.join(", ") || "none";
}
