/**
 * RoPE++, from "Beyond Real: Imaginary Extension of Rotary Position Embeddings for Long-Context LLMs"
 * (Liu, Song, ..., Qiu, 2025), arXiv:2512.07525. Official code: OpenMOSS/rope_pp,
 * rope_pp/modeling_llama_rope_pp.py `LlamaAttention.apply_rotary_pos_emb` (snapshot 91ba3357c49b).
 *
 * RoPE's score is the real part of a complex product; per channel pair, with Delta = (m - n) theta_i,
 *   real:       (q . k) cos Delta + (q x k) sin Delta          (RoPE)
 *   imaginary:  (q . k) sin Delta - (q x k) cos Delta          (RoPE++'s imaginary heads)
 * where q . k = q0 k0 + q1 k1 and q x k = q0 k1 - q1 k0. The imaginary head rotates its query by
 *   q_imag = q sin(m theta) - rotate_half(q) cos(m theta) = R(m theta - pi/2) q
 * (the code's formula; its tables are RoPE's with cos' = sin, sin' = -cos, no pi rounding) and its key as RoPE does.
 * An imaginary head thus attends with every angle shifted by -pi/2: its score peaks away from distance 0, and the
 * paper reports it carries more long-range attention than the real heads.
 *
 * Which heads are imaginary (`imaginaryHeads`), as the code's modes on a model with H query heads:
 *   "half"         heads H/2 .. H - 1 imaginary, the rest real       (imag_mode "imagh")
 *   "interleaved"  odd heads imaginary                               (imag_mode "imagx")
 *   "all"          every head imaginary                              (imag_mode "imago")
 *   "paired"       RoPE++_EH (imag_mode "imag1"): heads 2p and 2p + 1 share the query, key and value of head 2p;
 *                  2p is real, 2p + 1 imaginary. The code's EH model has H/2 q/kv projections and H attention
 *                  heads; ours keeps H projections and leaves heads 2p + 1's unused (their gradient is zero), so the
 *                  function is EH's exactly and the parameter count is RoPE's (EH has 3 (H/2) Dh D fewer: the odd heads' Wq, Wk, Wv).
 * RoPE++_EC (imag_mode "imag2") is the same pairing with 2H attention heads over H q/kv heads of size D / H and an
 * output projection of 2H * (D / H): "paired" on a model of 2H heads whose head size is 2D / (2H), which the model
 * cannot express (its head size is dModel / numHeads); that is the one piece missing for EC.
 *
 * Trainable form: the shared rotary adapter (trainable.ts) twice, once with RoPE's tables and once with the
 * imaginary query tables; each head takes its queries from one of the two (keys are RoPE's in both). "paired" also
 * copies the values of head 2p into head 2p + 1 (slot (g) transformValues); the framework-free form pairs q and k.
 */
import { concat, reshape, slice, type Tensor } from "../engine/index.js";
import {
  applyRope,
  checkModelHeadDim,
  ROPE_BASE_PARAMS,
  type RopeLayout,
  ropeCosSinTable,
  ropeInverseFrequencies,
  rotaryModelParams,
} from "./rope.js";
import { fixedTrainable, type TrainableEncoding } from "./trainable.js";
import {
  defineEncoding,
  type EncodingSpec,
  type PositionalEncoding,
  type RotaryForm,
  type RotaryTables,
  resolveParams,
} from "./types.js";

export type ImaginaryHeads = "half" | "interleaved" | "all" | "paired";
export const IMAGINARY_HEAD_MODES: readonly ImaginaryHeads[] = ["half", "interleaved", "all", "paired"];

/** Whether head h of numHeads is imaginary under `mode` (the official imagh / imagx / imago / imag1). */
export function isImaginaryHead(h: number, numHeads: number, mode: ImaginaryHeads): boolean {
  if (mode === "all") return true;
  if (mode === "interleaved" || mode === "paired") return h % 2 === 1;
  return h >= Math.floor(numHeads / 2);
}

/**
 * RoPE++_EH's sharing, in place on x [T, H, Dh] (token-major): head 2p + 1 takes head 2p's vector, so each pair
 * reads one projection (the official imag1 model has only the even heads' projections).
 */
export function pairHeads(x: Float32Array, numHeads: number, headDim: number): void {
  if (numHeads % 2 !== 0) throw new RangeError(`pairHeads: numHeads must be even, received ${numHeads}`);
  const T = x.length / (numHeads * headDim);
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < numHeads; h += 2) {
      const from = (t * numHeads + h) * headDim;
      x.copyWithin(from + headDim, from, from + headDim);
    }
  }
}

