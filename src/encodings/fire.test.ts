import { describe, expect, it } from "vitest";
import { trainPreviousTokenAttention } from "../../test/helpers/previous-token.js";
import { Adam, attention, sum, tensor, tidy, withFloat64Storage, zeros } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import {
  createFireTrainable,
  FIRE_DEFAULTS,
  type FireMlpWeights,
  type FireTensors,
  fireBias,
  fireBiasTensor,
  fireInitialWeights,
  fireMlp,
  fireNormalizedDistance,
  firePositionTensors,
  fireSpec,
} from "./fire.js";
import type { ModelDims } from "./trainable.js";

const eps = FIRE_DEFAULTS.eps;

/** width 2, 2 heads: hidden = relu([x, -x + 0.5]); out = [0.1 + h0 + 3 h1, -0.1 + 2 h0 + 4 h1]. */
const TINY: FireMlpWeights = { w1: [1, -1], b1: [0, 0.5], w2: [1, 2, 3, 4], b2: [0.1, -0.1] };
const tinyMlp = (x: number): [number, number] => {
  const h0 = Math.max(0, x);
  const h1 = Math.max(0, 0.5 - x);
  return [0.1 + h0 + 3 * h1, -0.1 + 2 * h0 + 4 * h1];
};

describe("fireNormalizedDistance", () => {
  it("is psi(i - j) / (psi(max(L, i)) + eps) with psi(x) = log(|c x| + 1)", () => {
    const opts = { c: 1, threshold: 2 };
    // i = 3 > L: normaliser psi(3) = log 4.
    expect(fireNormalizedDistance(3, 1, opts)).toBeCloseTo(Math.log(3) / (Math.log(4) + eps), 14);
    // i = 1 < L = 2: normaliser psi(2) = log 3, not psi(1).
    expect(fireNormalizedDistance(1, 0, opts)).toBeCloseTo(Math.log(2) / (Math.log(3) + eps), 14);
    expect(fireNormalizedDistance(5, 5, opts)).toBe(0);
    // c scales inside the log: c = 0.5, i = 4, j = 0, L = 0: log(3) / log(3).
    expect(fireNormalizedDistance(4, 0, { c: 0.5, threshold: 0 })).toBeCloseTo(
      Math.log(3) / (Math.log(3) + eps),
      14,
    );
  });

  it("maps the farthest key of every long query to ~1 (progressive interpolation) with the paper's defaults", () => {
    const opts = { c: FIRE_DEFAULTS.c, threshold: FIRE_DEFAULTS.threshold };
    for (const i of [512, 1000, 100000]) expect(fireNormalizedDistance(i, 0, opts)).toBeCloseTo(1, 5);
    // Below the threshold the normaliser is fixed: distance 100 at i = 100 gives psi(100) / psi(512) < 1.
    expect(fireNormalizedDistance(100, 0, opts)).toBeCloseTo(Math.log(11) / (Math.log(52.2) + eps), 12);
  });

  it("rejects bad options with named errors", () => {
    expect(() => fireNormalizedDistance(1, 0, { c: 0, threshold: 1 })).toThrow(PosencConfigError);
    expect(() => fireNormalizedDistance(1, 0, { c: 0, threshold: 1 })).toThrow(
      /Invalid c: expected a finite number > 0, received 0/,
    );
    expect(() => fireNormalizedDistance(1, 0, { c: 1, threshold: -1 })).toThrow(/Invalid threshold/);
    expect(() => fireNormalizedDistance(Number.NaN, 0, { c: 1, threshold: 1 })).toThrow(/queryPosition/);
  });
});

