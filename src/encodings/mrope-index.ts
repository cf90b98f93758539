/**
 * The M-RoPE position ids of a multimodal sequence (Qwen2-VL, arXiv:2409.12191; Qwen2.5-VL, arXiv:2502.13923):
 * Hugging Face transformers' `get_rope_index` (models/qwen2_vl/modeling_qwen2_vl.py and
 * models/qwen2_5_vl/modeling_qwen2_5_vl.py, commit 00b676f8f0489b88652a31d70751cc540dd06305), exact on
 * test/fixtures/qwen2-vl-mrope.json.
 *
 * Per row (padding removed by the attention mask), left to right:
 *   text tokens          (p, p, p), p counting on from the previous segment's largest id + 1 (0 at the start);
 *   a vision segment     (an image or video whose placeholder tokens follow a vision-start token) of LLM grid
 *                        T' x H' x W' = t x (h / m) x (w / m) (m = spatial_merge_size, grid_thw as the processor
 *                        gives it): token (i, j, l) in row-major order gets (s + tau(i), s + j, s + l), s = the
 *                        next text id; tau(i) = i (Qwen2-VL, and Qwen2.5-VL images) or, for Qwen2.5-VL videos,
 *                        trunc(i * trunc(second_per_grid_t) * tokens_per_second) (at that commit the seconds are
 *                        cast to the grid's integer type first, so 1.5 s counts as 1 s);
 *   after a segment, text resumes at max(all ids so far) + 1, not at its token index.
 * rope_delta = max id + 1 - row length (padding included): decoding continues at cache position + delta.
 * Padded positions get id 1 in all three coordinates. Without any grid: ids are 0..T-1 (cumulative over the mask).
 * Images and videos are taken in order of appearance, counting across the batch (the grids list every image of
 * every row in order). Segments are found at the first image / video placeholder token from the current point.
 */
import { PosencConfigError } from "../util/validation.js";

export interface MropeTokenIds {
  image: number;
  video: number;
  visionStart: number;
}

export interface MropeIndexInput {
  /** Token ids [B][L] (rows of equal length). */
  inputIds: readonly (readonly number[])[];
  /** [t, h, w] per image (patch grid before merging), in order of appearance over the batch. */
  imageGridThw?: readonly (readonly number[])[];
  videoGridThw?: readonly (readonly number[])[];
  /** 1 = token, 0 = padding, [B][L]. */
  attentionMask?: readonly (readonly number[])[];
  spatialMergeSize: number;
  tokenIds: MropeTokenIds;
  /** Qwen2.5-VL: tokens_per_second (vision_config.tokens_per_second); absent = Qwen2-VL temporal ids. */
  tokensPerSecond?: number;
  /** Qwen2.5-VL: seconds per temporal grid step, per video (default 1). */
  secondPerGridTs?: readonly number[];
  /** How a vision segment's tokens get their ids (default: Qwen2-VL's, with Qwen2.5-VL's temporal ids). */
  layout?: MropeVisionLayout;
}

/**
 * The ids of the tokens of one vision segment, and what the next segment starts after: the variants of
 * get_rope_index (the video HoPE centres h and w and offsets them by a scaled t; see hope-video.ts).
 */
export interface MropeVisionLayout {
  /** (t, h, w) of token (i, j, l) of an LLM grid [T', H', W'] whose first id is `start`. */
  ids(
    i: number,
    j: number,
    l: number,
    grid: readonly [number, number, number],
    start: number,
  ): [number, number, number];
  /** The next segment starts at 1 + the largest id so far over all three coordinates ("all", HF) or t only. */
  nextStartFrom: "all" | "t";
}

export interface MropeIndex {
  /** [3][B][L]: t, h and w ids of every token, HF's (3, batch, seq) order. */
  positionIds: number[][][];
  /** Per row: max id + 1 - L. */
  ropeDeltas: number[];
}

/** ids [3][B][L] as the lab's row-major [B, L, 3] position ids (t, h, w per token). */
export function mropeIdsToRows(positionIds: readonly (readonly (readonly number[])[])[]): Float64Array {
  const B = positionIds[0]?.length ?? 0;
  const L = positionIds[0]?.[0]?.length ?? 0;
  const out = new Float64Array(B * L * 3);
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < B; b++)
      for (let l = 0; l < L; l++) out[(b * L + l) * 3 + a] = positionIds[a]![b]![l]!;
  }
  return out;
}

