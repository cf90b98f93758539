/**
 * LongRoPE's evolutionary search over per-pair rescale factors ("LongRoPE: Extending LLM Context Window Beyond 2
 * Million Tokens", arXiv:2402.13753, section 3.2), on a trained RoPE checkpoint, scored by validation bits per
 * character at the target length, training-free. One search per checkpoint; its result file is what
 * `posenc extend --longrope-factors` and `posenc eval --extend longrope --longrope-factors` read.
 *
 * Factors lambda_i (theta'_i = theta_i / lambda_i, i = 0 .. d/2 - 1) for s = T / L0:
 *   initial population: PI (lambda_i = s), NTK-aware (lambda_i = s^(2i/(d-2))), YaRN's ramp at s, and random
 *     monotone vectors between 1 and s (the paper seeds with PI, NTK and YaRN);
 *   constraint: non-decreasing in i (the paper's "monotonically non-decreasing" rule, authors' dim_mono), each in
 *     [1, 2 s], on a grid of 0.01;
 *   each generation: keep the best `parents`, then `mutations` children (each factor moved by a normal step of
 *     0.1 s with probability 0.3, then made monotone) and `crossovers` children (each factor from one of two
 *     parents at random, then made monotone); an already scored vector is not scored again;
 *   stops after `evaluations` scored vectors (about 100: the authors use populations of 64 over 40 iterations).
 * The authors' hyper-parameters (population 64, 32 parents, 16 mutations + 16 crossovers) are scaled down to
 * population 16, 8 parents, 4 + 4 children, so that 100 evaluations make about 11 generations.
 */
import { Rng } from "../util/rng.js";
import { checkNumber } from "../util/validation.js";

export const LONGROPE_SEARCH_FORMAT = "posenc-longrope-search/1";

export interface LongropeSearchOptions {
  /** Rotated pairs d/2. */
  pairs: number;
  /** s = T / L0 (> 1). */
  factor: number;
  /** Scored vectors at most (default 100). */
  evaluations?: number;
  seed?: number;
  population?: number;
  parents?: number;
  /** Lower is better (validation bits per character of the model with these long factors). */
  score: (longFactor: number[]) => number;
  onEvaluation?: (index: number, longFactor: number[], score: number) => void;
}

export interface LongropeSearchResult {
  format: typeof LONGROPE_SEARCH_FORMAT;
  /** Best factors found (one per rotary pair), and the short factors (all 1: the model is unchanged within L0). */
  longFactor: number[];
  shortFactor: number[];
  bestScore: number;
  /** Score of the initial PI, NTK and YaRN-ramp vectors, for comparison. */
  seeds: { name: string; score: number }[];
  evaluations: number;
  seed: number;
}

/** Monotone (non-decreasing), clamped to [1, 2s], rounded to 0.01. */
export function monotoneFactors(values: readonly number[], factor: number): number[] {
  const out: number[] = [];
  let floor = 1;
  for (const v of values) {
    const x = Math.round(Math.min(2 * factor, Math.max(floor, v)) * 100) / 100;
    out.push(x);
    floor = x;
  }
  return out;
}

/** The search's starting vectors: PI, NTK-aware and a YaRN-like ramp (extrapolate high frequencies). */
export function seedFactors(pairs: number, factor: number): { name: string; longFactor: number[] }[] {
  const ntk = Array.from({ length: pairs }, (_, i) => factor ** (pairs > 1 ? i / (pairs - 1) : 1));
  // Ramp: 1 for the first quarter of the pairs, s for the last quarter, linear between.
  const ramp = Array.from({ length: pairs }, (_, i) => {
    const t = Math.min(1, Math.max(0, (i / Math.max(1, pairs - 1) - 0.25) / 0.5));
    return 1 + t * (factor - 1);
  });
  return [
    { name: "pi", longFactor: monotoneFactors(new Array(pairs).fill(factor), factor) },
    { name: "ntk", longFactor: monotoneFactors(ntk, factor) },
    { name: "ramp", longFactor: monotoneFactors(ramp, factor) },
  ];
}

/** The evolutionary search; see the file comment. */
export function longropeSearch(options: LongropeSearchOptions): LongropeSearchResult {
  const { pairs, factor, score } = options;
  checkNumber("pairs", pairs, { integer: true, min: 1 });
  checkNumber("factor", factor, { min: 1, exclusiveMin: true });
  const budget = checkNumber("evaluations", options.evaluations ?? 100, {
    integer: true,
    min: 3,
    max: 10000,
  });
  const seed = options.seed ?? 0;
  const populationSize = options.population ?? 16;
  const parents = options.parents ?? 8;
  const rng = new Rng(seed);
  const scored = new Map<string, number>();
  let count = 0;
  const evaluate = (v: number[]): number => {
    const key = v.join(",");
    const known = scored.get(key);
    if (known !== undefined) return known;
    const value = score(v);
    scored.set(key, value);
    options.onEvaluation?.(count, v, value);
    count++;
    return value;
  };
  const seeds = seedFactors(pairs, factor);
  let population = seeds.map((s) => ({ v: s.longFactor, score: evaluate(s.longFactor) }));
  const seedScores = seeds.map((s, i) => ({ name: s.name, score: population[i]!.score }));
  while (population.length < populationSize && count < budget) {
    const random = Array.from({ length: pairs }, () => 1 + rng.next() * (factor - 1)).sort((a, b) => a - b);
    const v = monotoneFactors(random, factor);
    population.push({ v, score: evaluate(v) });
  }
  const mutate = (v: number[]) =>
    monotoneFactors(
      v.map((x) => (rng.next() < 0.3 ? x + 0.1 * factor * rng.normal() : x)),
      factor,
    );
  const cross = (a: number[], b: number[]) =>
    monotoneFactors(
      a.map((x, i) => (rng.next() < 0.5 ? x : b[i]!)),
      factor,
    );
  let stale = 0;
  while (count < budget && stale < 50) {
    population.sort((a, b) => a.score - b.score);
    const best = population.slice(0, parents);
    const children: number[][] = [];
    for (let i = 0; i < (populationSize - parents) / 2; i++) children.push(mutate(best[rng.int(parents)]!.v));
    for (let i = 0; i < (populationSize - parents) / 2; i++) {
      children.push(cross(best[rng.int(parents)]!.v, best[rng.int(parents)]!.v));
    }
    const before = count;
    const next = [...best];
    for (const v of children) {
      if (count >= budget) break;
      next.push({ v, score: evaluate(v) });
    }
    stale = count === before ? stale + 1 : 0;
    population = next;
  }
  population.sort((a, b) => a.score - b.score);
  const winner = population[0]!;
  return {
    format: LONGROPE_SEARCH_FORMAT,
    longFactor: winner.v,
    shortFactor: new Array(pairs).fill(1),
    bestScore: winner.score,
    seeds: seedScores,
    evaluations: count,
    seed,
  };
}
