/**
 * Character-level language modelling on a fixed text: the task behind bits per character.
 *
 * Alphabet: "\n" (id 0) then the 95 printable ASCII characters " " .. "~" (ids 1..95, id = code - 31); any other
 * character in the text is an error naming it. The lab's special tokens (PAD, BOS, SEP, EOS) follow as for every
 * task but BOS, SEP and EOS never occur: a window is raw text, as in character-level benchmarks (enwik8, text8).
 *
 * sample(rng, batchSize, length) draws windows of `length` characters from the text (decoder layout only; a
 * bidirectional model would see the character it must predict):
 *   start     uniform in [0, N - length - 1]                (N = characters of the text; one draw per row)
 *   inputs[t] = text[start + t],  targets[t] = text[start + t + 1],  mask[t] = 1   for t = 0 .. length-1
 * With a length range each row draws its own length and is right-padded (PAD, mask 0) like the other tasks.
 * A task built on this one may draw its own rows and score only their last predictions (mask[t] = 1 for
 * t >= scoredFrom; passkey-haystack.ts scores only the answer digits of a passkey row that way).
 * `length` is the context length in characters; the loss is the mean next-character cross-entropy in nats, so
 * bits per character = loss / ln 2.
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber, PosencConfigError } from "../../util/validation.js";
import { buildVocabulary, checkLengthSpec } from "../format.js";
import type { LengthSpec, TaskBatch, TaskDefinition, TaskLayout } from "../types.js";

/** "\n" then printable ASCII 32..126. */
export const CHAR_SYMBOLS: readonly string[] = [
  "\n",
  ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)),
];

/** Token ids of a text over CHAR_SYMBOLS; `source` names the text in the error for a character outside it. */
export function encodeChars(text: string, source = "text"): Int32Array {
  const ids = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 10) ids[i] = 0;
    else if (code >= 32 && code <= 126) ids[i] = code - 31;
    else {
      throw new PosencConfigError(
        "invalid_value",
        `${source}[${i}]`,
        text[i],
        'a newline or printable ASCII character (" " to "~")',
      );
    }
  }
  return ids;
}

/** The text of token ids (inverse of encodeChars). */
export function decodeChars(ids: ArrayLike<number>): string {
  let out = "";
  for (let i = 0; i < ids.length; i++) out += CHAR_SYMBOLS[ids[i]] ?? "\uFFFD";
  return out;
}

/** One drawn row: T + 1 characters, and the first of its T predictions that the loss scores (0 = all of them). */
export interface CharRow {
  sequence: Int32Array;
  scoredFrom: number;
  /** Predictions from this one on belong to the sampler's weighted group (absent: none). */
  groupFrom?: number;
}

/** What a task built on the character LM may change: how a row is drawn, and the lengths it needs. */
export interface CharRowSampler {
  /** The T + 1 characters of one row of length T (inputs are the first T, targets the last T). */
  row(rng: Rng, length: number): CharRow;
  /** The loss share of the rows' weighted groups (TaskBatch.weightedGroup); absent: no group, a plain mean. */
  groupWeight?: number;
  minLength: number;
  lengthMeaning: string;
}

/**
 * A character language-modelling task over `tokens` (the ids of one split's text); `sampler` replaces the plain
 * window of the text (passkey-haystack.ts mixes passkey examples in).
 */
export function charLanguageModelTask(
  spec: Pick<TaskDefinition, "id" | "level" | "paper" | "description">,
  tokens: Int32Array,
  sampler?: CharRowSampler,
): TaskDefinition {
  if (tokens.length < 2) {
    throw new PosencConfigError("invalid_value", `${spec.id}.text`, tokens.length, "at least 2 characters");
  }
  const n = tokens.length;
  // The plain window: start uniform in [0, N - T - 1], T + 1 characters.
  const row =
    sampler?.row ??
    ((rng: Rng, length: number): CharRow => {
      const start = rng.int(n - length);
      return { sequence: tokens.subarray(start, start + length + 1), scoredFrom: 0 };
    });
  const definition: TaskDefinition = {
    ...spec,
    lengthMeaning: sampler?.lengthMeaning ?? "context length in characters",
    minLength: sampler?.minLength ?? 1,
    maxLength: n - 1,
    symbols: CHAR_SYMBOLS,
    terminated: false,
    decoderSeparator: false,
    textTokens: tokens,
    encoderOutputLength: (length) => length,
    sampleExample(rng: Rng, length: number) {
      const window = row(rng, length).sequence;
      return { input: Array.from(window.subarray(0, length)), output: Array.from(window.subarray(1)) };
    },
    sampleBatch(rng: Rng, batchSize: number, length: LengthSpec, layout: TaskLayout): TaskBatch {
      if (layout !== "decoder") {
        throw new PosencConfigError(
          "conflict",
          "layout",
          layout,
          `"decoder" for task ${spec.id}: language modelling predicts the next character causally`,
        );
      }
      checkNumber("batchSize", batchSize, { integer: true, min: 1 });
      const { min, max } = checkLengthSpec(definition, length);
      const lengths = new Int32Array(batchSize);
      for (let b = 0; b < batchSize; b++) lengths[b] = min === max ? min : rng.intBetween(min, max);
      const seqLen = Math.max(...lengths);
      const pad = buildVocabulary(CHAR_SYMBOLS).pad;
      const inputs = new Int32Array(batchSize * seqLen).fill(pad);
      const targets = new Int32Array(batchSize * seqLen).fill(pad);
      const mask = new Uint8Array(batchSize * seqLen);
      const weight = sampler?.groupWeight;
      const group = weight === undefined ? undefined : new Uint8Array(batchSize * seqLen);
      for (let b = 0; b < batchSize; b++) {
        const len = lengths[b];
        const { sequence: window, scoredFrom, groupFrom } = row(rng, len);
        inputs.set(window.subarray(0, len), b * seqLen);
        targets.set(window.subarray(1, len + 1), b * seqLen);
        mask.fill(1, b * seqLen + scoredFrom, b * seqLen + len);
        if (groupFrom !== undefined) group?.fill(1, b * seqLen + groupFrom, b * seqLen + len);
      }
      const batch: TaskBatch = {
        inputs,
        targets,
        mask,
        batchSize,
        seqLen,
        lengths,
        tokenCounts: lengths.slice(),
        layout,
      };
      if (group && weight !== undefined) batch.weightedGroup = { mask: group, weight };
      return batch;
    },
  };
  return definition;
}
