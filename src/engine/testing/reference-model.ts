/**
 * The engine's reference model: a test and benchmark FIXTURE, not the library's model (that lives in src/model).
 *
 * Decoder-only transformer (GPT-2 shape, nanoGPT's block): token embedding, then per layer
 *   x = x + proj(attention(rotate(q), rotate(k), v, causal))   with q, k, v = split(ln_1(x) @ Wqkv + bqkv)
 *   x = x + W2 gelu(W1 ln_2(x) + b1) + b2
 * then a final LayerNorm and an untied output head. q and k are rotated pairwise by angle t * base^(-2i/Dh)
 * ("half" pair layout), the rotary scheme of the model the engine benchmarks against.
 *
 * The full-size configuration (`REFERENCE_MODEL`) is the one in the engine issue: 2 layers, d_model 128, 4 heads,
 * MLP 4x, vocab 32, seq 128, batch 32, Adam; tests train a much smaller one.
 */
import { Rng } from "../../util/rng.js";
import { constantParameter, normalParameter } from "../init.js";
import { attention } from "../ops/attention.js";
import { add, gelu } from "../ops/elementwise.js";
import { mergeHeads, splitHeads } from "../ops/heads.js";
import { linear } from "../ops/linear.js";
import { embedding } from "../ops/movement.js";
import { crossEntropy, layerNorm, rotatePairs } from "../ops/nn.js";
import { Adam } from "../optim.js";
import { type Parameter, type Shape, type Tensor, tensor, tidy } from "../tensor.js";

export interface ReferenceModelConfig {
  layers: number;
  dModel: number;
  heads: number;
  /** MLP hidden width = mlpRatio * dModel. */
  mlpRatio: number;
  vocab: number;
  seqLen: number;
  batch: number;
  /** Base of the rotation angles' geometric progression. */
  rotaryBase: number;
}

export const REFERENCE_MODEL: ReferenceModelConfig = {
  layers: 2,
  dModel: 128,
  heads: 4,
  mlpRatio: 4,
  vocab: 32,
  seqLen: 128,
  batch: 32,
  rotaryBase: 10000,
};

/** One row per parameter: the single table every name, shape and initial value comes from. */
function parameterLayout(
  c: ReferenceModelConfig,
): { name: string; shape: Shape; init: "normal" | "zeros" | "ones"; std?: number }[] {
  const C = c.dModel;
  const hidden = c.mlpRatio * C;
  // GPT-2 init: N(0, 0.02), residual projections scaled by 1/sqrt(2 * layers).
  const residualStd = 0.02 / Math.sqrt(2 * c.layers);
  const rows: { name: string; shape: Shape; init: "normal" | "zeros" | "ones"; std?: number }[] = [
    { name: "wte", shape: [c.vocab, C], init: "normal", std: 0.02 },
  ];
  for (let l = 0; l < c.layers; l++) {
    rows.push(
      { name: `h${l}.ln1.w`, shape: [C], init: "ones" },
      { name: `h${l}.ln1.b`, shape: [C], init: "zeros" },
      { name: `h${l}.attn.wqkv`, shape: [C, 3 * C], init: "normal", std: 0.02 },
      { name: `h${l}.attn.bqkv`, shape: [3 * C], init: "zeros" },
      { name: `h${l}.attn.wo`, shape: [C, C], init: "normal", std: residualStd },
      { name: `h${l}.attn.bo`, shape: [C], init: "zeros" },
      { name: `h${l}.ln2.w`, shape: [C], init: "ones" },
      { name: `h${l}.ln2.b`, shape: [C], init: "zeros" },
      { name: `h${l}.mlp.w1`, shape: [C, hidden], init: "normal", std: 0.02 },
      { name: `h${l}.mlp.b1`, shape: [hidden], init: "zeros" },
      { name: `h${l}.mlp.w2`, shape: [hidden, C], init: "normal", std: residualStd },
      { name: `h${l}.mlp.b2`, shape: [C], init: "zeros" },
    );
  }
  rows.push(
    { name: "lnf.w", shape: [C], init: "ones" },
    { name: "lnf.b", shape: [C], init: "zeros" },
    { name: "head", shape: [C, c.vocab], init: "normal", std: 0.02 },
  );
  return rows;
}

export class ReferenceModel {
  readonly params: Parameter[];
  private readonly byName = new Map<string, Parameter>();
  /** Rotation tables (seqLen, headDim / 2), constants. */
  private readonly cos: Tensor;
  private readonly sin: Tensor;

  constructor(
    readonly config: ReferenceModelConfig,
    rng: Rng,
  ) {
    if (config.dModel % config.heads !== 0 || (config.dModel / config.heads) % 2 !== 0) {
      throw new RangeError(
        `ReferenceModel: dModel ${config.dModel} must split into ${config.heads} heads of even width`,
      );
    }
    this.params = parameterLayout(config).map((row) => {
      const p =
        row.init === "normal"
          ? normalParameter(rng, row.shape, row.std ?? 0.02, row.name)
          : constantParameter(row.shape, row.init === "ones" ? 1 : 0, row.name);
      this.byName.set(row.name, p);
      return p;
    });
    const headDim = config.dModel / config.heads;
    const pairs = headDim / 2;
    const angles = new Float64Array(config.seqLen * pairs);
    for (let t = 0; t < config.seqLen; t++) {
      for (let i = 0; i < pairs; i++) angles[t * pairs + i] = t * config.rotaryBase ** ((-2 * i) / headDim);
    }
    this.cos = tensor(Array.from(angles, Math.cos), [config.seqLen, pairs]);
    this.sin = tensor(Array.from(angles, Math.sin), [config.seqLen, pairs]);
  }

