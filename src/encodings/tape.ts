/**
 * TAPE, from "Rethinking Addressing in Language Models via Contextualized Equivariant Positional Encoding"
 * (Zhu, Wang, Cai, Lee, Li, Wang, ICML 2025; TAPE = conTextualized equivariAnt Position Encoding), arXiv:2501.00712.
 * Official code: VITA-Group/TAPE, models/llama/adape.py (`AdaRotaryEmbedding`,
 * `apply_rotary_pos_emb`, `PELlamaAttention`, `PELayer`, `LlamaDecoderLayer`; commit 259cd84841c8).
 *
 * Positions are a state that each layer updates with the tokens. Per head the state is E = (C, S), two [T, Dh]
 * tables, initialised to RoPE's cos and sin in the half layout (C[t, c] = cos(id_t theta_(c mod P)), P = Dh/2,
 * theta_i = base^(-2i/Dh)); during training the ids are shifted by one random k in 0 .. 2 maxLen per batch.
 *   attention   q' = q * C + rotate_half(q) * S,   k' likewise (rotate_half(x) = (-x2, x1));  A = softmax(q'k'^T / sqrt(Dh) + mask)
 *               E <- (A C, A S) * w_h + E          w_h = sum_e W_post[h, e]  (the official einsum 'bqnd,qe->bqnd'
 *                                                   reduces W_post [H, H] to its row sums: a per-head scale)
 *   "MLP"       E_h <- E_h + sum_e down[h, e] act(x_t . a_e) sum_h' up[e, h'] E_h'    (PELayer; act = SiLU, Llama's)
 * A mixes tokens (permutation-equivariant), W_post/up/down mix heads only, never the Dh channels the rotation
 * acts on, so E stays equivariant to orthogonal maps of those channels. Init as the official: W_post = 0 and
 * up = 0, so at init the state never changes and TAPE is RoPE (at the shifted ids).
 *
 * How it fits the hooks: (b) gives the shifted ids; (e) `contentAttention` of layer l rotates q, k by the state
 * and updates it with A (the model then attends with the same q', k', so A is the model's), keeping the state for
 * layer l + 1 of the same forward pass (keyed by the identity of the ids array, new on every forward).
 * Differences from the official layer, stated:
 *   - PELayer reads the MLP sublayer's output of layer l; no hook shows that output, so layer l's PELayer reads
 *     the next layer's attention input (the block output after LayerNorm), applied at the start of layer l + 1.
 *     The last layer's PELayer changes nothing the model reads (also in the official model), so there are
 *     numLayers - 1 of them;
 *   - A is recomputed here from q', k' without other encodings' biases (TAPE is used alone);
 *   - position_size (the PELayer width) is a parameter, default 2 * numHeads.
 */
import {
  add,
  concat,
  constantParameter,
  matmul,
  mul,
  normalParameter,
  type Parameter,
  permute,
  reshape,
  sigmoid,
  slice,
  softmax,
  sum,
  type Tensor,
  tensor,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { ropeInverseFrequencies } from "./rope.js";
import type { ContentAttentionInput, ModelDims, TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, resolveParams } from "./types.js";

/** The position state of one layer: C and S, each [B, H, T, Dh]. */
export interface TapeState {
  cos: Tensor;
  sin: Tensor;
}

/** RoPE's tables in the half layout as the initial state, [B, H, T, Dh], from ids [B, T]. */
export function tapeInitialState(
  ids: ArrayLike<number>,
  B: number,
  H: number,
  T: number,
  Dh: number,
  base: number,
) {
  const P = Math.floor(Dh / 2);
  const invFreq = ropeInverseFrequencies(2 * P, base);
  const cos = new Float64Array(B * H * T * Dh).fill(1);
  const sin = new Float64Array(B * H * T * Dh);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++)
        for (let c = 0; c < 2 * P; c++) {
          const angle = ids[b * T + t]! * invFreq[c % P]!;
          cos[((b * H + h) * T + t) * Dh + c] = Math.cos(angle);
          sin[((b * H + h) * T + t) * Dh + c] = Math.sin(angle);
        }
  return { cos, sin };
}

/** x * C + rotate_half(x) * S (the official apply_rotary_pos_emb), x, C, S [B, H, T, Dh]. */
export function tapeRotate(x: Tensor, state: TapeState): Tensor {
  const Dh = x.shape[x.rank - 1]!;
  const P = Math.floor(Dh / 2);
  const halves = [mul(slice(x, -1, P, 2 * P), -1), slice(x, -1, 0, P)];
  if (2 * P < Dh) halves.push(mul(slice(x, -1, 2 * P, Dh), 0));
  return add(mul(x, state.cos), mul(concat(halves, -1), state.sin));
}

/**
 * Attention half of a TAPE layer: q', k' rotated by the state, A = softmax(q'k'^T / sqrt(Dh) + mask), and the
 * updated state (A C, A S) * rowSum(wPost)_h + (C, S). wPost [H, H].
 */
export function tapeAttentionUpdate(q: Tensor, k: Tensor, state: TapeState, wPost: Tensor, causal: boolean) {
  const [, H, T, Dh] = q.shape as [number, number, number, number];
  const qr = tapeRotate(q, state);
  const kr = tapeRotate(k, state);
  let logits = mul(matmul(qr, kr, { transB: true }), 1 / Math.sqrt(Dh));
  if (causal) {
    const mask = new Float64Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e30;
    logits = add(logits, tensor(mask, [T, T]));
  }
  const A = softmax(logits);
  const scale = reshape(sum(wPost, -1), [1, H, 1, 1]);
  return {
    q: qr,
    k: kr,
    state: {
      cos: add(mul(matmul(A, state.cos), scale), state.cos),
      sin: add(mul(matmul(A, state.sin), scale), state.sin),
    },
  };
}

