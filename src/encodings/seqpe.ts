/**
 * SeqPE: Transformer with Sequential Position Encoding (Li, Liu, Sun, Cai, Cui, Bi, Zhao, Watanabe, 2025),
 * arXiv:2506.13277.
 *
 * A position is written as its base-10 digits and read by a small transformer, so every position, also one never
 * seen in training, has an embedding computed from digits the encoder knows:
 *   digits(p) = the decimal digits of p, most significant first, left-padded with 0 to maxDigits (pads masked)
 *   h_0     = [ D[d_1] + S[1], ..., D[d_m] + S[m], c ]      D a 10-row digit table, S a slot table, c a CLS vector
 *             (the CLS comes last and has no slot embedding)
 *   h_l     = GPT-2 block (pre-LayerNorm attention + GELU MLP), causal or bidirectional over the m + 1 tokens,
 *             padding keys masked
 *   PE(p)   = W_out h_L[last] + b_out, divided by the temperature;   x_t = E[w_t] + PE(id_t)
 * Official code: ghrua/seqpe, image_seqpe/models/sequential_pe.py `SequentialPE.forward` (token_of_seqpe_embed
 * 10 x d, pos_of_seqpe_embed, cls_token_embed appended last, SequentialPeBlock, out_proj of x[:, -1] times
 * 1 / seqpe_temperature; attn_direction 'causal' by default) and models/pe_utils.py `PeUtils.prepare_seqpe_data`
 * (left padding with 0, pad mask 0 on pads) and `get_seqpe_mask` (tril mask times the key pad mask; the CLS always
 * visible). Init as the official `_init_seqpe_weights`: N(0, 0.02^2) (theirs truncated) for linear and embedding
 * weights, zero biases, LayerNorm weight 1. Dropout is left out (the lab trains without dropout).
 *
 * Not here: the paper's two regularisers (a contrastive loss aligning PE distances with position distances, and a
 * distillation loss anchoring out-of-range positions to in-range ones, `pe_criterion.py`) are extra loss terms;
 * the model's loss has no slot for an encoding's own loss yet. The n-D form (per-axis digit runs and an axis
 * embedding) is 1-D only here.
 *
 * Each forward pass encodes the distinct ids of the batch once (a [U, dModel] table) and gathers rows.
 */
