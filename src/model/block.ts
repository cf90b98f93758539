/**
 * One pre-norm transformer block (GPT-2 / nanoGPT order, no dropout):
 *   x = (f) layerInput(x)                       (identity unless an encoding fills the slot: CPE/PEG)
 *   x = x + attn(ln1(x))
 *   x = x + mlp(ln2(x)),   mlp(h) = W2 gelu(W1 h + b1) + b2,  hidden = mlpRatio * dModel
 * Attention: q, k, v = h Wq + bq, h Wk + bk, h Wv + bv split into H heads of Dh = dModel / H channels;
 * (c) q, k = transformQK(q, k); (e) may replace q, k from the input h; scores = q k^T / sqrt(Dh) (or the scores a
 * content-aware encoding computes) + (d) + (e) bias, causal mask for a decoder;
 * out = (g) transformOutput(softmax(scores) (g) transformValues(v)), heads concatenated, then Wo + bo.
 *
 * Padding rows: given `realRows` (the flat B*T indices of a right-padded causal batch's real tokens, see
 * transformer.ts), the per-token work (q/k/v/output projections, the MLP) runs on those rows only, gathered
 * (`embedding`) and put back in place with zeros on the padding rows (`scatterRows`). Real tokens' values are
 * unchanged bit for bit (each output row of a matmul depends on its own input row only, and a causal query never
 * sees a later padding key); padding rows hold other values, which reach nothing but later padding rows and
 * logits that the loss ignores. On copy batches padding is ~45% of the rows. Weight gradients sum over rows: the
 * same sum without its zero terms, but beyond 256 rows the WASM matmul's 256-term blocks group it differently, so
 * they agree to float32 rounding, not bit for bit (real-rows.test.ts).
 *
 * Init: linear weights and biases U(-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's nn.Linear default (what the
 * calibration's model used); LayerNorm weight 1, bias 0.
 */