describe("fireMlp and fireBias", () => {
  it("evaluates Linear -> ReLU -> Linear per head", () => {
    for (const x of [0, 0.25, 1]) {
      const [a, b] = tinyMlp(x);
      const out = fireMlp(TINY, x);
      expect(out[0]).toBeCloseTo(a, 14);
      expect(out[1]).toBeCloseTo(b, 14);
    }
    expect(Array.from(fireMlp(TINY, 1))).toEqual([1.1, 1.9]);
  });

  it("gives f(normalised distance) for past keys and 0 for future keys (causal)", () => {
    const opts = { c: 1, threshold: 2 };
    const bias = fireBias(TINY, [0, 1, 2], [0, 1, 2], opts);
    expect(bias.length).toBe(2 * 3 * 3);
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const expected = j > i ? 0 : tinyMlp(Math.log1p(i - j) / (Math.log1p(Math.max(2, i)) + eps))[h];
          expect(bias[(h * 3 + i) * 3 + j]).toBeCloseTo(expected, 13);
        }
      }
    }
  });

  it("mirrors |i - j| when not causal, and queries at an offset use their own position in the normaliser", () => {
    const opts = { c: 1, threshold: 0, causal: false };
    const bias = fireBias(TINY, [5, 6], [4, 5, 6, 7], opts);
    // query 5, key 7 (future): log(3) / log(6).
    expect(bias[0 * 4 + 3]).toBeCloseTo(tinyMlp(Math.log(3) / (Math.log(6) + eps))[0], 13);
    // query 6, key 4: log(3) / log(7).
    expect(bias[1 * 4 + 0]).toBeCloseTo(tinyMlp(Math.log(3) / (Math.log(7) + eps))[0], 13);
  });

  it("rejects inconsistent weights and bad positions", () => {
    expect(() => fireBias({ ...TINY, w2: [1, 2, 3] }, [0], [0], { c: 1, threshold: 1 })).toThrow(RangeError);
    expect(() => fireBias({ ...TINY, b1: [0, Number.NaN] }, [0], [0], { c: 1, threshold: 1 })).toThrow(
      /b1\[1\]/,
    );
    expect(() => fireBias(TINY, [0, Infinity], [0], { c: 1, threshold: 1 })).toThrow(/queryPositions\[1\]/);
    expect(() => fireBias(TINY, [0], [0], { c: 1, threshold: 1, causal: "yes" as never })).toThrow(
      PosencConfigError,
    );
  });
});

describe("fireInitialWeights", () => {
  it("is deterministic and within PyTorch's nn.Linear bounds", () => {
    const a = fireInitialWeights(3, 8, new Rng(5));
    const b = fireInitialWeights(3, 8, new Rng(5));
    expect(Array.from(a.w2)).toEqual(Array.from(b.w2));
    expect(a.w1.every((v) => Math.abs(v) <= 1)).toBe(true);
    expect(a.w2.every((v) => Math.abs(v) <= 1 / Math.sqrt(8))).toBe(true);
    expect(a.w2.length).toBe(24);
    expect(() => fireInitialWeights(0, 8, new Rng(1))).toThrow(/numHeads/);
  });
});

const DIMS: ModelDims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 2, maxSeqLen: 16, causal: true };

/** Weights of the trainable's layer as plain arrays, for the framework-free form. */
function layerWeights(layer: FireTensors) {
  return {
    weights: {
      w1: layer.w1.toArray(),
      b1: layer.b1.toArray(),
      w2: layer.w2.toArray(),
      b2: layer.b2.toArray(),
    },
    c: layer.c.item(),
    lMultiplier: layer.lMultiplier.item(),
  };
}

