/**
 * The slots (f) layerInput and (g) transformValues / transformOutput, proved with two toy encodings:
 *   (f) "test-mix"    at layer `mixLayer` only: x' = x + x W + id_t u       (W [D, D], u [D] learned)
 *   (g) "test-scale"  v'[b, h, t] = (1 + a id_bt) v[b, h, t]                (a learned scalar)
 *                     o'[b, h, t] = c_h o[b, h, t]                          (c [H] learned)
 * Values: the block with each toy encoding equals the block computed by hand (x' given to the plain block; the
 * attention written out from the block's weights with the scaled values and output). Unused slots are the identity
 * (the same tensor back), a slot filled twice is a conflict, and gradients with respect to the toy parameters and
 * the block input match float64 finite differences.
 */
import { describe, expect, it } from "vitest";
import type { ModelDims, TrainableEncoding } from "../encodings/trainable.js";
import { defineEncoding, type EncodingSpec } from "../encodings/types.js";
import {
  add,
  matmul,
  mergeHeads,
  mul,
  noGrad,
  type Parameter,
  reshape,
  softmax,
  splitHeads,
  type Tensor,
  tensor,
  tidy,
  transpose,
} from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { Block, linear } from "./block.js";
import { createModelEncoding, type ModelEncoding } from "./encodings.js";

const D = 8;
const H = 2;
const DH = D / H;
const B = 2;
const T = 5;
const DIMS: ModelDims = { dModel: D, numHeads: H, headDim: DH, numLayers: 2, maxSeqLen: 16, causal: false };

const toySpec = (id: string, slots: EncodingSpec["slots"], trainable: () => TrainableEncoding) =>
  defineEncoding({
    id,
    name: `${id} (test)`,
    family: "absolute",
    paper: { title: "test", arxiv: "0000.00000", year: 2026 },
    formula: "see the test file",
    summary: "A toy encoding for the slot tests.",
    slots,
    params: {},
    create: () => ({ id, params: {} }),
    trainable,
  });

/** (f): x' = x + x W + id_t u at layer `mixLayer`. */
function mixSpec(weight: Tensor, u: Tensor, mixLayer = 0, id = "test-mix") {
  return toySpec(id, ["layerInput"], () => ({
    id,
    parameters: () => [weight as Parameter, u as Parameter],
    layerInput(x, ids, layer) {
      if (layer !== mixLayer) return x;
      const [b, t] = x.shape;
      const idColumn = tensor(Float32Array.from(ids), [b!, t!, 1]);
      return add(add(x, reshape(matmul(reshape(x, [b! * t!, D]), weight), [b!, t!, D])), mul(idColumn, u));
    },
  }));
}

/** (g): v' = (1 + a id) v, o' = c_h o. */
function scaleSpec(a: Tensor, c: Tensor) {
  return toySpec("test-scale", ["transformValues", "transformOutput"], () => ({
    id: "test-scale",
    parameters: () => [a as Parameter, c as Parameter],
    transformValues(v, ids) {
      const [b, , t] = v.shape;
      const idColumn = tensor(Float32Array.from(ids), [b!, 1, t!, 1]);
      return add(v, mul(mul(idColumn, a), v));
    },
    transformOutput: (o) => mul(o, c),
  }));
}

const SHAPE = { dModel: D, numHeads: H, mlpHidden: 2 * D, causal: false, eps: 1e-5 };
const block = (index = 0) => new Block(new Rng(3), SHAPE, index);

function encodingOf(spec: EncodingSpec | null): ModelEncoding {
  return spec
    ? createModelEncoding({ id: spec.id }, DIMS, new Rng(4), "model.encoding", () => spec)
    : createModelEncoding({ id: "nope" }, DIMS, new Rng(4));
}

const IDS = Float64Array.from({ length: B * T }, (_, i) => i % T);
const xValues = randomValues(7, B * T * D);