function checkGrid(
  key: string,
  grid: readonly number[] | undefined,
  merge: number,
): [number, number, number] {
  const valid = `[t, h, w]: integers >= 1 with h and w multiples of spatial_merge_size = ${merge}`;
  if (grid?.length !== 3 || !grid.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new PosencConfigError("invalid_value", key, grid, valid);
  }
  if (grid[1]! % merge !== 0 || grid[2]! % merge !== 0) {
    throw new PosencConfigError("invalid_value", key, grid, valid);
  }
  return [grid[0]!, grid[1]! / merge, grid[2]! / merge];
}

/** HF's get_rope_index (see the file comment). Inconsistent input (a grid missing, too few tokens) throws. */
export function mropeRopeIndex(input: MropeIndexInput): MropeIndex {
  const { inputIds, tokenIds, spatialMergeSize: merge } = input;
  if (!Number.isInteger(merge) || merge < 1) {
    throw new PosencConfigError("invalid_value", "spatialMergeSize", merge, "an integer >= 1");
  }
  const B = inputIds.length;
  const L = inputIds[0]?.length ?? 0;
  inputIds.forEach((row, b) => {
    if (row.length !== L)
      throw new PosencConfigError("invalid_value", `inputIds[${b}]`, row.length, `${L} tokens`);
  });
  const mask = input.attentionMask ?? inputIds.map((row) => row.map(() => 1));
  const ids: number[][][] = [0, 1, 2].map(() => inputIds.map((row) => row.map(() => 1)));
  const deltas: number[] = [];
  if (!input.imageGridThw && !input.videoGridThw) {
    for (let b = 0; b < B; b++) {
      let count = 0;
      let max = -Infinity;
      for (let l = 0; l < L; l++) {
        const id = mask[b]![l] === 1 ? count++ : 1;
        for (let a = 0; a < 3; a++) ids[a]![b]![l] = id;
        max = Math.max(max, id);
      }
      // HF: with a mask, the row's largest id (padding counted as 1) + 1 - L; without one, 0.
      deltas.push(input.attentionMask ? max + 1 - L : 0);
    }
    return { positionIds: ids, ropeDeltas: deltas };
  }
  let imageIndex = 0;
  let videoIndex = 0;
  for (let b = 0; b < B; b++) {
    const kept = inputIds[b]!.map((_, l) => l).filter((l) => mask[b]![l] === 1);
    const tokens = kept.map((l) => inputIds[b]![l]!);
    let images = 0;
    let videos = 0;
    tokens.forEach((token, l) => {
      if (token !== tokenIds.visionStart || l + 1 >= tokens.length) return;
      if (tokens[l + 1] === tokenIds.image) images++;
      if (tokens[l + 1] === tokenIds.video) videos++;
    });
    const row: [number, number, number][] = [];
    let max = -1;
    const fromT = input.layout?.nextStartFrom === "t";
    const push = (t: number, h: number, w: number) => {
      row.push([t, h, w]);
      max = fromT ? Math.max(max, t) : Math.max(max, t, h, w);
    };
    let st = 0;
    for (let n = images + videos; n > 0; n--) {
      const nextImage = images > 0 ? tokens.indexOf(tokenIds.image, st) : -1;
      const nextVideo = videos > 0 ? tokens.indexOf(tokenIds.video, st) : -1;
      const edImage = nextImage < 0 ? tokens.length + 1 : nextImage;
      const edVideo = nextVideo < 0 ? tokens.length + 1 : nextVideo;
      const isImage = edImage < edVideo;
      const ed = isImage ? edImage : edVideo;
      if (ed > tokens.length) {
        throw new PosencConfigError(
          "invalid_value",
          `inputIds[${b}]`,
          "(tokens)",
          "a placeholder token after each vision-start token",
        );
      }
      const key = isImage ? `imageGridThw[${imageIndex}]` : `videoGridThw[${videoIndex}]`;
      const grid = isImage ? input.imageGridThw?.[imageIndex] : input.videoGridThw?.[videoIndex];
      const [T, H, W] = checkGrid(key, grid, merge);
      let seconds = 0;
      if (isImage) {
        imageIndex++;
        images--;
      } else {
        seconds = input.secondPerGridTs?.[videoIndex] ?? 1;
        videoIndex++;
        videos--;
      }
      const start = max + 1;
      for (let l = 0; l < ed - st; l++) push(start + l, start + l, start + l);
      const base = start + (ed - st);
      const tps = input.tokensPerSecond;
      const layout = input.layout;
      for (let i = 0; i < T; i++) {
        // Qwen2.5-VL: HF casts second_per_grid_t to int64 before the product, then truncates the product.
        const tau = tps === undefined ? i : Math.trunc(i * Math.trunc(seconds) * tps);
        for (let j = 0; j < H; j++) {
          for (let w = 0; w < W; w++) {
            if (layout) push(...layout.ids(i, j, w, [T, H, W], base));
            else push(base + tau, base + j, base + w);
          }
        }
      }
      st = ed + T * H * W;
    }
    if (st < tokens.length) {
      const start = max + 1;
      for (let l = 0; l < tokens.length - st; l++) push(start + l, start + l, start + l);
    }
    if (row.length !== tokens.length) {
      throw new PosencConfigError(
        "invalid_value",
        `inputIds[${b}]`,
        `${tokens.length} tokens`,
        `as many tokens as the text and grids give (${row.length}): each image / video needs t * h * w / spatial_merge_size^2 placeholder tokens`,
      );
    }
    kept.forEach((l, n) => {
      for (let a = 0; a < 3; a++) ids[a]![b]![l] = row[n]![a]!;
    });
    deltas.push(max + 1 - L);
  }
  return { positionIds: ids, ropeDeltas: deltas };
}

