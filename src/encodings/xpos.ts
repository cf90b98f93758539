/**
 * xPos, from "A Length-Extrapolatable Transformer" (Sun, Dong, Patra, Ma, Huang, Benhaim, Chaudhary, Song, Wei,
 * 2022), arXiv:2212.10554. Checked against the official code, microsoft/torchscale
 * torchscale/component/xpos_relative_position.py (`XPOS`), and lucidrains/rotary-embedding-torch (`use_xpos`).
 *
 * RoPE plus an exponential decay per channel pair: a query at position n and a key at position m become
 *   q'_n = zeta^( n / B) (.) R(n) q,   k'_m = zeta^(-m / B) (.) R(m) k
 *   zeta_i = (2i/d + gamma) / (1 + gamma),   i = 0 .. d/2 - 1,   gamma = 0.4,   B = 512 (scale base)
 * where (.) scales both channels of pair i by the pair's factor. The score keeps RoPE's relative form:
 *   <q'_n, k'_m> = sum_i zeta_i^((n - m) / B) * <R(n) q, R(m) k>_i
 * and since zeta_i < 1 each pair's contribution decays as the query moves past the key (n - m > 0); the fastest
 * rotating pairs (small i, zeta_0 = gamma / (1 + gamma) = 0.286) decay fastest. Only the causal direction decays:
 * with n < m the factor grows, which is why implementations restrict xPos to causal attention.
 *
 * Centre: torchscale and lucidrains evaluate the exponent at (position - centre) / B with the centre at the middle
 * of the sequence, only to keep the factors in floating-point range; any centre shared by queries and keys
 * cancels in the score. Here the centre is a parameter (default 0, the paper's formula), because queries and keys
 * may come in separate calls with different positions (KV cache). With centre 0 and B = 512 the factors leave the
 * float32 range (1e-38 .. 3e38) beyond |position| of about 512 * ln(1e38) / ln(1 / zeta_0) = 36k tokens, where
 * transformQK throws a RangeError: set `center` near the middle of the positions you use for longer sequences.
 *
 * Layout: the references pair channels (2i, 2i + 1) (torchscale's rotate_every_two); outputs match them only with
 * `layout: "interleaved"`. The default stays "half" (the RoPE family's default here, and the layout trained models
 * and the golden runs use); for a model trained from scratch the two differ by a fixed channel permutation only.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import {
  applyRope,
  checkModelHeadDim,
  ROPE_BASE_PARAMS,
  ropeCosSinTable,
  ropeInverseFrequencies,
  rotaryModelParams,
} from "./rope.js";
import { FLOAT32_MAX } from "./rope-kernel.js";
import { fixedTrainable, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

export interface XposOptions {
  /** gamma in zeta_i = (2i/d + gamma) / (1 + gamma); > 0, default 0.4. */
  gamma?: number;
  /** Scale base B (tokens per power of zeta); > 0, default 512. */
  scaleBase?: number;
  /** Position where every factor is 1; default 0. Cancels in q . k when queries and keys share it. */
  center?: number;
  /** "query" (default) uses zeta^((p - center) / B); "key" uses the reciprocal zeta^(-(p - center) / B). */
  role?: "query" | "key";
}

function checkXposDim(dim: number): void {
  checkNumber("dim", dim, { integer: true, min: 2 });
  if (dim % 2 !== 0) throw new PosencConfigError("invalid_value", "dim", dim, "an even integer >= 2");
}

/** zeta_i = (2i/dim + gamma) / (1 + gamma) for i = 0 .. dim/2 - 1: increasing, zeta_0 = gamma / (1 + gamma), all < 1. */
export function xposZeta(dim: number, gamma = 0.4): Float64Array {
  checkXposDim(dim);
  checkNumber("gamma", gamma, { min: 0, exclusiveMin: true });
  const zeta = new Float64Array(dim / 2);
  for (let i = 0; i < zeta.length; i++) zeta[i] = ((2 * i) / dim + gamma) / (1 + gamma);
  return zeta;
}

/**
 * The per-position, per-pair factors, row-major [positions.length, dim / 2]:
 * zeta_i^((p - center) / scaleBase) for queries and zeta_i^(-(p - center) / scaleBase) for keys.
 */
export function xposScale(
  dim: number,
  positions: ArrayLike<number>,
  options: XposOptions = {},
): Float64Array {
  const zeta = xposZeta(dim, options.gamma ?? 0.4);
  const scaleBase = checkNumber("scaleBase", options.scaleBase ?? 512, { min: 0, exclusiveMin: true });
  const center = checkNumber("center", options.center ?? 0);
  const role = options.role ?? "query";
  if (role !== "query" && role !== "key") {
    throw new PosencConfigError("invalid_value", "role", role, 'one of "query", "key"');
  }
  const sign = role === "query" ? 1 : -1;
  const half = zeta.length;
  const scale = new Float64Array(positions.length * half);
  for (let t = 0; t < positions.length; t++) {
    const position = positions[t];
    if (!Number.isFinite(position)) {
      throw new RangeError(`positions[${t}] must be a finite number, received ${position}`);
    }
    const exponent = (sign * (position - center)) / scaleBase;
    for (let i = 0; i < half; i++) scale[t * half + i] = zeta[i] ** exponent;
  }
  return scale;
}