import {
  add,
  constantParameter,
  embedding,
  gelu,
  layerNorm,
  matmul,
  mergeHeads,
  mul,
  type Parameter,
  reshape,
  scatterRows,
  softmax,
  splitHeads,
  type Tensor,
  tensor,
  uniformParameter,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { attentionByHead } from "./attention-by-head.js";
import type { ModelEncoding } from "./encodings.js";

export interface Linear {
  weight: Parameter; // (in, out)
  bias: Parameter; // (out)
}

/** PyTorch nn.Linear init: weight and bias U(-1/sqrt(in), 1/sqrt(in)). Weight stored (in, out) for x @ W. */
export function createLinear(rng: Rng, inFeatures: number, outFeatures: number, name: string): Linear {
  const bound = 1 / Math.sqrt(inFeatures);
  return {
    weight: uniformParameter(rng, [inFeatures, outFeatures], -bound, bound, `${name}.weight`),
    bias: uniformParameter(rng, [outFeatures], -bound, bound, `${name}.bias`),
  };
}

/** x (N, in) -> (N, out). */
export function linear(x: Tensor, layer: Linear): Tensor {
  return add(matmul(x, layer.weight), layer.bias);
}

/** The listed rows of x (R, C) (x itself when rows is null). */
function gatherRows(x: Tensor, rows: Int32Array | null): Tensor {
  return rows ? embedding(x, rows) : x;
}

/** y (rows, C) put back at its rows of an (R, C) result, 0 elsewhere (y itself when rows is null). */
function placeRows(y: Tensor, rows: Int32Array | null, R: number): Tensor {
  return rows ? scatterRows(y, rows, R) : y;
}

export interface LayerNormParams {
  weight: Parameter;
  bias: Parameter;
}

export function createLayerNorm(dim: number, name: string): LayerNormParams {
  return {
    weight: constantParameter([dim], 1, `${name}.weight`),
    bias: constantParameter([dim], 0, `${name}.bias`),
  };
}

export interface BlockShape {
  dModel: number;
  numHeads: number;
  mlpHidden: number;
  causal: boolean;
  eps: number;
}

export class Block {
  readonly ln1: LayerNormParams;
  readonly ln2: LayerNormParams;
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly output: Linear;
  readonly fc: Linear;
  readonly proj: Linear;

  constructor(
    rng: Rng,
    readonly shape: BlockShape,
    readonly index: number,
  ) {
    const { dModel, mlpHidden } = shape;
    const name = `blocks.${index}`;
    this.ln1 = createLayerNorm(dModel, `${name}.ln1`);
    this.query = createLinear(rng, dModel, dModel, `${name}.attn.query`);
    this.key = createLinear(rng, dModel, dModel, `${name}.attn.key`);
    this.value = createLinear(rng, dModel, dModel, `${name}.attn.value`);
    this.output = createLinear(rng, dModel, dModel, `${name}.attn.output`);
    this.ln2 = createLayerNorm(dModel, `${name}.ln2`);
    this.fc = createLinear(rng, dModel, mlpHidden, `${name}.mlp.fc`);
    this.proj = createLinear(rng, mlpHidden, dModel, `${name}.mlp.proj`);
  }

  parameters(): Parameter[] {
    const lin = (l: Linear) => [l.weight, l.bias];
    return [
      this.ln1.weight,
      this.ln1.bias,
      ...lin(this.query),
      ...lin(this.key),
      ...lin(this.value),
      ...lin(this.output),
      this.ln2.weight,
      this.ln2.bias,
      ...lin(this.fc),
      ...lin(this.proj),
    ];
  }

  /** x (B, T, D) -> (B, T, D); realRows: see the file comment (null: every row). */
  forward(x: Tensor, encoding: ModelEncoding, ids: Float64Array, realRows: Int32Array | null = null): Tensor {
    x = encoding.layerInput(x, ids, this.index); // (f)
    const h1 = layerNorm(x, this.ln1.weight, this.ln1.bias, this.shape.eps);
    x = add(x, this.attention(h1, encoding, ids, realRows));
    return add(x, this.mlp(layerNorm(x, this.ln2.weight, this.ln2.bias, this.shape.eps), realRows));
  }

  /** h (B, T, D) -> (B, T, D). */
  attention(
    h: Tensor,
    encoding: ModelEncoding,
    ids: Float64Array,
    realRows: Int32Array | null = null,
  ): Tensor {
    const [B, T, D] = h.shape;
    const H = this.shape.numHeads;
    const flat = gatherRows(reshape(h, [B * T, D]), realRows);
    const project = (layer: Linear) => reshape(placeRows(linear(flat, layer), realRows, B * T), [B, T, D]);
    const heads = (layer: Linear) => splitHeads(project(layer), 1, H)[0]; // (B, H, T, Dh)
    const rotated = encoding.transformQK(heads(this.query), heads(this.key), ids, this.index); // (c)
    const v = encoding.transformValues(heads(this.value), ids, this.index); // (g)
    // (d) + (e): bias (.., H, T, T); content-aware q, k, or scores that replace scale * q k^T.
    const { q, k, bias, scores } = encoding.attentionTerms(h, rotated.q, rotated.k, ids, this.index);
    const attended = scores
      ? scoredAttention(scores, v, bias, this.shape.causal)
      : attentionByHead(q, k, v, { causal: this.shape.causal, bias: bias ?? undefined }); // (B, H, T, Dh)
    const out = encoding.transformOutput(attended, ids, this.index); // (g)
    const merged = reshape(mergeHeads(out), [B * T, D]); // (B*T, D)
    const projected = linear(gatherRows(merged, realRows), this.output);
    return reshape(placeRows(projected, realRows, B * T), [B, T, D]);
  }

  /**
   * The attention probabilities (B, H, T, T) this block applies to its input x (B, T, D): the same slots as
   * forward's (f), (c), (d), (e), then softmax(scale q k^T + bias [causal mask]) or softmax(scores + bias), without
   * values. For pictures of what a head attends to (src/lab/vision/attention.ts); use under noGrad.
   */
  attentionWeights(x: Tensor, encoding: ModelEncoding, ids: Float64Array): Tensor {
    const input = encoding.layerInput(x, ids, this.index); // (f)
    const h = layerNorm(input, this.ln1.weight, this.ln1.bias, this.shape.eps);
    const [B, T, D] = h.shape;
    const H = this.shape.numHeads;
    const flat = reshape(h, [B * T, D]);
    const heads = (layer: Linear) => splitHeads(reshape(linear(flat, layer), [B, T, D]), 1, H)[0];
    const rotated = encoding.transformQK(heads(this.query), heads(this.key), ids, this.index); // (c)
    const { q, k, bias, scores } = encoding.attentionTerms(h, rotated.q, rotated.k, ids, this.index);
    const raw = scores ?? mul(matmul(q, k, { transB: true }), 1 / Math.sqrt(q.shape[3]!));
    return softmax(attentionLogits(raw, bias, this.shape.causal));
  }

  /** h (B, T, D) -> (B, T, D). */
  mlp(h: Tensor, realRows: Int32Array | null = null): Tensor {
    const [B, T, D] = h.shape;
    const rows = gatherRows(reshape(h, [B * T, D]), realRows);
    const hidden = gelu(linear(rows, this.fc)); // (rows, mlpHidden)
    return reshape(placeRows(linear(hidden, this.proj), realRows, B * T), [B, T, D]);
  }
}

/**
 * softmax(scores + bias [+ causal mask]) v for scores an encoding computed itself (multiplicative transforms),
 * scores (B, H, T, T), v (B, H, T, Dh). The mask is an additive -1e30 above the diagonal: exp underflows to 0, as
 * the fused op's masked entries.
 */
export function scoredAttention(scores: Tensor, v: Tensor, bias: Tensor | null, causal: boolean): Tensor {
  return matmul(softmax(attentionLogits(scores, bias, causal)), v);
}

/** scores + bias, and -1e30 above the diagonal when causal (exp underflows to 0, as the fused op's masked entries). */
function attentionLogits(scores: Tensor, bias: Tensor | null, causal: boolean): Tensor {
  const T = scores.shape[scores.rank - 1]!;
  const logits = bias ? add(scores, bias) : scores;
  if (!causal) return logits;
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e30;
  return add(logits, tensor(mask, [T, T]));
}