/** PELayer: E_h + sum_e down[h, e] silu(x . a_e) sum_h' up[e, h'] E_h', x [B, T, D], gate [D, Pp], up [Pp, H], down [H, Pp]. */
export function tapeMlpUpdate(
  x: Tensor,
  state: TapeState,
  gate: Tensor,
  up: Tensor,
  down: Tensor,
): TapeState {
  const [B, T, D] = x.shape as [number, number, number];
  const Pp = gate.shape[1]!;
  const z = matmul(reshape(x, [B * T, D]), gate);
  const g = reshape(mul(z, sigmoid(z)), [B, T, 1, Pp]); // SiLU
  const one = (e: Tensor) => {
    const perToken = permute(e, [0, 2, 3, 1]); // [B, T, Dh, H]
    const mixed = matmul(mul(matmul(perToken, up, { transB: true }), g), down, { transB: true }); // [B, T, Dh, H]
    return add(e, permute(mixed, [0, 3, 1, 2]));
  };
  return { cos: one(state.cos), sin: one(state.sin) };
}

const TAPE_PARAMS = {
  base: {
    type: "number",
    description: "RoPE base of the initial state.",
    default: 10000,
    min: 1,
    exclusiveMin: true,
  },
  positionSize: {
    type: "integer",
    description: "Width of the PELayer over heads (the official position_size); 0 (default): 2 * numHeads.",
    default: 0,
    min: 0,
  },
  trainShift: {
    type: "boolean",
    description:
      "Shift the ids by one random k in 0 .. 2 maxSeqLen per training batch (the official AdaRotaryEmbedding).",
    default: true,
  },
} as const satisfies EncodingSpec["params"];

function createTape(
  params: { base: number; positionSize: number; trainShift: boolean },
  dims: ModelDims,
  rng: Rng,
): TrainableEncoding {
  const { dModel: D, numHeads: H, headDim: Dh, numLayers, causal, maxSeqLen } = dims;
  const Pp = params.positionSize === 0 ? 2 * H : params.positionSize;
  const post = Array.from({ length: numLayers }, (_, l) =>
    constantParameter([H, H], 0, `tape.layer${l}.post`),
  );
  const mlp = Array.from({ length: Math.max(0, numLayers - 1) }, (_, l) => ({
    gate: normalParameter(rng, [D, Pp], 0.02, `tape.layer${l}.pe.gate`),
    up: constantParameter([Pp, H], 0, `tape.layer${l}.pe.up`),
    down: normalParameter(rng, [H, Pp], 0.02, `tape.layer${l}.pe.down`),
  }));
  let current: { ids: Float64Array; layer: number; state: TapeState } | null = null;
  return {
    id: "tape",
    parameters: () => [...post, ...mlp.flatMap((p): Parameter[] => [p.gate, p.up, p.down])],
    positionIds({ batchSize, seqLen, rng: stream, training, taskPositionIds }) {
      const ids = new Float64Array(batchSize * seqLen);
      const shift = training && params.trainShift ? stream.int(2 * maxSeqLen + 1) : 0;
      for (let n = 0; n < ids.length; n++) ids[n] = (taskPositionIds?.[n] ?? n % seqLen) + shift;
      return ids;
    },
    contentAttention({ x, q, k, positionIds, layer }: ContentAttentionInput) {
      const [B, , T] = q.shape as [number, number, number, number];
      let state: TapeState;
      if (layer === 0 || !current || current.ids !== positionIds || current.layer !== layer - 1) {
        const init = tapeInitialState(positionIds, B, H, T, Dh, params.base);
        state = { cos: tensor(init.cos, [B, H, T, Dh]), sin: tensor(init.sin, [B, H, T, Dh]) };
      } else {
        const p = mlp[layer - 1]!; // layer l - 1's PELayer, on the block output after LayerNorm (see above)
        state = tapeMlpUpdate(x, current.state, p.gate, p.up, p.down);
      }
      const out = tapeAttentionUpdate(q, k, state, post[layer]!, causal);
      current = { ids: positionIds, layer, state: out.state };
      return { q: out.q, k: out.k };
    },
    carried: () => (current ? [current.state.cos, current.state.sin] : []),
  };
}

export const tapeSpec = defineEncoding({
  id: "tape",
  name: "TAPE (contextualized equivariant position states)",
  family: "rotary",
  paper: {
    title: "Rethinking Addressing in Language Models via Contextualized Equivariant Positional Encoding",
    arxiv: "2501.00712",
    year: 2025,
  },
  formula:
    "q' = q*C + rot(q)*S with per-layer states (C, S) <- (A C, A S) w_h + (C, S), then + down(silu(x a) * up(C, S)); (C, S) start as RoPE's cos, sin",
  summary:
    "RoPE tables that become a state each layer updates with the attention weights and the tokens, mixing heads but never the rotated channels, so the encoding stays equivariant.",
  slots: ["contextual"], // its trainable form also maps ids (b), for the training shift; no framework-free hook
  params: TAPE_PARAMS,
  create(params, path = "tape") {
    const p = resolveParams(path, TAPE_PARAMS, params);
    // No framework-free hook: the state depends on the layer inputs (see tapeInitialState and the updates).
    return { id: "tape", params: Object.freeze(p) };
  },
  trainable: createTape,
});
