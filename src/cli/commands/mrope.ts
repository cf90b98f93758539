/**
 * `posenc mrope`: the M-RoPE sections of a Qwen2-VL-family config.json (which frequency pairs rotate with t, h
 * and w) and the position ids of a described input, exactly as transformers' get_rope_index gives them.
 */
import { mropePairAxes } from "../../encodings/mrope.js";
import {
  type MropeSegment,
  type MropeTokenKind,
  mropeRopeIndex,
  mropeSequenceTokens,
} from "../../encodings/mrope-index.js";
import { mropeInterleavePairAxes } from "../../encodings/mrope-interleave.js";
import { ropeParameters } from "../../encodings/rope-parameters.js";
import { PosencConfigError } from "../../util/validation.js";
import { type Command, parseIntegerFlag, requireFlag } from "../args.js";
import { UsageError } from "../errors.js";
import { readJsonFile } from "../io.js";
import { formatTable } from "../table.js";

/** The longest sequence `posenc mrope` builds and prints. */
export const MAX_MROPE_TOKENS = 65536;

/** Qwen2-VL's token ids, used when the config names none. */
const QWEN2_VL_TOKEN_IDS = { image: 151655, video: 151656, visionStart: 151652, visionEnd: 151653 };

const INPUT_HELP =
  "text:N, image:TxHxW or image:HxW, video:TxHxW, comma-separated in sequence order (grids in patches, as the processor's image_grid_thw)";

/** Parses `text:3,image:1x4x4,video:2x8x8` into segments, or throws a UsageError naming the part. */
export function parseMropeInput(text: string): MropeSegment[] {
  const bad = (part: string) =>
    new UsageError(
      `posenc mrope: --input part "${part}" is not valid: expected ${INPUT_HELP}, received "${text}"`,
    );
  const parts = text.split(",");
  return parts.map((raw) => {
    const part = raw.trim();
    const match = /^(text|image|video):(\d+(?:x\d+){0,2})$/.exec(part);
    if (!match) throw bad(part);
    const numbers = match[2]!.split("x").map(Number);
    if (!numbers.every((n) => Number.isSafeInteger(n))) throw bad(part);
    if (match[1] === "text") {
      if (numbers.length !== 1) throw bad(part);
      return { kind: "text", length: numbers[0]! };
    }
    const kind = match[1] as "image" | "video";
    if (numbers.length === 1 || (kind === "video" && numbers.length !== 3)) throw bad(part);
    const grid = (numbers.length === 2 ? [1, ...numbers] : numbers) as [number, number, number];
    if (grid.some((n) => n < 1)) throw bad(part);
    return { kind, grid };
  });
}

/** Sorted indices as runs: "0..15" for consecutive ones, "1..58 step 3" for an arithmetic run, joined by ", ". */
export function describeIndices(indices: readonly number[]): string {
  const runs: string[] = [];
  let i = 0;
  while (i < indices.length) {
    const step = i + 1 < indices.length ? indices[i + 1]! - indices[i]! : 1;
    let j = i;
    while (j + 1 < indices.length && indices[j + 1]! - indices[j]! === step) j++;
    if (j === i) runs.push(String(indices[i]));
    else runs.push(`${indices[i]}..${indices[j]}${step === 1 ? "" : ` step ${step}`}`);
    i = j + 1;
  }
  return runs.join(", ");
}

function optionalInteger(
  config: Record<string, unknown>,
  key: string,
  fallback: number,
  min: number,
): number {
  const value = key
    .split(".")
    .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], config);
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new PosencConfigError("invalid_value", key, value, `an integer >= ${min}`);
  }
  return value;
}

function parseSeconds(text: string): number[] {
  return text.split(",").map((part) => {
    const value = /^\s*\d+(\.\d+)?\s*$/.test(part) ? Number(part) : Number.NaN;
    if (!Number.isFinite(value)) {
      throw new UsageError(
        `posenc mrope: --second-per-grid must be numbers >= 0, one per video, comma-separated, received "${text}"`,
      );
    }
    return value;
  });
}

