/**
 * Passkey retrieval in a haystack of real text (needle in a haystack), character level, after Mohtashami & Jaggi 2023,
 * "Landmark Attention: Random-Access Infinite Context Length for Transformers" (arXiv:2305.16300), with the filler
 * sentence replaced by running text of one split of the Brown Corpus (brown-corpus.ts), as in the needle-in-a-haystack
 * tests of long-context models.
 *
 * One example of context length T (characters the model reads), passkey of k digits d_1..d_k uniform in 0..9:
 *   needle = " The pass key is d_1..d_k. Remember it. "       query = "\nWhat is the pass key? The pass key is "
 *   n      = T + 1 - |needle| - |query| - k                     (filler characters; T >= MIN so that n >= 0)
 *   filler = text[s .. s+n-1],  s uniform in [0, N - n]       (N = characters of the split)
 *   p      = round(depth * n)                                   (filler characters before the needle; depth 0 puts the
 *                                                                needle first, 1 last; no depth: p uniform in 0..n)
 *   seq    = filler[0..p-1] needle filler[p..n-1] query d_1..d_k          (T + 1 characters)
 *   inputs[t] = seq[t], targets[t] = seq[t+1] for t = 0..T-1 (the char-lm.ts layout: a plain window of text)
 * The answer digits are predicted at positions T-k .. T-1; an example is retrieved iff the argmax at all k of them is
 * the digit (teacher-forced exact match, which equals greedy decoding's exact match: greedy reproduces the teacher's
 * prefix as long as every digit is right).
 *
 * Training mix (`brown_passkey`): each row of a batch is, independently with probability `passkeyFraction`, a passkey
 * example (depth uniform unless given) and otherwise an ordinary language-modelling window of the split. With
 * `passkeyLoss: "all"` (default) every position of every row is a loss position (the passkey row is text too), so
 * the mix keeps the bits-per-character objective and adds the retrieval signal that a model this small does not get
 * from the corpus alone. In a passkey row of T = 128 the k = 5 answer digits are 5 / 128 = 4% of its loss, and the
 * rest is filler the model learns anyway from the LM rows; `passkeyLoss: "answer"` scores only the k answer
 * positions T-k .. T-1 of a passkey row (LM rows keep every position), so with passkeyFraction f a batch's loss is
 * the mean over f k answer digits and (1 - f) T text characters per row. `answerWeight: w` fixes the answer digits'
 * share instead: loss = (1 - w) mean CE over the other scored characters + w mean CE over the answer digits of the
 * batch's passkey rows (TaskBatch.weightedGroup; train.ts batchLoss). Evaluation rows (`passkeyBatch`) score only the
 * k answer positions.
 */
import type { Rng } from "../../util/rng.js";
import { checkChoice, checkNumber, PosencConfigError } from "../../util/validation.js";
import { MOHTASHAMI_2023 } from "../papers.js";
import type { TaskBatch, TaskDefinition } from "../types.js";
import { brownSplitTokens, TEXT_SPLITS } from "./brown-corpus.js";
import { type CharRow, charLanguageModelTask, encodeChars } from "./char-lm.js";

export const NEEDLE_PREFIX = " The pass key is ";
export const NEEDLE_SUFFIX = ". Remember it. ";
export const PASSKEY_QUERY = "\nWhat is the pass key? The pass key is ";
export const DEFAULT_PASSKEY_DIGITS = 5;

const PREFIX_IDS = encodeChars(NEEDLE_PREFIX);
const SUFFIX_IDS = encodeChars(NEEDLE_SUFFIX);
const QUERY_IDS = encodeChars(PASSKEY_QUERY);
/** Id of the digit "0" in the character alphabet ("0".."9" are consecutive). */
const DIGIT_ZERO = encodeChars("0")[0];

/** Characters of needle + query + answer beyond the filler, for k digits. */
export function passkeyOverhead(digits: number): number {
  return PREFIX_IDS.length + digits + SUFFIX_IDS.length + QUERY_IDS.length + digits;
}

/** The shortest context T holding a k-digit passkey example with no filler (n = 0). */
export function minPasskeyContext(digits: number): number {
  return passkeyOverhead(digits) - 1;
}

export interface PasskeyExample {
  /** T + 1 character ids: inputs are seq[0..T-1], targets seq[1..T]. */
  sequence: Int32Array;
  /** The passkey as text, e.g. "40719". */
  passkey: string;
  /** Filler characters n and filler characters before the needle p. */
  filler: number;
  before: number;
  /** Index in `sequence` of the needle's first character (= p). */
  needleStart: number;
}

/** One passkey example of context `context` over `text` (ids of the char-lm.ts alphabet); see the file comment. */
export function passkeyExample(
  rng: Rng,
  text: Int32Array,
  context: number,
  options: { digits?: number; depth?: number } = {},
): PasskeyExample {
  const digits = options.digits ?? DEFAULT_PASSKEY_DIGITS;
  const n = context + 1 - passkeyOverhead(digits);
  if (n < 0) {
    throw new PosencConfigError(
      "out_of_range",
      "passkey context",
      context,
      `at least ${minPasskeyContext(digits)} characters for a ${digits}-digit passkey`,
    );
  }
  if (n > text.length) {
    throw new PosencConfigError(
      "out_of_range",
      "passkey context",
      context,
      `filler within the ${text.length} characters of the text`,
    );
  }
  const start = rng.int(text.length - n + 1);
  const before = options.depth === undefined ? rng.intBetween(0, n) : Math.round(options.depth * n);
  const key = new Int32Array(digits);
  for (let i = 0; i < digits; i++) key[i] = DIGIT_ZERO + rng.int(10);
  const sequence = new Int32Array(context + 1);
  let at = 0;
  const put = (ids: ArrayLike<number>) => {
    sequence.set(ids as Int32Array, at);
    at += ids.length;
  };
  put(text.subarray(start, start + before));
  put(PREFIX_IDS);
  put(key);
  put(SUFFIX_IDS);
  put(text.subarray(start + before, start + n));
  put(QUERY_IDS);
  put(key);
  return {
    sequence,
    passkey: Array.from(key, (id) => String(id - DIGIT_ZERO)).join(""),
    filler: n,
    before,
    needleStart: before,
  };
}