/** One part of a described multimodal sequence: text tokens, or an image / video of grid [t, h, w]. */
export type MropeSegment =
  | { kind: "text"; length: number }
  | { kind: "image" | "video"; grid: readonly [number, number, number] };

/** What each token of a built sequence is. */
export type MropeTokenKind = "text" | "vision_start" | "image" | "video" | "vision_end";

/**
 * The token row of a described sequence as Qwen2-VL's chat template lays it out: text tokens as given; each image
 * or video as <|vision_start|>, its t * h * w / m^2 placeholder tokens, <|vision_end|> (the start and end tokens are
 * text for the ids). `maxTokens` bounds the row before anything of its size is allocated.
 */
export function mropeSequenceTokens(
  segments: readonly MropeSegment[],
  tokenIds: MropeTokenIds & { visionEnd: number; text: number },
  spatialMergeSize: number,
  maxTokens: number,
): { inputIds: number[]; kinds: MropeTokenKind[] } {
  let total = 0;
  segments.forEach((segment, n) => {
    if (segment.kind === "text") {
      if (!Number.isInteger(segment.length) || segment.length < 0) {
        throw new PosencConfigError(
          "invalid_value",
          `segments[${n}].length`,
          segment.length,
          "an integer >= 0",
        );
      }
      total += segment.length;
    } else {
      const [t, h, w] = checkGrid(`segments[${n}].grid`, segment.grid, spatialMergeSize);
      total += 2 + t * h * w;
    }
  });
  if (total > maxTokens) {
    throw new PosencConfigError(
      "out_of_range",
      "segments",
      `${total} tokens`,
      `at most ${maxTokens} tokens in all (text, and t * h * w / spatial_merge_size^2 + 2 per image or video)`,
    );
  }
  const inputIds: number[] = [];
  const kinds: MropeTokenKind[] = [];
  const push = (id: number, kind: MropeTokenKind, count = 1) => {
    for (let i = 0; i < count; i++) {
      inputIds.push(id);
      kinds.push(kind);
    }
  };
  for (const segment of segments) {
    if (segment.kind === "text") {
      push(tokenIds.text, "text", segment.length);
      continue;
    }
    const [t, h, w] = segment.grid;
    push(tokenIds.visionStart, "vision_start");
    push(
      segment.kind === "image" ? tokenIds.image : tokenIds.video,
      segment.kind,
      (t * h * w) / spatialMergeSize ** 2,
    );
    push(tokenIds.visionEnd, "vision_end");
  }
  return { inputIds, kinds };
}