export const mropeCommand: Command = {
  name: "mrope",
  summary:
    "Print the M-RoPE sections of a Qwen2-VL / Qwen2.5-VL config.json (which frequency pairs rotate with t, h, w) and the (t, h, w) position ids of a described input, as transformers' get_rope_index gives them.",
  usage:
    "posenc mrope --config FILE --input text:N,image:TxHxW,video:TxHxW,... [--merge N] [--second-per-grid S,...] [--json] [--lax]",
  flags: {
    config: { type: "string", description: "Path of a Qwen2-VL-family config.json", valueName: "FILE" },
    input: { type: "string", description: `The sequence: ${INPUT_HELP}`, valueName: "SPEC" },
    merge: {
      type: "string",
      description: "spatial_merge_size (default: the config's vision_config.spatial_merge_size, else 2)",
      valueName: "N",
    },
    "second-per-grid": {
      type: "string",
      description:
        "Qwen2.5-VL (vision_config.tokens_per_second set): seconds per temporal grid step, one per video (default 1)",
      valueName: "S,...",
    },
    json: {
      type: "boolean",
      description: 'Print {"section", "pairAxes", "tokens": [{kind, t, h, w}], "ropeDelta"} as JSON',
    },
    lax: { type: "boolean", description: "Accept what transformers accepts with a warning" },
  },
  run(values) {
    const path = requireFlag("mrope", values, "config", "FILE (a Qwen2-VL-family config.json)");
    const segments = parseMropeInput(requireFlag("mrope", values, "input", `SPEC (${INPUT_HELP})`));
    const read = readJsonFile("--config", path);
    const config = (read && typeof read === "object" && !Array.isArray(read) ? read : {}) as Record<
      string,
      unknown
    >;
    const rope = ropeParameters(read as object, { strict: !values.lax });
    for (const warning of rope.warnings) process.stderr.write(`warning: ${warning}\n`);
    if (!rope.mrope) {
      throw new UsageError(
        `posenc mrope: ${path} has no mrope_section in rope_scaling / rope_parameters: not an M-RoPE (Qwen2-VL family) config; 'posenc rope' reads 1-D RoPE configs`,
      );
    }
    const merge =
      typeof values.merge === "string"
        ? parseIntegerFlag("mrope", "merge", values.merge, 1, 64)
        : optionalInteger(config, "vision_config.spatial_merge_size", 2, 1);
    const tpsValue = (config.vision_config as Record<string, unknown> | undefined)?.tokens_per_second;
    const tokensPerSecond =
      tpsValue === undefined || tpsValue === null
        ? undefined
        : optionalInteger(config, "vision_config.tokens_per_second", 1, 0);
    const seconds =
      typeof values["second-per-grid"] === "string" ? parseSeconds(values["second-per-grid"]) : undefined;
    if (seconds && tokensPerSecond === undefined) {
      throw new UsageError(
        `posenc mrope: --second-per-grid is for Qwen2.5-VL configs (vision_config.tokens_per_second set); ${path} has none`,
      );
    }
    const videos = segments.filter((s) => s.kind === "video").length;
    if (seconds && seconds.length !== videos) {
      throw new UsageError(
        `posenc mrope: --second-per-grid gives ${seconds.length} value(s), expected one per video in --input (${videos})`,
      );
    }
    const tokenIds = {
      image: optionalInteger(config, "image_token_id", QWEN2_VL_TOKEN_IDS.image, 0),
      video: optionalInteger(config, "video_token_id", QWEN2_VL_TOKEN_IDS.video, 0),
      visionStart: optionalInteger(config, "vision_start_token_id", QWEN2_VL_TOKEN_IDS.visionStart, 0),
      visionEnd: optionalInteger(config, "vision_end_token_id", QWEN2_VL_TOKEN_IDS.visionEnd, 0),
      text: -1,
    };
    let built: { inputIds: number[]; kinds: MropeTokenKind[] };
    try {
      built = mropeSequenceTokens(segments, tokenIds, merge, MAX_MROPE_TOKENS);
    } catch (error) {
      if (error instanceof PosencConfigError) throw new UsageError(`posenc mrope: --input: ${error.message}`);
      throw error;
    }
    const images = segments.flatMap((s) => (s.kind === "image" ? [s.grid] : []));
    const videoGrids = segments.flatMap((s) => (s.kind === "video" ? [s.grid] : []));
    const index = mropeRopeIndex({
      inputIds: [built.inputIds],
      imageGridThw: images.length > 0 || videoGrids.length > 0 ? images : undefined,
      videoGridThw: videoGrids.length > 0 ? videoGrids : undefined,
      spatialMergeSize: merge,
      tokenIds,
      tokensPerSecond,
      secondPerGridTs: seconds,
    });
    const [t, h, w] = index.positionIds.map((axis) => axis[0]!);
    const section = rope.mrope.section;
    const allocate = rope.mrope.interleaved ? mropeInterleavePairAxes : mropePairAxes;
    const axes = Array.from(allocate(section)).map((a) => "thw"[a]!);
    const delta = index.ropeDeltas[0]!;
    if (values.json) {
      const tokens = built.kinds.map((kind, n) => ({ kind, t: t![n], h: h![n], w: w![n] }));
      process.stdout.write(
        `${JSON.stringify({ section, interleaved: rope.mrope.interleaved, pairAxes: axes, spatialMergeSize: merge, tokensPerSecond: tokensPerSecond ?? null, tokens, ropeDelta: delta })}\n`,
      );
      return;
    }
    const P = rope.dim / 2;
    const sectionRows = [0, 1, 2].map((a) => {
      const pairs = axes.flatMap((axis, i) => (axis === "thw"[a] ? [i] : []));
      if (pairs.length === 0) return ["thw"[a]!, "0", "-", "-"];
      const lo = rope.invFreq[pairs[pairs.length - 1]!]!.toExponential(3);
      return [
        "thw"[a]!,
        String(pairs.length),
        describeIndices(pairs),
        `${rope.invFreq[pairs[0]!]!.toExponential(3)} .. ${lo}`,
      ];
    });
    const lines = [
      `rotary dim ${rope.dim} (${P} frequency pairs), rope type ${rope.ropeType}, spatial_merge_size ${merge}${tokensPerSecond === undefined ? "" : `, tokens_per_second ${tokensPerSecond} (Qwen2.5-VL)`}`,
      rope.mrope.interleaved
        ? "pairs per axis (mrope_interleaved, Qwen3-VL: t h w t h w ..., as the mrope-interleave method):"
        : "sections (HF apply_multimodal_rotary_pos_emb: contiguous, the same in both rotate_half halves):",
      formatTable(
        ["axis", "pairs", `pair indices i (channels i and i + ${P} in the half layout)`, "inv_freq"],
        sectionRows,
        { alignRight: [false, true, false, false] },
      ),
      "",
      `${built.kinds.length} tokens; rope delta ${delta} (decoding continues at cache position + delta = ${built.kinds.length + delta})`,
      formatTable(
        ["token", "kind", "t", "h", "w"],
        built.kinds.map((kind, n) => [String(n), kind, String(t![n]), String(h![n]), String(w![n])]),
        { alignRight: [true, false, true, true, true] },
      ),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  },
};