/**
 * A batch of `count` passkey examples of one context and depth, scoring only the k answer positions (T-k .. T-1).
 * Rows are built in order from `rng`: the same rng state gives the same batch.
 */
export function passkeyBatch(
  rng: Rng,
  text: Int32Array,
  count: number,
  context: number,
  options: { digits?: number; depth?: number } = {},
): TaskBatch {
  const digits = options.digits ?? DEFAULT_PASSKEY_DIGITS;
  const inputs = new Int32Array(count * context);
  const targets = new Int32Array(count * context);
  const mask = new Uint8Array(count * context);
  for (let b = 0; b < count; b++) {
    const { sequence } = passkeyExample(rng, text, context, options);
    inputs.set(sequence.subarray(0, context), b * context);
    targets.set(sequence.subarray(1), b * context);
    mask.fill(1, b * context + context - digits, (b + 1) * context);
  }
  const lengths = new Int32Array(count).fill(context);
  return {
    inputs,
    targets,
    mask,
    batchSize: count,
    seqLen: context,
    lengths,
    tokenCounts: lengths.slice(),
    layout: "decoder",
  };
}

export interface PasskeyMixParams {
  /** Split of the Brown Corpus the filler and LM windows come from (default "train"). */
  split?: (typeof TEXT_SPLITS)[number];
  /** Probability that a row is a passkey example (default 0.25); 0 gives plain brown_chars windows. */
  passkeyFraction?: number;
  /** Digits of the passkey (default 5). */
  passkeyDigits?: number;
  /** Fixed needle depth in [0, 1] for passkey rows (default: uniform per example). */
  depth?: number;
  /** Loss positions of a passkey row: "all" (default, every character) or "answer" (the k answer digits only). */
  passkeyLoss?: (typeof PASSKEY_LOSSES)[number];
  /** Share w in (0, 1) of the loss carried by the answer digits of passkey rows (default: none, a plain mean). */
  answerWeight?: number;
}

/** What a passkey row of the training mix scores (see the file comment). */
export const PASSKEY_LOSSES = ["all", "answer"] as const;

/** The training mix over `text`: LM windows and, with probability passkeyFraction, passkey examples. */
export function passkeyMixTask(
  spec: Pick<TaskDefinition, "id" | "level" | "paper" | "description">,
  text: Int32Array,
  params: Omit<PasskeyMixParams, "split"> = {},
): TaskDefinition {
  const fraction = checkNumber(`${spec.id}.passkeyFraction`, params.passkeyFraction ?? 0.25, {
    min: 0,
    max: 1,
  });
  const digits = checkNumber(`${spec.id}.passkeyDigits`, params.passkeyDigits ?? DEFAULT_PASSKEY_DIGITS, {
    integer: true,
    min: 1,
    max: 32,
  });
  const depth =
    params.depth === undefined
      ? undefined
      : checkNumber(`${spec.id}.depth`, params.depth, { min: 0, max: 1 });
  const answerOnly =
    checkChoice(`${spec.id}.passkeyLoss`, params.passkeyLoss ?? "all", PASSKEY_LOSSES) === "answer";
  const answerWeight =
    params.answerWeight === undefined
      ? undefined
      : checkNumber(`${spec.id}.answerWeight`, params.answerWeight, {
          min: 0,
          exclusiveMin: true,
          max: 1,
          exclusiveMax: true,
        });
  return charLanguageModelTask(spec, text, {
    // One row: a passkey example with probability `fraction` (the coin drawn first), else a plain window.
    row(rng: Rng, length: number): CharRow {
      if (rng.next() < fraction) {
        const { sequence } = passkeyExample(rng, text, length, { digits, depth });
        const answerFrom = length - digits;
        return {
          sequence,
          scoredFrom: answerOnly ? answerFrom : 0,
          ...(answerWeight === undefined ? {} : { groupFrom: answerFrom }),
        };
      }
      const start = rng.int(text.length - length);
      return { sequence: text.subarray(start, start + length + 1), scoredFrom: 0 };
    },
    ...(answerWeight === undefined ? {} : { groupWeight: answerWeight }),
    minLength: fraction > 0 ? minPasskeyContext(digits) : 1,
    lengthMeaning: "context length in characters (a passkey row needs at least the needle, query and answer)",
  });
}

/** Registry factory of `brown_passkey`: Brown Corpus character LM with passkey examples mixed in. */
export function brownPasskeyTask(params: PasskeyMixParams): TaskDefinition {
  const split = checkChoice("brown_passkey.split", params.split ?? "train", TEXT_SPLITS);
  const { split: _split, ...rest } = params;
  return passkeyMixTask(
    {
      id: "brown_passkey",
      level: "text",
      paper: MOHTASHAMI_2023,
      description: `Brown Corpus (${split}) characters with passkeys mixed in: "...The pass key is 40719. Remember it. ... The pass key is " -> "40719"`,
    },
    brownSplitTokens(split),
    rest,
  );
}
