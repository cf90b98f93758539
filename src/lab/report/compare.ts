/**
 * Two runs of one experiment side by side (`posenc report compare A B`): a rerun after a code change, or the same
 * grid on another machine. Is every figure unchanged within the seed spread?
 *
 * For each encoding in both files, for the in-distribution lengths and the lengths beyond training (summary.ts),
 * plus an optional range of lengths, and for exact match and token accuracy: the mean over seeds on each side,
 * the difference d = mean_B - mean_A, and Welch's two-sided test at the 5% level:
 *   se = sqrt(s_A^2 / n_A + s_B^2 / n_B)                 (s = sample sd over seeds, n = seeds)
 *   nu = se^4 / ((s_A^2/n_A)^2 / (n_A - 1) + (s_B^2/n_B)^2 / (n_B - 1))     (Welch-Satterthwaite)
 *   within when |d| <= t(0.975, nu) se                  (3 seeds a side, equal spreads: nu = 4, t = 2.78)
 * so an unchanged figure is called moved 5% of the time: over a grid of 30 figures expect one or two such
 * false alarms, and read a lone one with that in mind. Both sides need two seeds or more (one seed has no
 * spread: the cell says so). At the ceiling or the floor the seeds barely differ (0.99/0.99/1.00) and the bound
 * shrinks below what any report shows, so a difference up to a tolerance (default 0.01, the reports' two
 * decimals) also counts as unchanged, and the cell says which rule held (as numpy's isclose pairs a relative
 * test with an absolute tolerance). The t quantile is jStat's (npm "jstat").
 */
import jstat from "jstat";
import { PosencConfigError } from "../../util/validation.js";
import { inDistributionRange } from "../config.js";
import type { ResultsFile } from "../results.js";
import {
  describeLengths,
  formatStat,
  lengthSplit,
  type Metric,
  perSeedMeans,
  type SeedStat,
  seedStat,
} from "./summary.js";

export interface ComparedFigure {
  encoding: string;
  /** The lengths averaged, as "1..20". */
  lengths: string;
  metric: Metric;
  a: SeedStat;
  b: SeedStat;
  /** mean_B - mean_A. */
  difference: number;
  /** t(0.975, nu) se, the 95% bound of an unchanged difference (see the file comment); NaN without a spread. */
  bound: number;
  /** |difference| <= max(bound, tolerance); null where a side has fewer than two seeds (or no rows). */
  within: boolean | null;
  /** Which rule held: "spread" (|d| <= bound) or "tolerance" (only |d| <= tolerance); null when not within. */
  rule: "spread" | "tolerance" | null;
}

export interface Comparison {
  /** The absolute tolerance used (see the file comment). */
  tolerance: number;
  figures: ComparedFigure[];
  /** Encodings in one file only (not compared). */
  onlyA: string[];
  onlyB: string[];
}

const METRICS: readonly Metric[] = ["sequenceAccuracy", "tokenAccuracy"];

/** Per-seed means over `lengths` (summary.ts, as every report computes them), seeds without a row left out. */
const perSeed = (file: ResultsFile, encoding: string, lengths: readonly number[], metric: Metric) =>
  perSeedMeans(file, encoding, lengths, metric).filter(Number.isFinite);

/** The default absolute tolerance: the reports print two decimals. */
export const COMPARE_TOLERANCE = 0.01;

/** One figure on both sides; see the file comment. */
export function compareFigure(
  a: number[],
  b: number[],
  tolerance = COMPARE_TOLERANCE,
): Pick<ComparedFigure, "a" | "b" | "difference" | "bound" | "within" | "rule"> {
  const sa = seedStat(a);
  const sb = seedStat(b);
  const difference = sb.mean - sa.mean;
  if (a.length < 2 || b.length < 2) {
    return { a: sa, b: sb, difference, bound: Number.NaN, within: null, rule: null };
  }
  const va = sa.std ** 2 / a.length;
  const vb = sb.std ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  // No spread on either side: only an equal mean is within the (zero) bound.
  const nu =
    se > 0 ? se ** 4 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1)) : Number.POSITIVE_INFINITY;
  const bound = se > 0 ? jstat.studentt.inv(0.975, nu) * se : 0;
  // 1e-9: equal means computed in a different order are still equal.
  const d = Math.abs(difference) - 1e-9;
  const rule = d <= bound ? "spread" : d <= tolerance ? "tolerance" : null;
  return { a: sa, b: sb, difference, bound, within: rule !== null, rule };
}