/** The imaginary query's tables from RoPE's: R(angle - pi/2) has cos = sin(angle), sin = -cos(angle). */
export function imaginaryQueryTables(tables: RotaryTables): RotaryTables {
  return { cos: Float32Array.from(tables.sin), sin: Float32Array.from(tables.cos, (c) => -c) };
}

/** RoPE's rotary form, or (imaginary) the same with the query tables turned by -pi/2. */
function rotaryForm(invFreq: Float64Array, layout: RopeLayout, imaginary: boolean): RotaryForm {
  return {
    layout,
    pairs: invFreq.length,
    frequencies: () => ({ invFreq, attentionFactor: 1 }),
    tables(positions, role) {
      const tables = ropeCosSinTable(invFreq, positions);
      return imaginary && role === "query" ? imaginaryQueryTables(tables) : tables;
    },
  };
}

/** A transformQK encoding rotating every head with `rotary`'s tables (the adapter's input). */
function rotaryEncoding(id: string, params: Record<string, unknown>, rotary: RotaryForm): PositionalEncoding {
  return {
    id,
    params,
    rotary,
    transformQK(x, positions, numHeads, headDim, role) {
      const { cos, sin } = rotary.tables(positions, role);
      applyRope(x, cos, sin, { numHeads, headDim, rotaryDim: 2 * rotary.pairs, layout: rotary.layout });
    },
  };
}

const ROPE_PLUS_PLUS_PARAMS = {
  headDim: ROPE_BASE_PARAMS.headDim,
  base: ROPE_BASE_PARAMS.base,
  imaginaryHeads: {
    type: "string",
    description:
      'Which heads are imaginary: "half" = the second half (official imagh), "interleaved" = odd heads (imagx), "all" (imago), "paired" = RoPE++_EH (imag1: odd heads imaginary, sharing q, k, v with the even head before them; numHeads even).',
    default: "half",
    choices: IMAGINARY_HEAD_MODES,
  },
  layout: ROPE_BASE_PARAMS.layout,
} as const satisfies EncodingSpec["params"];

interface RopePlusPlusParts {
  real: PositionalEncoding;
  imaginary: PositionalEncoding;
  mode: ImaginaryHeads;
}

function buildParts(
  params: Record<string, unknown> | undefined,
  path: string,
): RopePlusPlusParts & {
  p: Record<string, unknown>;
} {
  const p = resolveParams(path, ROPE_PLUS_PLUS_PARAMS, params);
  if (p.headDim % 2 !== 0) {
    throw new RangeError(`${path}.headDim must be even, received ${p.headDim}`);
  }
  const invFreq = ropeInverseFrequencies(p.headDim, p.base);
  const frozen = Object.freeze({ ...p });
  return {
    p: frozen,
    mode: p.imaginaryHeads,
    real: rotaryEncoding(`${path}.real`, frozen, rotaryForm(invFreq, p.layout, false)),
    imaginary: rotaryEncoding(`${path}.imaginary`, frozen, rotaryForm(invFreq, p.layout, true)),
  };
}

/** Heads [from, to) of x [B, H, T, Dh] from `a` or `b` by run, concatenated back along the head axis. */
function pickHeads(a: Tensor, b: Tensor, useB: (h: number) => boolean): Tensor {
  const H = a.shape[1];
  const parts: Tensor[] = [];
  for (let start = 0; start < H; ) {
    const fromB = useB(start);
    let end = start + 1;
    while (end < H && useB(end) === fromB) end++;
    parts.push(start === 0 && end === H ? (fromB ? b : a) : slice(fromB ? b : a, 1, start, end));
    start = end;
  }
  return parts.length === 1 ? parts[0] : concat(parts, 1);
}

/** x [B, H, T, Dh] -> its even heads [B, H/2, T, Dh]. */
function evenHeads(x: Tensor): Tensor {
  const [B, H, T, Dh] = x.shape as [number, number, number, number];
  return reshape(slice(reshape(x, [B, H / 2, 2, T, Dh]), 2, 0, 1), [B, H / 2, T, Dh]);
}

/** a, b [B, H/2, T, Dh] -> [B, H, T, Dh] with head 2p from a and 2p + 1 from b. */
function interleaveHeads(a: Tensor, b: Tensor): Tensor {
  const [B, P, T, Dh] = a.shape as [number, number, number, number];
  const one = (x: Tensor) => reshape(x, [B, P, 1, T, Dh]);
  return reshape(concat([one(a), one(b)], 2), [B, 2 * P, T, Dh]);
}

