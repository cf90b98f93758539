/**
 * The content-aware slot (e): an encoding sees the layer input x and q, k, owns parameters, and may return the
 * scores itself (a multiplicative transform between q and k). Proved with a tiny test encoding, a per-query
 * temperature read from the layer input:
 *   scores[b, h, i, j] = (1 + x_bi . w) * (q_bhi . k_bhj) / sqrt(Dh),   w in R^D learned (zero init)
 * With w = 0 the scored path must equal the fused attention op (mask included); the gradient with respect to w
 * must match float64 finite differences through the model's block.
 */
import { describe, expect, it } from "vitest";
import type { ModelDims, TrainableEncoding } from "../encodings/trainable.js";
import { defineEncoding } from "../encodings/types.js";
import {
  add,
  constantParameter,
  matmul,
  mul,
  noGrad,
  type Parameter,
  reshape,
  type Tensor,
  tensor,
  tidy,
  transpose,
} from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { Block } from "./block.js";
import { createModelEncoding } from "./encodings.js";

const D = 8;
const H = 2;
const B = 2;
const T = 5;
const DIMS: ModelDims = { dModel: D, numHeads: H, headDim: D / H, numLayers: 1, maxSeqLen: 16, causal: true };

/** The temperature encoding, with its parameter w (given, for gradient checks, or zero-initialized). */
function temperatureSpec(w?: Tensor) {
  return defineEncoding({
    id: "test-temperature",
    name: "Content temperature (test)",
    family: "attention-bias",
    paper: { title: "test", arxiv: "0000.00000", year: 2026 },
    formula: "scores = (1 + x_i . w) q_i . k_j / sqrt(Dh)",
    summary: "A multiplicative content-aware transform of the attention scores, for tests.",
    slots: ["contextual"],
    params: {},
    create: () => ({ id: "test-temperature", params: {} }),
    trainable(): TrainableEncoding {
      const weight = (w ?? constantParameter([D, 1], 0, "temperature.w")) as Parameter;
      return {
        id: "test-temperature",
        parameters: () => [weight],
        contentAttention({ x, q, k }) {
          const [b, t] = x.shape;
          const s = reshape(matmul(reshape(x, [b! * t!, D]), weight), [b!, 1, t!, 1]); // x_bi . w
          const dots = mul(matmul(q, transpose(k, -1, -2)), 1 / Math.sqrt(D / H)); // (B, H, T, T)
          return { scores: add(dots, mul(dots, s)) }; // (1 + s) q.k / sqrt(Dh)
        },
      };
    },
  });
}

function blockOutput(encodingSpec: ReturnType<typeof temperatureSpec> | null, x: Tensor): Tensor {
  const block = new Block(
    new Rng(3),
    { dModel: D, numHeads: H, mlpHidden: 2 * D, causal: true, eps: 1e-5 },
    0,
  );
  const encoding = encodingSpec
    ? createModelEncoding({ id: "test-temperature" }, DIMS, new Rng(4), "model.encoding", () => encodingSpec)
    : createModelEncoding({ id: "nope" }, DIMS, new Rng(4));
  const ids = encoding.positionIds({ batchSize: B, seqLen: T, rng: new Rng(5), training: false });
  return block.attention(x, encoding, ids);
}

describe("content-aware slot (e)", () => {
  const xValues = randomValues(7, B * T * D);

  it("scores from an encoding (w = 0) give the fused attention op's output, causal mask included", () => {
    const [scored, fused] = tidy(() =>
      noGrad(() => [
        blockOutput(temperatureSpec(), tensor(xValues, [B, T, D])).toArray(),
        blockOutput(null, tensor(xValues, [B, T, D])).toArray(),
      ]),
    );
    expect(scored).toHaveLength(B * T * D);
    for (let i = 0; i < scored!.length; i++) expect(scored![i]).toBeCloseTo(fused![i]!, 5);
  });

  it("a nonzero w changes the output (the slot is used) and later tokens never reach earlier ones", () => {
    const w = tensor(randomValues(8, D, 0.5), [D, 1]);
    const out = tidy(() =>
      noGrad(() => blockOutput(temperatureSpec(w), tensor(xValues, [B, T, D])).toArray()),
    );
    const base = tidy(() => noGrad(() => blockOutput(null, tensor(xValues, [B, T, D])).toArray()));
    expect(out.some((v, i) => Math.abs(v - base[i]!) > 1e-4)).toBe(true);
    const changed = Float32Array.from(xValues);
    for (let c = 0; c < D; c++) changed[(T - 1) * D + c] += 1; // example 0, last token
    const after = tidy(() =>
      noGrad(() => blockOutput(temperatureSpec(w), tensor(changed, [B, T, D])).toArray()),
    );
    for (let i = 0; i < (T - 1) * D; i++) expect(after[i]).toBe(out[i]);
  });

  it("gradients flow into the encoding's parameter and the layer input (float64 finite differences)", () => {
    const result = gradCheck(
      ([w, x]) => blockOutput(temperatureSpec(w), x!),
      [
        { shape: [D, 1], values: randomValues(9, D, 0.3) },
        { shape: [B, T, D], values: xValues },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });
});