/** Every figure of two results files of one experiment; refuses two different setups in one line. */
export function compareResults(
  a: ResultsFile,
  b: ResultsFile,
  options: {
    extraLengths?: { min: number; max: number };
    tolerance?: number;
    names?: { a: string; b: string };
  } = {},
): Comparison {
  const names = options.names ?? { a: "A", b: "B" };
  if (a.config.task.id !== b.config.task.id) {
    throw new PosencConfigError(
      "conflict",
      `${names.b}: config.task.id`,
      b.config.task.id,
      `"${a.config.task.id}" (as in ${names.a})`,
    );
  }
  const trainA = inDistributionRange(a.config);
  const trainB = inDistributionRange(b.config);
  if (trainA.min !== trainB.min || trainA.max !== trainB.max) {
    throw new PosencConfigError(
      "conflict",
      `${names.b}: config.train.length`,
      `${trainB.min}..${trainB.max}`,
      `${trainA.min}..${trainA.max} (as in ${names.a}: the in-distribution lengths must be the same)`,
    );
  }
  const encodingsA = [...new Set(a.rows.map((r) => r.encoding))];
  const encodingsB = new Set(b.rows.map((r) => r.encoding));
  const shared = encodingsA.filter((e) => encodingsB.has(e));
  if (shared.length === 0) {
    throw new PosencConfigError(
      "invalid_value",
      `${names.b}: rows`,
      [...encodingsB].join(", "),
      `rows of an encoding of ${names.a} (${encodingsA.join(", ")})`,
    );
  }
  // Lengths tested on both sides only: a figure averages the same lengths in A and B.
  const lengthsB = new Set(b.rows.map((r) => r.length));
  const split = lengthSplit(a);
  const ranges = [split.inside, split.outside].map((l) => l.filter((n) => lengthsB.has(n)));
  if (options.extraLengths) {
    const { min, max } = options.extraLengths;
    const extra = [...new Set(a.rows.map((r) => r.length))].filter(
      (n) => n >= min && n <= max && lengthsB.has(n),
    );
    if (extra.length === 0) {
      throw new PosencConfigError(
        "invalid_value",
        "--lengths",
        `${min}..${max}`,
        "lengths tested in both files",
      );
    }
    ranges.push(extra.sort((x, y) => x - y));
  }
  const figures: ComparedFigure[] = [];
  for (const encoding of shared) {
    for (const lengths of ranges.filter((l) => l.length > 0)) {
      for (const metric of METRICS) {
        figures.push({
          encoding,
          lengths: describeLengths(lengths),
          metric,
          ...compareFigure(
            perSeed(a, encoding, lengths, metric),
            perSeed(b, encoding, lengths, metric),
            options.tolerance ?? COMPARE_TOLERANCE,
          ),
        });
      }
    }
  }
  return {
    tolerance: options.tolerance ?? COMPARE_TOLERANCE,
    figures,
    onlyA: encodingsA.filter((e) => !encodingsB.has(e)),
    onlyB: [...encodingsB].filter((e) => !encodingsA.includes(e)),
  };
}

const METRIC_NAMES: Record<Metric, string> = {
  sequenceAccuracy: "exact match",
  tokenAccuracy: "token accuracy",
};

/** The comparison as a Markdown table and a one-line verdict. */
export function renderComparisonMarkdown(comparison: Comparison, names: { a: string; b: string }): string {
  const sign = (x: number) => (x >= 0 ? `+${x.toFixed(3)}` : x.toFixed(3));
  const rows = comparison.figures.map((f) => {
    const verdict =
      f.within === null
        ? f.a.values.length === 0 || f.b.values.length === 0
          ? `no rows in ${f.a.values.length === 0 ? "A" : "B"}`
          : "one seed: no spread"
        : f.rule === "spread"
          ? "yes"
          : f.rule === "tolerance"
            ? `yes (within ${comparison.tolerance})`
            : "**no**";
    const bound = Number.isFinite(f.bound) ? f.bound.toFixed(3) : "-";
    return `| ${f.encoding} | ${f.lengths} | ${METRIC_NAMES[f.metric]} | ${formatStat(f.a)} | ${formatStat(f.b)} | ${sign(f.difference)} | ${bound} | ${verdict} |`;
  });
  const judged = comparison.figures.filter((f) => f.within !== null);
  const within = judged.filter((f) => f.within).length;
  const only = [
    ...(comparison.onlyA.length ? [`Only in A (not compared): ${comparison.onlyA.join(", ")}.`] : []),
    ...(comparison.onlyB.length ? [`Only in B (not compared): ${comparison.onlyB.join(", ")}.`] : []),
  ];
  return [
    `A: ${names.a}`,
    `B: ${names.b}`,
    "",
    `Mean ± sample sd over seeds (per-seed values). Within the seed spread when |B - A| <= the bound t(0.975, nu) se of Welch's test (se = sqrt(sA^2/nA + sB^2/nB)), or when |B - A| <= ${comparison.tolerance} (the reports' precision). An unchanged figure falls outside the bound 5% of the time.`,
    "",
    "| encoding | lengths | metric | A | B | B - A | bound | within spread |",
    "|---|---|---|---|---|---:|---:|---|",
    ...rows,
    "",
    `${within} of ${judged.length} figures within the seed spread or the tolerance (${judged.filter((f) => f.rule === "tolerance").length} by the tolerance only)${judged.length < comparison.figures.length ? ` (${comparison.figures.length - judged.length} with one seed not judged)` : ""}.`,
    ...only,
    "",
  ].join("\n");
}
