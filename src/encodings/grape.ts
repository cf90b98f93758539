/**
 * GRAPE, from "GRAPE: Group Representational Position Encoding" (Zhang, Chen, Liu, Qin, Yuan, Xu, Yuan, Gu, Yao,
 * 2025; ICLR 2026), arXiv:2512.07805. Official code: model-architectures/GRAPE (snapshot f5b539f35066).
 *
 * Positions act on queries and keys through a group representation G(n) with G(m)^T G(n) = G(n - m), so scores
 * stay relative. Two families (`form`):
 *
 * Multiplicative GRAPE (SO(d)): G(n) = exp(n omega L) with skew generators L. With the d/2 canonical coordinate
 * planes (commuting generators) this is RoPE with LEARNED frequencies; the paper's non-contextual "MS-GRAPE
 * (commuting)" (model/llama-mha-grape-m-nonctx.py `MSGRAPECommuting`):
 *   omega_j = exp(s_j / c),   s_j initialised to c * log(base^(-2j/d)) (RoPE's spectrum), c = log_freq_scale = 16
 *   x1' = x1 cos(n omega) + x2 sin(n omega),  x2' = -x1 sin(n omega) + x2 cos(n omega)   (x1, x2 the two halves)
 * i.e. a rotation by -n omega (the opposite sign to HF's RoPE; the relative law holds either way), one spectrum
 * shared by all heads (`grape_share_across_heads = True`) or one per head.
 *
 * Additive GRAPE (unipotent lift, GL(d + 1)): G(n) = I + n omega A with A^2 = 0 adds a term linear in the offset.
 * The paper's query-gated form (model/llama-mha-grape-a-querygated.py `QueryGatedAdditiveBias`):
 *   bias[h, i, j] = -(i - j)^+ * softplus(w_h) * m_h * softplus(v_h^ . q_i / sqrt(d)),   v_h^ = v_h / ||v_h||
 * m_h ALiBi's slopes, w_h initialised to softplus^-1(1) (so omega = 1), v_h ~ N(0, 1/sqrt(d)); with a constant gate
 * it is ALiBi. Future keys get 0 (masked); in an encoder (not in the paper) the distance is |i - j|.
 * The official models also normalise q and k with a learned RMSNorm, in the RoPE baseline as well: that is the
 * architecture's choice, not GRAPE's, and not done here.
 */
import {
  add,
  concat,
  cos,
  div,
  exp,
  mul,
  neg,
  normalParameter,
  type Parameter,
  parameter,
  reshape,
  sin,
  slice,
  softplus,
  sqrt,
  sub,
  sum,
  type Tensor,
  tensor,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkNumber } from "../util/validation.js";
import { alibiSlopes } from "./alibi.js";
import {
  checkModelHeadDim,
  ropeEncodingFromFrequencies,
  ropeInverseFrequencies,
  rotaryModelParams,
} from "./rope.js";
import {
  checkPositionIds,
  type ModelDims,
  PerForward,
  RowTableCache,
  rowsShareIds,
  type TrainableEncoding,
} from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

/** The official log_freq_scale: s = c log(omega), so a learning rate on s moves log(omega) c times slower. */
export const GRAPE_LOG_FREQ_SCALE = 16;

/** softplus^-1(y) = log(exp(y) - 1): the additive form's w for omega = y. */
export function softplusInverse(y: number): number {
  checkNumber("y", y, { min: 0, exclusiveMin: true });
  return Math.log(Math.expm1(y));
}

/**
 * GRAPE-M rotation of one vector's halves (x1, x2) at position n with frequencies omega (framework-free reference):
 * x1' = x1 cos + x2 sin, x2' = -x1 sin + x2 cos, angle n omega_j.
 */
export function grapeRotate(x: ArrayLike<number>, position: number, omega: ArrayLike<number>): Float64Array {
  const P = omega.length;
  const out = Float64Array.from(x);
  for (let j = 0; j < P; j++) {
    const c = Math.cos(position * omega[j]);
    const s = Math.sin(position * omega[j]);
    out[j] = x[j] * c + x[j + P] * s;
    out[j + P] = -x[j] * s + x[j + P] * c;
  }
  return out;
}

/**
 * GRAPE-A's query-gated bias for one head over plain arrays, row-major [T, T]:
 * -dist(i, j) * omega * m * softplus(v^ . q_i / sqrt(d)), dist = max(p_i - p_j, 0) (causal) or |p_i - p_j|.
 */