/** The factors multiply float32 tables: they must stay within float32's normal range. */
const FLOAT32_MIN_NORMAL = 2 ** -126;

const XPOS_PARAMS = {
  headDim: ROPE_BASE_PARAMS.headDim,
  base: ROPE_BASE_PARAMS.base,
  gamma: {
    type: "number",
    description: "gamma in zeta_i = (2i/d + gamma)/(1 + gamma): smaller decays faster (official code: 0.4).",
    default: 0.4,
    min: 0,
    exclusiveMin: true,
  },
  scaleBase: {
    type: "number",
    description: "Scale base B: pair i's score is multiplied by zeta_i^((n - m)/B) (official code: 512).",
    default: 512,
    min: 0,
    exclusiveMin: true,
  },
  center: {
    type: "number",
    description:
      "Position where the factors are 1; cancels in q.k. Move it to the middle of long sequences to stay in float32 range.",
    default: 0,
  },
  layout: {
    ...ROPE_BASE_PARAMS.layout,
    description:
      'Channel pairing. The official code (torchscale, rotate_every_two) and lucidrains pair (2i, 2i+1): use "interleaved" to match their weights and outputs. Default "half" (i, i + d/2), as the rest of the RoPE family here; a model trained from scratch learns the same either way (a fixed permutation of q/k channels).',
  },
} as const satisfies EncodingSpec["params"];

export const xposSpec = defineEncoding({
  id: "xpos",
  name: "xPos",
  family: "rotary",
  paper: { title: "A Length-Extrapolatable Transformer", arxiv: "2212.10554", year: 2022 },
  formula:
    "q' = zeta^(n/B) (.) R(n) q, k' = zeta^(-m/B) (.) R(m) k, zeta_i = (2i/d + gamma)/(1 + gamma); score decays as zeta_i^((n-m)/B)",
  summary:
    "RoPE whose per-pair contribution to the score decays exponentially with the query-key distance, fastest for the fastest-rotating pairs.",
  slots: ["transformQK"],
  params: XPOS_PARAMS,
  modelParams: rotaryModelParams,
  trainable(params, dims, _rng, path = "xpos"): TrainableEncoding {
    checkModelHeadDim(params.headDim, dims, `${path}.headDim`);
    return fixedTrainable(xposSpec, params, dims, path);
  },
  create(params, path = "xpos") {
    const p = resolveParams(path, XPOS_PARAMS, params);
    const headDim = p.headDim;
    if (headDim % 2 !== 0) {
      throw new PosencConfigError("invalid_value", `${path}.headDim`, headDim, "an even integer >= 2");
    }
    const invFreq = ropeInverseFrequencies(headDim, p.base);
    const layout = p.layout;
    const scaleOptions = {
      gamma: p.gamma,
      scaleBase: p.scaleBase,
      center: p.center,
    };
    // cos/sin of the rotation, each entry then multiplied by its pair's factor: R(p) then zeta^(+-p/B).
    const tables = (positions: ArrayLike<number>, role: "query" | "key") => {
      const { cos, sin } = ropeCosSinTable(invFreq, positions);
      const scale = xposScale(headDim, positions, { ...scaleOptions, role });
      for (let j = 0; j < scale.length; j++) {
        if (!(scale[j] >= FLOAT32_MIN_NORMAL && scale[j] <= FLOAT32_MAX)) {
          const t = Math.floor(j / (headDim / 2));
          throw new RangeError(
            `xpos: the ${role} factor at position ${positions[t]} is ${scale[j]}, outside float32's range; set params.center (now ${scaleOptions.center}) near the middle of the positions`,
          );
        }
        cos[j] *= scale[j];
        sin[j] *= scale[j];
      }
      return { cos, sin };
    };
    const encoding: PositionalEncoding = {
      id: "xpos",
      params: Object.freeze({ ...p }),
      rotary: {
        layout,
        pairs: invFreq.length,
        frequencies: () => ({ invFreq, attentionFactor: 1 }),
        tables,
      },
      transformQK(x, positions, numHeads, actualHeadDim, role) {
        if (actualHeadDim !== headDim) {
          throw new RangeError(`xpos: headDim ${actualHeadDim} does not match params.headDim = ${headDim}`);
        }
        if (x.length !== positions.length * numHeads * headDim) {
          throw new RangeError(
            `xpos: x.length must be positions.length * numHeads * headDim = ${positions.length} * ${numHeads} * ${headDim} = ${positions.length * numHeads * headDim}, received ${x.length}`,
          );
        }
        const { cos, sin } = tables(positions, role);
        applyRope(x, cos, sin, { numHeads, headDim, layout });
      },
    };
    return encoding;
  },
});
