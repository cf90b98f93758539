/**
 * Passkey retrieval accuracy of a causal character model over a grid context length x needle depth (the
 * "lost in the middle" picture of Liu et al. 2023, arXiv:2307.03172, measured with the passkey test of
 * Mohtashami & Jaggi 2023, arXiv:2305.16300; examples from src/tasks/text/passkey-haystack.ts).
 *
 * Cell (T, depth): N examples of context T with the needle after round(depth * n) filler characters, drawn from
 *   Rng(deriveSeed(deriveSeed(seed, PASSKEY_STREAM, T), round(depth * 10^6)))
 * so a cell's examples depend only on (seed, T, depth), not on the rest of the grid (adding a row changes no other
 * cell). accuracy = (examples whose k answer digits are all the argmax) / N (teacher-forced exact match, see
 * passkey-haystack.ts); digitAccuracy = right digits / (k N).
 *
 * Memory: one example (one batch row) per forward pass inside its own tidy, as in perplexity.ts, so at most one
 * T x T attention score matrix per head is alive at a time.
 */
import { noGrad, tidy } from "../engine/index.js";
import { DEFAULT_PASSKEY_DIGITS, minPasskeyContext, passkeyBatch } from "../tasks/text/passkey-haystack.js";
import { Rng } from "../util/rng.js";
import { checkNumber, PosencConfigError } from "../util/validation.js";
import type { LabModel } from "./model.js";
import { deriveSeed } from "./seeds.js";

/** The seed stream of passkey grids (disjoint from seeds.ts's init, train and eval streams). */
export const PASSKEY_STREAM = 0x9a55;

export interface PasskeyGridOptions {
  /** Context lengths T (characters read), each at least minPasskeyContext(digits). */
  contexts: readonly number[];
  /** Needle depths in [0, 1]. */
  depths: readonly number[];
  /** Examples per cell. */
  perCell: number;
  seed: number;
  /** Digits of the passkey (default 5). */
  digits?: number;
  /** Called after each cell (progress). */
  onCell?: (cell: PasskeyCell) => void;
}

export interface PasskeyCell {
  context: number;
  depth: number;
  examples: number;
  correct: number;
  accuracy: number;
  digitAccuracy: number;
}

/** The JSON form of a grid: cells row-major, contexts (rows) then depths (columns), in the order given. */
export interface PasskeyGrid {
  contexts: number[];
  depths: number[];
  perCell: number;
  digits: number;
  seed: number;
  cells: PasskeyCell[];
}

/** The seed of cell (context, depth); see the file comment. */
export function passkeyCellSeed(seed: number, context: number, depth: number): number {
  return deriveSeed(deriveSeed(seed, PASSKEY_STREAM, context), Math.round(depth * 1e6));
}

/** Validates the grid (before any model work): one clear error naming the bad entry. */
export function checkPasskeyGrid(options: PasskeyGridOptions, fillerChars: number): void {
  const digits = checkNumber("passkey.digits", options.digits ?? DEFAULT_PASSKEY_DIGITS, {
    integer: true,
    min: 1,
    max: 32,
  });
  checkNumber("passkey.perCell", options.perCell, { integer: true, min: 1 });
  if (options.contexts.length === 0)
    throw new PosencConfigError("invalid_value", "passkey.contexts", "[]", "at least one context length");
  if (options.depths.length === 0)
    throw new PosencConfigError("invalid_value", "passkey.depths", "[]", "at least one depth");
  const min = minPasskeyContext(digits);
  options.contexts.forEach((t, i) => {
    checkNumber(`passkey.contexts[${i}]`, t, { integer: true, min, max: fillerChars + min });
  });
  options.depths.forEach((d, i) => {
    checkNumber(`passkey.depths[${i}]`, d, { min: 0, max: 1 });
  });
}

/** Argmax of one row of logits. */
function argmax(logits: ArrayLike<number>, offset: number, vocab: number): number {
  let best = 0;
  for (let c = 1; c < vocab; c++) if (logits[offset + c] > logits[offset + best]) best = c;
  return best;
}

/** Passkey accuracy of `model` at every cell of the grid, filler from `text` (ids of the char-lm.ts alphabet). */
export function evaluatePasskeyGrid(
  model: LabModel,
  text: Int32Array,
  vocabSize: number,
  options: PasskeyGridOptions,
): PasskeyGrid {
  checkPasskeyGrid(options, text.length);
  const digits = options.digits ?? DEFAULT_PASSKEY_DIGITS;
  const cells: PasskeyCell[] = [];
  for (const context of options.contexts) {
    for (const depth of options.depths) {
      const cellSeed = passkeyCellSeed(options.seed, context, depth);
      const rng = new Rng(cellSeed);
      // The model's own randomness (randomized position ids) draws from a second stream, so the examples of a
      // cell are the same for every model.
      const modelRng = new Rng(deriveSeed(cellSeed, PASSKEY_STREAM, 1));
      let correct = 0;
      let digitsRight = 0;
      for (let i = 0; i < options.perCell; i++) {
        const batch = passkeyBatch(rng, text, 1, context, { digits, depth });
        const right = tidy(() =>
          noGrad(() => {
            const logits = model.forward(batch, { rng: modelRng, training: false }).data;
            if (logits.length !== context * vocabSize) {
              throw new RangeError(
                `evaluatePasskeyGrid: model returned ${logits.length} logits, expected ${context * vocabSize}`,
              );
            }
            let n = 0;
            for (let t = context - digits; t < context; t++)
              if (argmax(logits, t * vocabSize, vocabSize) === batch.targets[t]) n++;
            return n;
          }),
        );
        digitsRight += right;
        if (right === digits) correct++;
      }
      const cell: PasskeyCell = {
        context,
        depth,
        examples: options.perCell,
        correct,
        accuracy: correct / options.perCell,
        digitAccuracy: digitsRight / (digits * options.perCell),
      };
      options.onCell?.(cell);
      cells.push(cell);
    }
  }
  return {
    contexts: [...options.contexts],
    depths: [...options.depths],
    perCell: options.perCell,
    digits,
    seed: options.seed,
    cells,
  };
}