  private p(name: string): Parameter {
    const p = this.byName.get(name);
    if (!p) throw new RangeError(`ReferenceModel: no parameter named '${name}'`);
    return p;
  }

  /** Logits (B, T, vocab) for token ids (B * T, row-major). */
  forward(ids: Int32Array, batch: number): Tensor {
    const { heads: H, seqLen: T, layers } = this.config;
    const B = batch;
    let x = embedding(this.p("wte"), ids, [B, T]); // (B, T, C)
    for (let l = 0; l < layers; l++) {
      const h = layerNorm(x, this.p(`h${l}.ln1.w`), this.p(`h${l}.ln1.b`));
      const qkv = linear(h, this.p(`h${l}.attn.wqkv`), this.p(`h${l}.attn.bqkv`)); // (B, T, 3C)
      // q, k, v as (B, H, T, Dh) in one pass; q and k rotated along T (axis 2).
      const [q0, k0, v] = splitHeads(qkv, 3, H);
      const q = rotatePairs(q0, this.cos, this.sin, { axis: 2 });
      const k = rotatePairs(k0, this.cos, this.sin, { axis: 2 });
      const a = mergeHeads(attention(q, k, v, { causal: true })); // (B, T, C)
      x = add(x, linear(a, this.p(`h${l}.attn.wo`), this.p(`h${l}.attn.bo`)));
      const h2 = layerNorm(x, this.p(`h${l}.ln2.w`), this.p(`h${l}.ln2.b`));
      const m = gelu(linear(h2, this.p(`h${l}.mlp.w1`), this.p(`h${l}.mlp.b1`)));
      x = add(x, linear(m, this.p(`h${l}.mlp.w2`), this.p(`h${l}.mlp.b2`)));
    }
    const final = layerNorm(x, this.p("lnf.w"), this.p("lnf.b"));
    return linear(final, this.p("head")); // (B, T, vocab)
  }

  /** Mean next-token cross-entropy; targets < 0 are ignored. */
  loss(ids: Int32Array, targets: Int32Array, batch: number): Tensor {
    return crossEntropy(this.forward(ids, batch), targets);
  }

  dispose(): void {
    for (const p of this.params) p.dispose();
    this.cos.dispose();
    this.sin.dispose();
  }
}

/**
 * The synthetic task: each sequence is an arithmetic progression mod vocab, x_t = (start + t * stride) mod V, with
 * start uniform in [0, V) and stride uniform in {1, 2, 3}; the target at t is x_{t+1}, and the last position has
 * no target (-1, ignored). A model that reads two consecutive tokens predicts the rest exactly.
 * Example (V = 32, start 30, stride 3): ids 30 1 4 7 ..., targets 1 4 7 10 ... -1.
 */
export function progressionBatch(
  rng: Rng,
  batch: number,
  seqLen: number,
  vocab: number,
): { ids: Int32Array; targets: Int32Array } {
  const ids = new Int32Array(batch * seqLen);
  const targets = new Int32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    const start = rng.int(vocab);
    const stride = 1 + rng.int(3);
    for (let t = 0; t < seqLen; t++) {
      ids[b * seqLen + t] = (start + t * stride) % vocab;
      targets[b * seqLen + t] = t + 1 < seqLen ? (start + (t + 1) * stride) % vocab : -1;
    }
  }
  return { ids, targets };
}

export interface TrainRun {
  losses: number[];
  model: ReferenceModel;
  optimizer: Adam;
}

/**
 * Trains the reference model with Adam on progressionBatch data for `steps` steps; every step runs inside `tidy`,
 * so activations, saved buffers and intermediate gradients are freed before the next step. The caller disposes
 * the returned model and optimizer.
 */
export function trainReferenceModel(
  config: ReferenceModelConfig,
  options: { steps: number; seed: number; lr: number; onStep?: (step: number) => void },
): TrainRun {
  const model = new ReferenceModel(config, new Rng(options.seed));
  const dataRng = new Rng(options.seed + 1);
  const optimizer = new Adam(model.params, { lr: options.lr });
  const losses: number[] = [];
  for (let step = 0; step < options.steps; step++) {
    const { ids, targets } = progressionBatch(dataRng, config.batch, config.seqLen, config.vocab);
    const loss = tidy(() => {
      optimizer.zeroGrad();
      const l = model.loss(ids, targets, config.batch);
      l.backward();
      return l.item();
    });
    optimizer.step();
    losses.push(loss);
    options.onStep?.(step);
  }
  return { losses, model, optimizer };
}