import {
  add,
  affine,
  attention,
  concat,
  embedding,
  gelu,
  layerNorm,
  linear,
  mergeHeads,
  normalParameter,
  type Parameter,
  parameter,
  reshape,
  slice,
  splitHeads,
  type Tensor,
  tensor,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { type ModelDims, PerForward, type TrainableEncoding } from "./trainable.js";
import {
  defineEncoding,
  type EncodingSpec,
  type ParamValues,
  type PositionalEncoding,
  resolveParams,
} from "./types.js";

/** Digits of p, most significant first, left-padded with 0 to maxDigits, and the mask (1 digit, 0 pad). */
export function seqpeDigits(position: number, maxDigits: number): { digits: number[]; mask: number[] } {
  if (!(Number.isInteger(position) && position >= 0 && position < 10 ** maxDigits)) {
    throw new PosencConfigError(
      "out_of_range",
      "seqpe.maxDigits",
      maxDigits,
      `enough digits for position id ${position} (ids are integers in [0, 10^maxDigits))`,
    );
  }
  const written = String(position).split("").map(Number);
  const pad = maxDigits - written.length;
  return {
    digits: [...Array<number>(pad).fill(0), ...written],
    mask: [...Array<number>(pad).fill(0), ...Array<number>(written.length).fill(1)],
  };
}

const SEQPE_PARAMS = {
  maxDigits: {
    type: "integer",
    description: "Digits per position (positions up to 10^maxDigits - 1), left-padded.",
    default: 5,
    min: 1,
    max: 15,
  },
  width: {
    type: "integer",
    description: "Width of the digit encoder (official pe_embed_dim).",
    default: 32,
    min: 2,
  },
  heads: { type: "integer", description: "Attention heads of the digit encoder.", default: 2, min: 1 },
  layers: { type: "integer", description: "Blocks of the digit encoder.", default: 1, min: 1, max: 8 },
  attention: {
    type: "string",
    description: 'Digit attention: "causal" (official default) or "bidirectional" (official "bi").',
    default: "causal",
    choices: ["causal", "bidirectional"],
  },
  temperature: {
    type: "number",
    description: "PE = out_proj(last) / temperature (official seqpe_temperature).",
    default: 1,
    min: 0,
    exclusiveMin: true,
  },
} as const satisfies EncodingSpec["params"];

type SeqpeParams = ParamValues<typeof SEQPE_PARAMS>;

interface Block {
  ln1: [Parameter, Parameter];
  qkv: [Parameter, Parameter];
  proj: [Parameter, Parameter];
  ln2: [Parameter, Parameter];
  fc: [Parameter, Parameter];
  out: [Parameter, Parameter];
}

function dense(rng: Rng, rows: number, cols: number, name: string): [Parameter, Parameter] {
  return [
    normalParameter(rng, [rows, cols], 0.02, `${name}.weight`),
    parameter(new Float64Array(cols), [cols], `${name}.bias`),
  ];
}

function norm(width: number, name: string): [Parameter, Parameter] {
  return [
    parameter(new Float64Array(width).fill(1), [width], `${name}.weight`),
    parameter(new Float64Array(width), [width], `${name}.bias`),
  ];
}

/** The digit encoder's weights and its forward pass over distinct positions: [U] -> PE [U, dModel]. */
function seqpeEncoder(p: SeqpeParams, dModel: number, rng: Rng) {
  const { width: W, heads: H, maxDigits: M } = p;
  if (W % H !== 0) {
    throw new PosencConfigError("invalid_value", "seqpe.width", W, `a multiple of seqpe.heads (${H})`);
  }
  const digitTable = normalParameter(rng, [10, W], 0.02, "seqpe.digits");
  const slotTable = normalParameter(rng, [M, W], 0.02, "seqpe.slots");
  const cls = normalParameter(rng, [1, 1, W], 0.02, "seqpe.cls");
  const blocks: Block[] = Array.from({ length: p.layers }, (_, l) => ({
    ln1: norm(W, `seqpe.${l}.ln1`),
    qkv: dense(rng, W, 3 * W, `seqpe.${l}.qkv`),
    proj: dense(rng, W, W, `seqpe.${l}.proj`),
    ln2: norm(W, `seqpe.${l}.ln2`),
    fc: dense(rng, W, 4 * W, `seqpe.${l}.fc`),
    out: dense(rng, 4 * W, W, `seqpe.${l}.mlpOut`),
  }));
  const head = dense(rng, W, dModel, "seqpe.out");
  const parameters = [digitTable, slotTable, cls, ...blocks.flatMap((b) => Object.values(b).flat()), ...head];

  const encode = (positions: readonly number[]): Tensor => {
    const U = positions.length;
    const S = M + 1;
    const digits = new Int32Array(U * M);
    // Key mask as an additive bias (U, 1, S, S): -1e9 on padded digit keys (the CLS key is always visible).
    const bias = new Float32Array(U * S * S);
    positions.forEach((position, u) => {
      const { digits: d, mask } = seqpeDigits(position, M);
      digits.set(d, u * M);
      for (let j = 0; j < M; j++) {
        if (mask[j] === 0) for (let i = 0; i < S; i++) bias[(u * S + i) * S + j] = -1e9;
      }
    });
    let x = add(embedding(digitTable, digits, [U, M]), slotTable); // (U, M, W)
    x = concat([x, add(tensor(new Float32Array(U * W), [U, 1, W]), cls)], 1); // (U, S, W): CLS last
    const mask = tensor(bias, [U, 1, S, S]);
    for (const b of blocks) {
      const h = layerNorm(x, b.ln1[0], b.ln1[1]);
      const [q, k, v] = splitHeads(linear(h, b.qkv[0], b.qkv[1]), 3, H); // (U, H, S, W/H)
      const attended = attention(q!, k!, v!, { causal: p.attention === "causal", bias: mask });
      x = add(x, linear(mergeHeads(attended), b.proj[0], b.proj[1]));
      const g = layerNorm(x, b.ln2[0], b.ln2[1]);
      x = add(x, linear(gelu(linear(g, b.fc[0], b.fc[1])), b.out[0], b.out[1]));
    }
    const last = reshape(slice(x, 1, M, S), [U, W]);
    return affine(linear(last, head[0], head[1]), 1 / p.temperature); // (U, dModel)
  };
  return { parameters, encode };
}

function seqpeTrainable(params: SeqpeParams, dims: ModelDims, rng: Rng): TrainableEncoding {
  const encoder = seqpeEncoder(params, dims.dModel, rng);
  const perForward = new PerForward<Tensor>();
  return {
    id: "seqpe",
    parameters: () => encoder.parameters,
    embedding(ids, batchSize, seqLen) {
      return perForward.get(ids, () => {
        const distinct = [...new Set(ids)].sort((a, b) => a - b);
        const rowOf = new Map(distinct.map((p, i) => [p, i]));
        const rows = Int32Array.from(ids, (p) => rowOf.get(p)!);
        return embedding(encoder.encode(distinct), rows, [batchSize, seqLen]); // (B, T, dModel)
      });
    },
  };
}

export const seqpeSpec = defineEncoding({
  id: "seqpe",
  name: "SeqPE (sequential position encoder)",
  family: "absolute",
  paper: { title: "SeqPE: Transformer with Sequential Position Encoding", arxiv: "2506.13277", year: 2025 },
  formula:
    "PE(p) = W_out h_L[CLS] / temperature, h = small transformer over [D[digit_i] + S[i] for the left-padded decimal digits of p, CLS]",
  summary:
    "Computes each position's embedding from its decimal digits with a small learned encoder, so unseen positions still get embeddings.",
  slots: ["embedding"],
  params: SEQPE_PARAMS,
  trainable: seqpeTrainable,
  create(params, path = "seqpe"): PositionalEncoding {
    const p = resolveParams(path, SEQPE_PARAMS, params);
    return {
      id: "seqpe",
      params: Object.freeze(p),
      // The framework-free form has no weights (they are learned): it checks the ids and adds zeros.
      embedding(positions, dModel) {
        for (let i = 0; i < positions.length; i++) seqpeDigits(positions[i]!, p.maxDigits);
        return new Float32Array(positions.length * dModel);
      },
    };
  },
});

/** The encoder alone (for tests): weights drawn from `rng`, PE of `positions` as [U, dModel]. */
export function seqpeEncoderForTest(params: Record<string, unknown>, dModel: number, rng: Rng) {
  return seqpeEncoder(resolveParams("seqpe", SEQPE_PARAMS, params), dModel, rng);
}