describe("slot (f) layerInput", () => {
  const w = randomValues(11, D * D, 0.3);
  const u = randomValues(12, D, 0.5);

  it("replaces the block's input: the block on x equals the plain block on x + x W + id u", () => {
    const [withSlot, byHand] = tidy(() =>
      noGrad(() => {
        const spec = mixSpec(tensor(w, [D, D]), tensor(u, [D]));
        const out = block()
          .forward(tensor(xValues, [B, T, D]), encodingOf(spec), IDS)
          .toArray();
        const mixed = new Float32Array(B * T * D);
        for (let r = 0; r < B * T; r++) {
          for (let j = 0; j < D; j++) {
            let s = xValues[r * D + j]! + IDS[r]! * u[j]!;
            for (let i = 0; i < D; i++) s += xValues[r * D + i]! * w[i * D + j]!;
            mixed[r * D + j] = s;
          }
        }
        const plain = block()
          .forward(tensor(mixed, [B, T, D]), encodingOf(null), IDS)
          .toArray();
        return [out, plain];
      }),
    );
    for (let i = 0; i < withSlot!.length; i++) expect(withSlot![i]).toBeCloseTo(byHand![i]!, 5);
  });

  it("is called with the block's index: another layer is left alone", () => {
    const [other, plain] = tidy(() =>
      noGrad(() => {
        const spec = mixSpec(tensor(w, [D, D]), tensor(u, [D]), 0);
        return [
          block(1)
            .forward(tensor(xValues, [B, T, D]), encodingOf(spec), IDS)
            .toArray(),
          block(1)
            .forward(tensor(xValues, [B, T, D]), encodingOf(null), IDS)
            .toArray(),
        ];
      }),
    );
    expect(other).toEqual(plain);
  });

  it("gradients reach W, u and the block input (float64 finite differences)", () => {
    const result = gradCheck(
      ([weight, shift, x]) => block().forward(x!, encodingOf(mixSpec(weight!, shift!)), IDS),
      [
        { shape: [D, D], values: w },
        { shape: [D], values: u },
        { shape: [B, T, D], values: xValues },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });
});

/** The block's attention sublayer written out with scaled values and output (no encoding involved). */
function attentionByHand(blk: Block, h: Tensor, a: number, c: readonly number[]): Tensor {
  const flat = reshape(h, [B * T, D]);
  const heads = (l: Parameters<typeof linear>[1]) =>
    splitHeads(reshape(linear(flat, l), [B, T, D]), 1, H)[0]!;
  const q = heads(blk.query);
  const k = heads(blk.key);
  const scale = new Float32Array(B * T).map((_, i) => 1 + a * IDS[i]!);
  const v = mul(heads(blk.value), tensor(scale, [B, 1, T, 1]));
  const weights = softmax(mul(matmul(q, transpose(k, -1, -2)), 1 / Math.sqrt(DH)));
  const o = mul(matmul(weights, v), tensor(c, [1, H, 1, 1]));
  return reshape(linear(reshape(mergeHeads(o), [B * T, D]), blk.output), [B, T, D]);
}

describe("slot (g) transformValues and transformOutput", () => {
  const c = [0.7, -1.3];

  it("values are scaled before attention, the output after it and before Wo", () => {
    const [withSlot, byHand] = tidy(() =>
      noGrad(() => {
        const blk = block();
        const x = tensor(xValues, [B, T, D]);
        const spec = scaleSpec(tensor([0.25], [1]), tensor(c, [1, H, 1, 1]));
        return [
          blk.attention(x, encodingOf(spec), IDS).toArray(),
          attentionByHand(blk, x, 0.25, c).toArray(),
        ];
      }),
    );
    expect(withSlot).toHaveLength(B * T * D);
    for (let i = 0; i < withSlot!.length; i++) expect(withSlot![i]).toBeCloseTo(byHand![i]!, 5);
  });

  it("gradients reach a, c and the layer input (float64 finite differences)", () => {
    const result = gradCheck(
      ([a, scales, x]) => block().attention(x!, encodingOf(scaleSpec(a!, scales!)), IDS),
      [
        { shape: [1], values: [0.3] },
        { shape: [1, H, 1, 1], values: c },
        { shape: [B, T, D], values: xValues },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });
});

describe("unused slots and conflicts", () => {
  it("unused, each slot hands back the very tensor it was given", () => {
    tidy(() => {
      const model = encodingOf(null);
      const x = tensor(xValues, [B, T, D]);
      const v = tensor(xValues, [B, H, T, DH]);
      expect(model.layerInput(x, IDS, 0)).toBe(x);
      expect(model.transformValues(v, IDS, 0)).toBe(v);
      expect(model.transformOutput(v, IDS, 0)).toBe(v);
    });
  });

  it("two encodings filling one of the new slots are rejected naming both", () => {
    const specs = [
      mixSpec(tensor(randomValues(1, D * D), [D, D]), tensor(randomValues(2, D), [D])),
      mixSpec(tensor(randomValues(1, D * D), [D, D]), tensor(randomValues(2, D), [D]), 0, "test-mix2"),
      scaleSpec(tensor([0], [1]), tensor([1, 1], [1, H, 1, 1])),
    ];
    const lookup = (id: string) => specs.find((s) => s.id === id)!;
    const build = (ids: string[]) => () =>
      createModelEncoding(
        ids.map((id) => ({ id })),
        DIMS,
        new Rng(1),
        "model.encoding",
        lookup,
      );
    expect(build(["test-mix", "test-mix2"])).toThrow(PosencConfigError);
    expect(build(["test-mix", "test-mix2"])).toThrow(/test-mix and test-mix2 both use layerInput/);
    // Different slots combine.
    expect(build(["test-mix", "test-scale"])().ids).toEqual(["test-mix", "test-scale"]);
  });
});