describe("FIRE trainable form", () => {
  it("equals fireBias on the same weights, shared across the batch when ids agree", () => {
    const fire = createFireTrainable({ threshold: 3 }, DIMS, new Rng(11));
    const { weights, c } = layerWeights(fire.layers[1]);
    const ids = Float64Array.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    const bias = tidy(() => {
      const t = fire.attentionBias(ids, 2, 6, 1);
      return { shape: [...t.shape], values: t.toArray() };
    });
    expect(bias.shape).toEqual([1, 2, 6, 6]);
    const expected = fireBias(weights, [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5], {
      c,
      threshold: 3,
      causal: false,
    });
    bias.values.forEach((v, n) => {
      expect(v).toBeCloseTo(expected[n], 5);
    });
  });

  it("uses each example's own ids (fractional, offset) when they differ", () => {
    const fire = createFireTrainable({ threshold: 2 }, DIMS, new Rng(3));
    const { weights, c } = layerWeights(fire.layers[0]);
    const rows = [
      [0, 1, 2],
      [10, 10.5, 13],
    ];
    const bias = tidy(() => fire.attentionBias(Float64Array.from(rows.flat()), 2, 3, 0).toArray());
    expect(bias.length).toBe(2 * 2 * 3 * 3);
    rows.forEach((row, b) => {
      const expected = fireBias(weights, row, row, { c, threshold: 2, causal: false });
      expected.forEach((v, n) => {
        expect(bias[b * 18 + n]).toBeCloseTo(v, 5);
      });
    });
  });

  it("has exact gradients for every learned parameter (float64 finite differences)", () => {
    const width = 5;
    const heads = 3;
    // Positions 0..5 with L0 = 2.5: queries both below and above the threshold, so c and lMultiplier both matter.
    const ids = Float64Array.from([0, 1, 2, 3, 4, 5]);
    const result = gradCheck(
      ([w1, b1, w2, b2, c, lMultiplier]) =>
        fireBiasTensor({ w1, b1, w2, b2, c, lMultiplier }, firePositionTensors(ids, 1, 6), 2.5),
      [
        { shape: [1, width], values: randomValues(1, width) },
        { shape: [width], values: randomValues(2, width, 0.5) },
        { shape: [width, heads], values: randomValues(3, width * heads) },
        { shape: [heads], values: randomValues(4, heads) },
        { shape: [1], values: [0.7] },
        { shape: [1], values: [1.1] },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("future keys carry no weight under the causal attention", () => {
    // The trainable form returns the mirrored |i - j| value for future keys (the paper's module); the causal mask
    // must make it irrelevant: attention with it equals attention with those entries zeroed (fireBias causal).
    withFloat64Storage(() =>
      tidy(() => {
        const fire = createFireTrainable({ threshold: 2 }, { ...DIMS, numLayers: 1 }, new Rng(8));
        const { weights, c } = layerWeights(fire.layers[0]);
        const T = 4;
        const ids = Float64Array.from([0, 1, 2, 3]);
        const q = tensor(randomValues(20, 2 * T * 4), [1, 2, T, 4]);
        const k = tensor(randomValues(21, 2 * T * 4), [1, 2, T, 4]);
        const v = tensor(randomValues(22, 2 * T * 4), [1, 2, T, 4]);
        const trainableBias = fire.attentionBias(ids, 1, T, 0);
        const causalBias = tensor(fireBias(weights, ids, ids, { c, threshold: 2 }), [1, 2, T, T]);
        const a = attention(q, k, v, { causal: true, bias: trainableBias }).toArray();
        const b = attention(q, k, v, { causal: true, bias: causalBias }).toArray();
        a.forEach((x, n) => {
          expect(x).toBeCloseTo(b[n], 6);
        });
      }),
    );
  });

  it("trains: an attention loss gives every parameter a gradient", () => {
    const fire = createFireTrainable({ threshold: 3 }, { ...DIMS, numLayers: 1 }, new Rng(4));
    const T = 6;
    tidy(() => {
      const ids = Float64Array.from({ length: T }, (_, t) => t);
      const shape = [1, 2, T, 4];
      const q = tensor(randomValues(30, 2 * T * 4), shape);
      const k = tensor(randomValues(31, 2 * T * 4), shape);
      const v = tensor(randomValues(32, 2 * T * 4), shape);
      sum(attention(q, k, v, { causal: true, bias: fire.attentionBias(ids, 1, T, 0) })).backward();
    });
    for (const p of fire.parameters()) {
      expect(p.grad && Array.from(p.grad).some((g) => g !== 0), p.name).toBe(true);
    }
  });

  it("learns to attend to the previous token through an optimizer (content-free q = k = 0)", () => {
    const T = 8;
    const D = 4;
    const dims = { dModel: D, numHeads: 1, headDim: D, numLayers: 1, maxSeqLen: T, causal: true };
    const fire = createFireTrainable({ threshold: T }, dims, new Rng(1));
    const opt = new Adam(fire.parameters(), { lr: 0.03 });
    const v = tensor(randomValues(5, T * D), [1, 1, T, D]);
    const q = zeros([1, 1, T, D]);
    const positions = () => Float64Array.from({ length: T }, (_, t) => t); // a new ids array per step
    const losses = trainPreviousTokenAttention({
      q,
      v,
      optimizer: opt,
      steps: 100,
      bias: () => fire.attentionBias(positions(), 1, T, 0),
    });
    expect(losses[0]).toBeGreaterThan(0.3);
    expect(losses[99]).toBeLessThan(0.02);
    v.dispose();
    q.dispose();
  });

  it("reuses per-forward work: the same ids array shares the shared-parameter bias across layers", () => {
    const shared = createFireTrainable({ shareAcrossLayers: true }, DIMS, new Rng(1));
    const perLayer = createFireTrainable({}, DIMS, new Rng(1));
    tidy(() => {
      const ids = Float64Array.from([0, 1, 2]);
      expect(shared.attentionBias(ids, 1, 3, 0)).toBe(shared.attentionBias(ids, 1, 3, 1));
      expect(shared.attentionBias(Float64Array.from(ids), 1, 3, 0)).not.toBe(
        shared.attentionBias(ids, 1, 3, 0),
      );
      const a = perLayer.attentionBias(ids, 1, 3, 0).toArray();
      const b = perLayer.attentionBias(ids, 1, 3, 1).toArray();
      expect(a).not.toEqual(b); // separate MLPs per layer
    });
  });

  it("is deterministic per seed, owns one parameter set per layer (or one when shared)", () => {
    const a = createFireTrainable({}, DIMS, new Rng(1));
    const b = createFireTrainable({}, DIMS, new Rng(1));
    expect(a.parameters().map((p) => p.toArray())).toEqual(b.parameters().map((p) => p.toArray()));
    expect(a.parameters().length).toBe(12);
    expect(a.parameters()[0].shape).toEqual([1, 32]);
    expect(a.parameters()[2].shape).toEqual([32, 2]);
    // The same draws as fireInitialWeights from the same seed (float32 storage).
    const init = fireInitialWeights(2, 32, new Rng(1));
    expect(a.layers[0].w2.toArray()).toEqual(Array.from(init.w2, Math.fround));
    expect(a.layers[0].c.item()).toBeCloseTo(0.1, 7);
    expect(a.layers[0].lMultiplier.item()).toBe(1);
    const shared = createFireTrainable({ shareAcrossLayers: true }, DIMS, new Rng(1));
    expect(shared.parameters().length).toBe(6);
    expect(() => a.attentionBias(Float64Array.from([0, 1]), 1, 2, 2)).toThrow(/layer 2/);
    expect(() => a.attentionBias(Float64Array.from([0, 1]), 2, 2, 0)).toThrow(RangeError);
  });
});

describe("fireSpec", () => {
  it("create() evaluates given flattened weights in float32 and returns 0 without weights", () => {
    const flat = [1, -1, 0, 0.5, 1, 2, 3, 4, 0.1, -0.1]; // TINY: w1, b1, w2, b2
    const enc = fireSpec.create({ weights: flat, c: 1, threshold: 2, mlpWidth: 2 });
    const got = enc.attentionBias?.([0, 1, 2], [0, 1, 2], 2) as Float32Array;
    const expected = fireBias(TINY, [0, 1, 2], [0, 1, 2], { c: 1, threshold: 2 });
    expect(Array.from(got)).toEqual(Array.from(expected, Math.fround));
    expect(Array.from(fireSpec.create().attentionBias?.([0, 1], [0, 1], 3) as Float32Array)).toEqual(
      new Array(12).fill(0),
    );
  });

  it("rejects bad params with named errors", () => {
    expect(() => fireSpec.create({ c: 0 })).toThrow(
      /Invalid fire.c: expected a finite number > 0, received 0/,
    );
    expect(() => fireSpec.create({ mlpWidth: 1.5 })).toThrow(/fire.mlpWidth/);
    expect(() => fireSpec.create({ threshold: -1 })).toThrow(PosencConfigError);
    expect(() => fireSpec.create({ slope: 1 })).toThrow(/Unknown key fire.slope/);
    const enc = fireSpec.create({ weights: [1, 2, 3], mlpWidth: 2 });
    expect(() => enc.attentionBias?.([0], [0], 2)).toThrow(/fire.weights: expected 2 \* mlpWidth/);
    expect(() => createFireTrainable({ variant: "both" }, DIMS, new Rng(1))).toThrow(/fire.variant/);
  });
});
