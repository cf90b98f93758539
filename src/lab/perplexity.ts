/**
 * Bits per character of a causal model on a fixed text, at a grid of context lengths, with a sliding window.
 *
 * Protocol (window T, stride S, 1 <= S <= T; text x_0 .. x_M, so M characters x_1..x_M are predicted):
 *   windows start at a = 0, S, 2S, ... while a + T <= M; window a reads x_a .. x_{a+T-1} and predicts
 *   x_{a+1} .. x_{a+T} (position p predicts x_{a+p+1} from the p+1 characters x_a .. x_{a+p}).
 *   The first window scores all T predictions; every later one scores only its last S (p = T-S .. T-1), the
 *   characters no earlier window scored. If characters remain after the last such window, one final window
 *   a = M - T, ending exactly at x_M, scores only those.
 *   bpc = (sum over the M scored characters of -log2 p(x_j | context)) / M.
 * Why: each character is scored exactly once, and every character past the first window is predicted from at least
 * T-S+1 characters of context (at most T), so bpc(T) measures the model reading at about T, not the average
 * over contexts 1..T that non-overlapping chunks (S = T) give; the price is T/S forward passes per T characters.
 * Every window is exactly T long (T <= M is required), one shape for the engine's allocator. The first window's
 * early characters see the whole text before them (fewer than T characters), the same at every T.
 * Comparing context lengths on the same text scores the same M characters at every T.
 *
 * Memory: one window (one batch row) per forward pass, inside its own tidy, so at most one window's activations,
 * and the attention scores of one row, are alive at a time.
 */
import { memoryStats, noGrad, tidy } from "../engine/index.js";
import type { TaskBatch } from "../tasks/types.js";
import { Rng } from "../util/rng.js";
import { checkNumber, PosencConfigError } from "../util/validation.js";
import type { LabModel } from "./model.js";

/** One window of the protocol: reads tokens[start .. start+T-1], scores positions scoreFrom .. T-1. */
export interface ScoringWindow {
  start: number;
  scoreFrom: number;
}

/** The windows of the protocol for a text of `tokens` tokens (M = tokens - 1 predictions). */
export function slidingWindows(tokens: number, window: number, stride: number): ScoringWindow[] {
  const m = tokens - 1;
  checkNumber("window", window, { integer: true, min: 1, max: Math.max(1, m) });
  checkNumber("stride", stride, { integer: true, min: 1, max: window });
  if (m < window) {
    throw new PosencConfigError("out_of_range", "window", window, `at most the ${m} scored characters`);
  }
  const windows: ScoringWindow[] = [{ start: 0, scoreFrom: 0 }];
  let lastScored = window; // last predicted index j (x_j) scored so far
  for (let a = stride; a + window <= m; a += stride) {
    windows.push({ start: a, scoreFrom: window - stride });
    lastScored = a + window;
  }
  if (lastScored < m) {
    const a = m - window;
    windows.push({ start: a, scoreFrom: lastScored - a });
  }
  return windows;
}

/** -log2 softmax(logits)[target] for one row, in float64. */
export function bitsOfRow(logits: ArrayLike<number>, offset: number, vocab: number, target: number): number {
  let max = -Infinity;
  for (let c = 0; c < vocab; c++) max = Math.max(max, logits[offset + c]);
  let sum = 0;
  for (let c = 0; c < vocab; c++) sum += Math.exp(logits[offset + c] - max);
  return (Math.log(sum) + max - logits[offset + target]) / Math.LN2;
}

export interface BitsPerCharOptions {
  /** Context length T (the window). */
  window: number;
  /** Stride S (default T/2, rounded down, at least 1). */
  stride?: number;
  /** Rng handed to the model (randomized position ids); default Rng(0). */
  rng?: Rng;
}

export interface BitsPerCharResult {
  window: number;
  stride: number;
  windows: number;
  /** Characters scored (M). */
  chars: number;
  bits: number;
  bitsPerChar: number;
}

/** The default stride: half the window (every scored character past the first window sees >= T/2 + 1 characters). */
export function defaultStride(window: number): number {
  return Math.max(1, Math.floor(window / 2));
}

/** Bits per character of `model` on `tokens` (ids of its vocabulary, `vocabSize` logits per position). */
export function bitsPerChar(
  model: LabModel,
  tokens: Int32Array,
  vocabSize: number,
  options: BitsPerCharOptions,
): BitsPerCharResult {
  const { window } = options;
  const stride = options.stride ?? defaultStride(window);
  const plan = slidingWindows(tokens.length, window, stride);
  const rng = options.rng ?? new Rng(0);
  let bits = 0;
  let chars = 0;
  for (const { start, scoreFrom } of plan) {
    const batch: TaskBatch = {
      inputs: tokens.slice(start, start + window),
      targets: tokens.slice(start + 1, start + window + 1),
      mask: new Uint8Array(window).fill(1, scoreFrom),
      batchSize: 1,
      seqLen: window,
      lengths: Int32Array.of(window),
      tokenCounts: Int32Array.of(window),
      layout: "decoder",
    };
    bits += tidy(() =>
      noGrad(() => {
        const logits = model.forward(batch, { rng, training: false }).data;
        if (logits.length !== window * vocabSize) {
          throw new RangeError(
            `bitsPerChar: model returned ${logits.length} logits, expected ${window * vocabSize}`,
          );
        }
        let sum = 0;
        for (let p = scoreFrom; p < window; p++)
          sum += bitsOfRow(logits, p * vocabSize, vocabSize, batch.targets[p]);
        return sum;
      }),
    );
    chars += window - scoreFrom;
  }
  return { window, stride, windows: plan.length, chars, bits, bitsPerChar: bits / chars };
}

export interface ContextGridOptions {
  /** Context lengths T to score, each on the same characters. */
  contexts: readonly number[];
  /** S = max(1, floor(strideFraction * T)); default 1/2. */
  strideFraction?: number;
  /** Score only the first maxChars characters of the text (its first maxChars + 1 tokens); default all. */
  maxChars?: number;
  rng?: Rng;
  /** Called after each context length (progress). */
  onContext?: (row: ContextBitsRow) => void;
}

export interface ContextBitsRow extends BitsPerCharResult {
  /** Process resident set size and engine heap (bytes) after this context length: memory against T. */
  rssBytes: number;
  engineHeapBytes: number;
  seconds: number;
}

/** Bits per character at every context length of the grid, each scoring the same characters. */
export function bitsPerCharByContext(
  model: LabModel,
  tokens: Int32Array,
  vocabSize: number,
  options: ContextGridOptions,
): ContextBitsRow[] {
  const fraction = checkNumber("strideFraction", options.strideFraction ?? 0.5, {
    min: 0,
    exclusiveMin: true,
    max: 1,
  });
  const maxChars = options.maxChars ?? tokens.length - 1;
  checkNumber("maxChars", maxChars, { integer: true, min: 1 });
  const text = tokens.subarray(0, Math.min(tokens.length, maxChars + 1));
  const rows: ContextBitsRow[] = [];
  for (const window of options.contexts) {
    const began = performance.now();
    const result = bitsPerChar(model, text, vocabSize, {
      window,
      stride: Math.max(1, Math.floor(fraction * window)),
      rng: options.rng ?? new Rng(0),
    });
    const row: ContextBitsRow = {
      ...result,
      rssBytes: process.memoryUsage.rss(),
      engineHeapBytes: memoryStats().heapBytes,
      seconds: (performance.now() - began) / 1000,
    };
    options.onContext?.(row);
    rows.push(row);
  }
  return rows;
}