/** RoPE++_EH: each pair of heads reads head 2p's q, k, v; head 2p real, 2p + 1 imaginary. */
function pairedTrainable(
  realForm: TrainableEncoding,
  imaginaryForm: TrainableEncoding,
  numHeads: number,
  path: string,
): TrainableEncoding {
  if (numHeads % 2 !== 0) {
    throw new RangeError(
      `${path}.imaginaryHeads = "paired" needs an even number of heads, received ${numHeads}`,
    );
  }
  return {
    id: "rope-plus-plus",
    parameters: () => [],
    transformQK(q, k, ids, layer) {
      const qe = evenHeads(q);
      const ke = evenHeads(k);
      const a = realForm.transformQK!(qe, ke, ids, layer);
      const b = imaginaryForm.transformQK!(qe, ke, ids, layer);
      return { q: interleaveHeads(a.q, b.q), k: interleaveHeads(a.k, a.k) };
    },
    transformValues(v) {
      const ve = evenHeads(v);
      return interleaveHeads(ve, ve);
    },
  };
}

export const ropePlusPlusSpec = defineEncoding({
  id: "rope-plus-plus",
  name: "RoPE++ (imaginary heads)",
  family: "rotary",
  paper: {
    title: "Beyond Real: Imaginary Extension of Rotary Position Embeddings for Long-Context LLMs",
    arxiv: "2512.07525",
    year: 2025,
  },
  formula:
    "imaginary heads: q' = R(m theta - pi/2) q, k' = R(n theta) k, score (q.k) sin((m-n)theta) - (q x k) cos((m-n)theta); other heads RoPE",
  summary:
    "Gives some heads the imaginary part of RoPE's complex score (queries turned by -pi/2), which attends further than the real part.",
  slots: ["transformQK", "transformValues"],
  params: ROPE_PLUS_PLUS_PARAMS,
  modelParams: rotaryModelParams,
  create(params, path = "rope-plus-plus"): PositionalEncoding {
    const { p, real, imaginary, mode } = buildParts(params, path);
    const headDim = p.headDim as number;
    return {
      id: "rope-plus-plus",
      params: p,
      transformQK(x, positions, numHeads, actualHeadDim, role) {
        if (actualHeadDim !== headDim) {
          throw new RangeError(
            `${path}: headDim ${actualHeadDim} does not match params.headDim = ${headDim}`,
          );
        }
        if (x.length !== positions.length * numHeads * headDim) {
          throw new RangeError(
            `${path}: x.length must be positions.length * numHeads * headDim = ${positions.length * numHeads * headDim}, received ${x.length}`,
          );
        }
        if (mode === "paired") pairHeads(x, numHeads, headDim);
        // Each head through its own tables: copy head h out of [T, H, Dh], rotate, copy back.
        const T = positions.length;
        const head = new Float32Array(T * headDim);
        for (let h = 0; h < numHeads; h++) {
          for (let t = 0; t < T; t++)
            head.set(x.subarray((t * numHeads + h) * headDim, (t * numHeads + h + 1) * headDim), t * headDim);
          const part = role === "query" && isImaginaryHead(h, numHeads, mode) ? imaginary : real;
          part.transformQK!(head, positions, 1, headDim, role);
          for (let t = 0; t < T; t++)
            x.set(head.subarray(t * headDim, (t + 1) * headDim), (t * numHeads + h) * headDim);
        }
      },
    };
  },
  trainable(params, dims, _rng, path = "rope-plus-plus"): TrainableEncoding {
    checkModelHeadDim(params.headDim, dims, `${path}.headDim`);
    const { real, imaginary, mode } = buildParts(params, path);
    const adapter = (encoding: PositionalEncoding) =>
      fixedTrainable({ ...ropePlusPlusSpec, create: () => encoding } as EncodingSpec, {}, dims, path);
    const realForm = adapter(real);
    const imaginaryForm = adapter(imaginary);
    if (mode === "paired") return pairedTrainable(realForm, imaginaryForm, dims.numHeads, path);
    return {
      id: "rope-plus-plus",
      parameters: () => [],
      transformQK(q, k, ids, layer) {
        if (mode === "all") return imaginaryForm.transformQK!(q, k, ids, layer);
        const a = realForm.transformQK!(q, k, ids, layer);
        const b = imaginaryForm.transformQK!(q, k, ids, layer);
        return { q: pickHeads(a.q, b.q, (h) => isImaginaryHead(h, dims.numHeads, mode)), k: a.k };
      },
    };
  },
});