export function grapeAdditiveBias(
  q: ArrayLike<number>,
  v: ArrayLike<number>,
  options: { omega: number; slope: number; positions: ArrayLike<number>; causal?: boolean },
): Float64Array {
  const d = v.length;
  const { positions, omega, slope } = options;
  const T = positions.length;
  let squares = 0;
  for (let c = 0; c < d; c++) squares += v[c] * v[c];
  const norm = Math.sqrt(squares + 1e-12);
  const out = new Float64Array(T * T);
  for (let i = 0; i < T; i++) {
    let dot = 0;
    for (let c = 0; c < d; c++) dot += (q[i * d + c] * v[c]) / norm;
    const gate = Math.log1p(Math.exp(dot / Math.sqrt(d)));
    for (let j = 0; j < T; j++) {
      const delta = positions[i] - positions[j];
      const dist = options.causal === false ? Math.abs(delta) : Math.max(delta, 0);
      out[i * T + j] = 0 - dist * omega * slope * gate;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Trainable forms.
// ---------------------------------------------------------------------------------------------------------------

/**
 * GRAPE-M on q or k [B, H, T, Dh] with learned s ([P] shared, or [H, P] per head): angles = ids * exp(s / c),
 * halves rotated by -angle (the official sign). ids: one row [T] for all examples or one per example [B, T].
 */
export function grapeRotateTensor(
  x: Tensor,
  logFreq: Tensor,
  ids: Tensor,
  scale = GRAPE_LOG_FREQ_SCALE,
): Tensor {
  const [B, H, T, Dh] = x.shape;
  const P = logFreq.shape[logFreq.rank - 1];
  const rows = ids.size / T;
  const omega = exp(mul(logFreq, 1 / scale)); // [P] or [H, P]
  const perHead = logFreq.rank === 2;
  // angles [rows, 1 or H, T, P]
  const angles = mul(reshape(ids, [rows, 1, T, 1]), reshape(omega, [1, perHead ? H : 1, 1, P]));
  const c = cos(angles);
  const s = sin(angles);
  const x1 = slice(x, 3, 0, P);
  const x2 = slice(x, 3, P, 2 * P);
  const y1 = add(mul(x1, c), mul(x2, s));
  const y2 = sub(mul(x2, c), mul(x1, s));
  const parts = [y1, y2];
  if (2 * P < Dh) parts.push(slice(x, 3, 2 * P, Dh));
  if (rows !== 1 && rows !== B) throw new RangeError(`grape: ids hold ${rows} rows for a batch of ${B}`);
  return concat(parts, 3);
}

/** GRAPE-A's bias [B, H, T, T] from q [B, H, T, Dh], w [H], v [H, Dh], dist [rows, 1, T, T], slopes [H]. */
export function grapeAdditiveBiasTensor(
  q: Tensor,
  w: Tensor,
  v: Tensor,
  dist: Tensor,
  slopes: Tensor,
): Tensor {
  const [, H, , Dh] = q.shape;
  // v / sqrt(|v|^2 + 1e-12): F.normalize's v / max(|v|, 1e-6) wherever |v| is not tiny, and smooth everywhere.
  const unit = div(v, sqrt(add(sum(mul(v, v), [1], true), 1e-12)));
  // gate [B, H, T, 1] = softplus(q . v^ / sqrt(d))
  const gate = softplus(mul(sum(mul(q, reshape(unit, [1, H, 1, Dh])), [3], true), 1 / Math.sqrt(Dh)));
  const omega = reshape(mul(softplus(w), slopes), [1, H, 1, 1]);
  return neg(mul(mul(dist, omega), gate));
}

function createGrapeTrainable(
  params: GrapeParams,
  dims: ModelDims,
  rng: Rng,
  path: string,
): TrainableEncoding {
  const H = dims.numHeads;
  const Dh = dims.headDim;
  if (params.form === "multiplicative") {
    checkModelHeadDim(params.headDim, dims, `${path}.headDim`);
    const init = initialFrequencies(params, Dh).map((f) => GRAPE_LOG_FREQ_SCALE * Math.log(f));
    const logFreq: Parameter = params.shareAcrossHeads
      ? parameter(init, [init.length], "grape.logFreq")
      : parameter(Array.from({ length: H }, () => init).flat(), [H, init.length], "grape.logFreq");
    const idsPerForward = new PerForward<Tensor>();
    return {
      id: "grape",
      parameters: () => [logFreq],
      transformQK(q, k, ids) {
        const [B, , T] = q.shape;
        checkPositionIds("grape", ids, B, T);
        const idTensor = idsPerForward.get(ids, () =>
          tensor(rowsShareIds(ids, B, T) ? ids.subarray(0, T) : ids, [rowsShareIds(ids, B, T) ? 1 : B, T]),
        );
        return { q: grapeRotateTensor(q, logFreq, idTensor), k: grapeRotateTensor(k, logFreq, idTensor) };
      },
    };
  }
  // Additive, query-gated.
  const w = parameter(new Array<number>(H).fill(softplusInverse(1)), [H], "grape.omega");
  const v = normalParameter(rng, [H, Dh], 1 / Math.sqrt(Dh), "grape.v");
  const slopes = tensor(alibiSlopes(H), [H]);
  const distances = new RowTableCache((row) => {
    const T = row.length;
    const out = new Float32Array(T * T);
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const delta = row[i] - row[j];
        out[i * T + j] = dims.causal ? Math.max(delta, 0) : Math.abs(delta);
      }
    }
    return out;
  });
  const perForward = new PerForward<Tensor>();
  return {
    id: "grape",
    parameters: () => [w, v],
    contentAttention({ q, positionIds }) {
      const [B, , T] = q.shape;
      const dist = perForward.get(positionIds, () => {
        const { data, rows } = distances.get(positionIds, B, T);
        return tensor(data, [rows, 1, T, T]);
      });
      return { bias: grapeAdditiveBiasTensor(q, w, v, dist, slopes) };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Spec.
// ---------------------------------------------------------------------------------------------------------------

const GRAPE_PARAMS = {
  form: {
    type: "string",
    description:
      '"multiplicative" (GRAPE-M: rotations on canonical planes with learned frequencies) or "additive" (GRAPE-A: query-gated linear bias).',
    default: "multiplicative",
    choices: ["multiplicative", "additive"],
  },
  headDim: {
    type: "integer",
    description: "Channels per head (the model fills it).",
    default: 128,
    min: 2,
  },
  base: {
    type: "number",
    description: "Multiplicative: the initial spectrum omega_j = base^(-2j/d) (official grape_base 10000).",
    default: 10000,
    min: 1,
    exclusiveMin: true,
  },
  frequencies: {
    type: "number[]",
    description:
      "Multiplicative: omega_j > 0, one per channel pair (the framework-free form's rotation; the trainable form's initial value). Empty (default): base^(-2j/d).",
    default: [],
  },
  shareAcrossHeads: {
    type: "boolean",
    description:
      "Multiplicative, trainable: one learned spectrum for all heads (official default) or one per head.",
    default: true,
  },
} as const satisfies EncodingSpec["params"];

type GrapeParams = {
  form: "multiplicative" | "additive";
  headDim: number;
  base: number;
  frequencies: number[];
  shareAcrossHeads: boolean;
};

function initialFrequencies(p: GrapeParams, headDim: number): number[] {
  if (headDim % 2 !== 0) throw new RangeError(`grape: headDim must be even, received ${headDim}`);
  if (p.frequencies.length === 0) return Array.from(ropeInverseFrequencies(headDim, p.base));
  if (p.frequencies.length !== headDim / 2 || p.frequencies.some((f) => !(f > 0))) {
    throw new RangeError(
      `grape.frequencies: expected headDim / 2 = ${headDim / 2} positive numbers, received ${JSON.stringify(p.frequencies)}`,
    );
  }
  return p.frequencies;
}

export const grapeSpec = defineEncoding({
  id: "grape",
  name: "GRAPE (group representational position encoding)",
  family: "rotary",
  paper: { title: "GRAPE: Group Representational Position Encoding", arxiv: "2512.07805", year: 2025 },
  formula:
    "multiplicative: rotate plane j of q, k at n by -n exp(s_j / 16), s learned from RoPE's spectrum; additive: bias = -(i - j) softplus(w_h) m_h softplus(v_h^.q_i / sqrt(d))",
  summary:
    "Positions as a group action on q and k: rotations with learned frequencies (multiplicative) or a unipotent, query-gated linear bias that contains ALiBi (additive).",
  slots: ["transformQK", "contextual"],
  params: GRAPE_PARAMS,
  modelParams: rotaryModelParams,
  create(params, path = "grape"): PositionalEncoding {
    const p = resolveParams(path, GRAPE_PARAMS, params);
    if (p.form === "additive") {
      // The bias depends on q (grapeAdditiveBias is the math over arrays): no framework-free hook.
      return { id: "grape", params: Object.freeze(p) };
    }
    // Rotation by -n omega: RoPE's tables at frequencies -omega (cos even, sin odd).
    const omega = initialFrequencies(p, p.headDim);
    const encoding = ropeEncodingFromFrequencies({
      id: "grape",
      params: p,
      invFreq: omega.map((f) => -f),
      layout: "half",
    });
    // sin(-0 * omega) is -0 at position 0; the rotation writes +0 there: report the tables the transform uses.
    const rotary = encoding.rotary!;
    return {
      ...encoding,
      rotary: {
        ...rotary,
        tables(positions, role) {
          const { cos, sin } = rotary.tables(positions, role);
          return { cos, sin: sin.map((v) => v + 0) };
        },
      },
    };
  },
  trainable: (params, dims, rng, path = "grape") => createGrapeTrainable(params, dims, rng, path),
});
