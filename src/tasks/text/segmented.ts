/**
 * Training on segmented sequences: "Extending Input Contexts of Language Models through Training on Segmented
 * Sequences" (Karypis, McAuley and Karypis, NAACL Findings 2024, arXiv:2310.14633). To teach a model trained at
 * context L the positions of a longer context S (= k L) at the cost of length-L sequences, each training row is
 * `count` segments sub-sampled from one stretch of S characters of the text, concatenated in order, each keeping its
 * ORIGINAL position ids inside the stretch: the ids span [0, S) with gaps, the row is L tokens long.
 *
 * One row (text x, N characters; row length L, span S >= L, n = count segments, 1 <= n <= L):
 *   a      = uniform in [0, N - S - 1]                     the stretch x_a .. x_{a+S} (S + 1 characters)
 *   len_i  = floor(L / n) + (i < L mod n ? 1 : 0)          segment lengths, i = 0..n-1, summing to L
 *   g_0 <= g_1 <= ... <= g_{n-1}: n draws uniform in [0, S - L], sorted   (the free S - L positions before each)
 *   s_i    = g_i + len_0 + ... + len_{i-1}                 segment i covers stretch offsets s_i .. s_i + len_i - 1
 *   row token t of segment i at offset o = s_i + j:   input x_{a+o},  target x_{a+o+1},  position id o
 * Segments never overlap and keep their order (s_{i+1} >= s_i + len_i), the last ends at most at S - 1, so every
 * target x_{a+o+1} lies in the stretch. Each token predicts the character that follows it in the text (not the
 * next token of the row, which after a gap is further on), so the loss is the plain language-modelling loss at
 * the original positions. n = 1 with S = L is the plain window (ids 0..L-1).
 *
 * The paper samples segments from long documents; its exact segment-length and gap distributions are not in its
 * abstract, and no code is public: equal lengths and sorted uniform gaps are this implementation's choice.
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber, PosencConfigError } from "../../util/validation.js";
import type { TaskBatch } from "../types.js";

export interface SegmentsSpec {
  /** S: the stretch of text the segments come from, and the range of their position ids [0, S). */
  span: number;
  /** n: segments per row. */
  count: number;
}

/** Where each segment of one row sits in its stretch (see the file comment). */
export interface SegmentLayout {
  starts: number[];
  lengths: number[];
}

/** Checks a segments spec against a row length; one line naming the key otherwise. */
export function checkSegments(spec: SegmentsSpec, length: number, key = "train.segments"): void {
  checkNumber(`${key}.count`, spec.count, { integer: true, min: 1, max: length });
  if (!(Number.isInteger(spec.span) && spec.span >= length)) {
    throw new PosencConfigError(
      "out_of_range",
      `${key}.span`,
      spec.span,
      `an integer >= the row length ${length} (the stretch the row's segments come from)`,
    );
  }
}

/** The segment lengths and starts of one row of length L in a stretch of S (see the file comment). */
export function segmentLayout(rng: Rng, length: number, spec: SegmentsSpec): SegmentLayout {
  checkSegments(spec, length);
  const { span, count } = spec;
  const base = Math.floor(length / count);
  const lengths = Array.from({ length: count }, (_, i) => base + (i < length % count ? 1 : 0));
  const free = span - length;
  const gaps = Array.from({ length: count }, () => rng.int(free + 1)).sort((a, b) => a - b);
  let before = 0;
  const starts = gaps.map((g, i) => {
    const start = g + before;
    before += lengths[i]!;
    return start;
  });
  return { starts, lengths };
}

/**
 * One batch of segmented rows of a character text (decoder layout): inputs, targets, all positions scored, and the
 * position ids (one coordinate per token); no padding, every row is L tokens. Needs N > S characters.
 */
export function segmentedBatch(
  tokens: Int32Array,
  rng: Rng,
  batchSize: number,
  length: number,
  spec: SegmentsSpec,
): TaskBatch {
  checkNumber("batchSize", batchSize, { integer: true, min: 1 });
  checkSegments(spec, length);
  if (tokens.length <= spec.span) {
    throw new PosencConfigError(
      "out_of_range",
      "train.segments.span",
      spec.span,
      `less than the text's ${tokens.length} characters`,
    );
  }
  const inputs = new Int32Array(batchSize * length);
  const targets = new Int32Array(batchSize * length);
  const positionIds = new Float64Array(batchSize * length);
  for (let b = 0; b < batchSize; b++) {
    const a = rng.int(tokens.length - spec.span);
    const { starts, lengths } = segmentLayout(rng, length, spec);
    let t = b * length;
    starts.forEach((start, i) => {
      for (let j = 0; j < lengths[i]!; j++, t++) {
        const o = start + j;
        inputs[t] = tokens[a + o]!;
        targets[t] = tokens[a + o + 1]!;
        positionIds[t] = o;
      }
    });
  }
  const lengths = new Int32Array(batchSize).fill(length);
  return {
    inputs,
    targets,
    mask: new Uint8Array(batchSize * length).fill(1),
    batchSize,
    seqLen: length,
    lengths,
    tokenCounts: lengths.slice(),
    positionIds,
    layout: "decoder",
  };
}
