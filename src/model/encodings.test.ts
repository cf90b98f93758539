/**
 * The trainable forms held to the framework-free library: RoPE family vs applyRope / each method's transformQK,
 * bias tensors vs alibiBias / t5Bias / kerple*Bias, embeddings vs sinusoidalEncoding; gradient checks of the learned
 * encodings' parameters in float64.
 */
import { describe, expect, it } from "vitest";
import { alibiBias, alibiBiasAt, alibiSlopes } from "../encodings/alibi.js";
import {
  kerpleBiasFromParameters,
  kerpleDistances,
  kerpleLogBias,
  kerplePowerBias,
} from "../encodings/kerple.js";
import { learnedPositionRows } from "../encodings/learned-absolute.js";
import { encodingRegistry, getEncoding } from "../encodings/registry.js";
import { applyRope, ropeCosSinTable, ropeInverseFrequencies } from "../encodings/rope.js";
import { sinusoidalEncoding } from "../encodings/sinusoidal.js";
import { t5Bias, t5BiasFromTable, t5BucketTableAt } from "../encodings/t5-bias.js";
import type { ModelDims, TrainableEncoding } from "../encodings/trainable.js";
import { concat, embedding, noGrad, type Tensor, tensor, tidy } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { createModelEncoding, createTrainableEncoding } from "./encodings.js";

const B = 2;
const H = 2;
const T = 6;
const DH = 8;
const dims: ModelDims = {
  dModel: H * DH,
  numHeads: H,
  headDim: DH,
  numLayers: 1,
  maxSeqLen: 64,
  causal: true,
};

function trainableOf(
  id: string,
  params: Record<string, unknown> = {},
  d: ModelDims = dims,
): TrainableEncoding {
  return createTrainableEncoding({ id, params }, d, new Rng(3));
}

const sequential = () => Float64Array.from({ length: B * T }, (_, i) => i % T);
/** Per-example ids: distinct increasing, different in each example (and fractional in one). */
const perExample = () => Float64Array.from([0, 2, 3, 7, 11, 12, 1, 1.5, 4, 9, 30, 31]);
/** Integer per-example ids, one repeated (id 3), for tables. */
const perExampleInt = () => Float64Array.from([0, 2, 3, 7, 11, 12, 1, 3, 4, 9, 30, 31]);

/** Example b of x [B, H, T, Dh] as the library's [T, H, Dh] layout. */
function exampleRows(x: ArrayLike<number>, b: number): Float32Array {
  const out = new Float32Array(T * H * DH);
  for (let h = 0; h < H; h++)
    for (let t = 0; t < T; t++)
      for (let c = 0; c < DH; c++) out[(t * H + h) * DH + c] = x[((b * H + h) * T + t) * DH + c];
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function transformed(encoding: TrainableEncoding, ids: Float64Array, q: number[], k: number[]) {
  return tidy(() =>
    noGrad(() => {
      const out = encoding.transformQK?.(tensor(q, [B, H, T, DH]), tensor(k, [B, H, T, DH]), ids, 0);
      if (!out) throw new Error("no transformQK");
      return { q: out.q.toArray(), k: out.k.toArray() };
    }),
  );
}

describe("RoPE family in the model", () => {
  const q = randomValues(1, B * H * T * DH);
  const k = randomValues(2, B * H * T * DH);

  it.each([
    ["half", sequential],
    ["interleaved", sequential],
    ["half", perExample],
    ["interleaved", perExample],
  ] as const)("rope (%s layout) equals applyRope on the same q and k (%o ids)", (layout, idsOf) => {
    const ids = idsOf();
    const out = transformed(trainableOf("rope", { layout }), ids, q, k);
    for (let b = 0; b < B; b++) {
      const row = ids.subarray(b * T, (b + 1) * T);
      const { cos, sin } = ropeCosSinTable(ropeInverseFrequencies(DH, 10000), row);
      for (const [input, output] of [
        [q, out.q],
        [k, out.k],
      ] as const) {
        const expected = applyRope(exampleRows(input, b), cos, sin, { numHeads: H, headDim: DH, layout });
        expect(maxDiff(exampleRows(output, b), expected)).toBeLessThan(1e-6);
      }
    }
  });

  // One coordinate per position; multi-coordinate rotary methods (rope-2d, the mrope family) are checked in their own tests.
  const rotary = encodingRegistry.filter(
    (s) => s.slots.includes("transformQK") && s.trainable && (s.positionCoordinates ?? 1) === 1,
  );
  const extra: Record<string, Record<string, unknown>> = {
    xpos: { center: 8 },
    "rope-dynamic-ntk": { maxPositionEmbeddings: 4 },
    longrope: { originalMaxPositionEmbeddings: 4, factor: 4 },
    yarn: { factor: 4, originalMaxPositionEmbeddings: 4 },
    "randomized-rope": { maxPosition: 64 },
  };

  it.each(rotary.map((s) => s.id))("%s equals its framework-free transformQK per example and role", (id) => {
    const spec = getEncoding(id);
    const params = { headDim: DH, ...extra[id] };
    // Dynamic NTK and LongRoPE keep HF's growth-only state across calls: compare each example to a fresh instance.
    const stateful = id === "rope-dynamic-ntk" || id === "longrope";
    const shared = spec.create(params);
    for (const ids of [sequential(), perExample()]) {
      const out = transformed(trainableOf(id, params), ids, q, k);
      for (let b = 0; b < B; b++) {
        const row = ids.subarray(b * T, (b + 1) * T);
        const library = stateful ? spec.create(params) : shared;
        for (const [role, input, output] of [
          ["query", q, out.q],
          ["key", k, out.k],
        ] as const) {
          const expected = exampleRows(input, b);
          library.transformQK?.(expected, row, H, DH, role);
          expect(maxDiff(exampleRows(output, b), expected), `${id} ${role} example ${b}`).toBeLessThan(2e-6);
        }
      }
    }
  });

  it("xpos scales queries and keys differently (per-role tables)", () => {
    const out = transformed(trainableOf("xpos", { center: 0 }), sequential(), q, q);
    expect(maxDiff(out.q, out.k)).toBeGreaterThan(1e-3);
  });

  it("partial rotary leaves the channels past the rotary dim unchanged", () => {
    const out = transformed(trainableOf("rope", { partialRotaryFactor: 0.5 }), perExample(), q, k);
    for (let i = 0; i < q.length; i++) if (i % DH >= DH / 2) expect(out.q[i]).toBe(Math.fround(q[i]));
  });

  it("the per-example path has exact gradients (float64 finite differences)", () => {
    const encoding = trainableOf("rope");
    const ids = perExample();
    const result = gradCheck(
      ([a, b]) => {
        const out = encoding.transformQK?.(a, b, ids, 0);
        if (!out) throw new Error("no transformQK");
        return concat([out.q, out.k], 0);
      },
      [
        { shape: [B, H, T, DH], values: q },
        { shape: [B, H, T, DH], values: k },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });
});

function biasOf(encoding: TrainableEncoding, ids: Float64Array): { values: number[]; shape: number[] } {
  return tidy(() =>
    noGrad(() => {
      const bias = encoding.attentionBias?.(ids, B, T, 0) as Tensor;
      return { values: bias.toArray(), shape: [...bias.shape] };
    }),
  );
}

describe("attention biases in the model", () => {
  it("alibi equals alibiBias (shared ids) and alibiBiasAt per example, causal and symmetric", () => {
    for (const causal of [true, false]) {
      const d = { ...dims, causal };
      const shared = biasOf(trainableOf("alibi", {}, d), sequential());
      expect(shared.shape).toEqual([1, H, T, T]);
      expect(shared.values).toEqual(Array.from(alibiBias(H, T, T, { causal })));
      const ids = perExample();
      const each = biasOf(trainableOf("alibi", {}, d), ids);
      expect(each.shape).toEqual([B, H, T, T]);
      for (let b = 0; b < B; b++) {
        const row = ids.subarray(b * T, (b + 1) * T);
        const expected = Array.from(alibiBiasAt(alibiSlopes(H), row, row, { causal }));
        expect(each.values.slice(b * H * T * T, (b + 1) * H * T * T)).toEqual(expected);
      }
    }
  });

  it("t5-bias gathers its learned table like t5Bias (causal buckets in a decoder, shared across layers)", () => {
    const encoding = trainableOf("t5-bias", { numBuckets: 8, maxDistance: 16 });
    const [table] = encoding.parameters();
    expect(table.shape).toEqual([8, H]);
    expect(table.toArray().every((v) => v === 0)).toBe(true); // zero init, as the calibration
    table.data.set(randomValues(5, 8 * H));
    const ids = sequential();
    const got = biasOf(encoding, ids);
    const expected = t5Bias(table.toArray(), T, T, { bidirectional: false, numBuckets: 8, maxDistance: 16 });
    expect(got.values).toEqual(Array.from(expected));
    tidy(() => {
      const layer0 = encoding.attentionBias?.(ids, B, T, 0);
      expect(encoding.attentionBias?.(ids, B, T, 1)).toBe(layer0);
    });
  });

  it.each(["log", "power"] as const)(
    "kerple-%s equals kerple*Bias at its parameters, clamped as the official code",
    (kernel) => {
      const encoding = trainableOf(`kerple-${kernel}`);
      const [r1, r2] = encoding.parameters();
      r1.data.set([0.7, -3]); // the negative value is clamped to 0.01 before use
      r2.data.set([kernel === "power" ? 2.5 : 0.3, 1.2]); // the power exponent is clamped to 2
      const got = biasOf(encoding, sequential());
      expect(Array.from(r1.data)).toEqual([Math.fround(0.7), Math.fround(0.01)]);
      const params = { r1: Array.from(r1.data), r2: Array.from(r2.data) };
      const expected = kernel === "log" ? kerpleLogBias(params, T, T) : kerplePowerBias(params, T, T);
      expect(maxDiff(got.values, expected)).toBeLessThan(1e-5);
      if (kernel === "power") expect(r2.data[0]).toBe(2);
    },
  );
});

describe("embeddings in the model", () => {
  it("sinusoidal adds sinusoidalEncoding at each example's ids", () => {
    const encoding = trainableOf("sinusoidal");
    const ids = perExample();
    const got = tidy(() => (encoding.embedding?.(ids, B, T) as Tensor | undefined)?.toArray() ?? []);
    for (let b = 0; b < B; b++) {
      const expected = sinusoidalEncoding(ids.subarray(b * T, (b + 1) * T), dims.dModel);
      expect(got.slice(b * T * dims.dModel, (b + 1) * T * dims.dModel)).toEqual(Array.from(expected));
    }
  });

  it("learned-absolute looks up its N(0, 1) table and names an id past the table", () => {
    const encoding = trainableOf("learned-absolute", { maxPositions: 32 });
    const [table] = encoding.parameters();
    expect(table.shape).toEqual([32, dims.dModel]);
    const values = table.toArray();
    const mean = values.reduce((a, b) => a + b) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(std).toBeGreaterThan(0.9);
    expect(std).toBeLessThan(1.1);
    const ids = perExampleInt();
    const got = tidy(() => (encoding.embedding?.(ids, B, T) as Tensor | undefined)?.toArray() ?? []);
    expect(got.slice(T * dims.dModel, T * dims.dModel + dims.dModel)).toEqual(
      values.slice(dims.dModel, 2 * dims.dModel),
    );
    const tooFar = Float64Array.from({ length: B * T }, (_, i) => i * 3);
    expect(() => tidy(() => encoding.embedding?.(tooFar, B, T))).toThrow(PosencConfigError);
    expect(() => tidy(() => encoding.embedding?.(tooFar, B, T))).toThrow(/position id 33 .*table of 32 rows/);
  });

  it("the model fills learned-absolute's maxPositions from maxSeqLen", () => {
    expect(trainableOf("learned-absolute").parameters()[0].shape).toEqual([64, dims.dModel]);
  });
});

describe("gradients of learned encodings (float64 finite differences)", () => {
  it("t5BiasFromTable", () => {
    const ids = perExample();
    const buckets = new Int32Array(B * T * T);
    for (let b = 0; b < B; b++) {
      const row = ids.subarray(b * T, (b + 1) * T).map(Math.floor);
      buckets.set(
        t5BucketTableAt(row, row, { bidirectional: true, numBuckets: 8, maxDistance: 16 }),
        b * T * T,
      );
    }
    const result = gradCheck(
      ([table]) => t5BiasFromTable(table, buckets, B, T),
      [{ shape: [8, H], values: randomValues(7, 8 * H) }],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it.each(["log", "power"] as const)("kerpleBiasFromParameters (%s)", (kernel) => {
    const distances = new Float32Array(B * T * T);
    const ids = perExample();
    for (let b = 0; b < B; b++)
      distances.set(kerpleDistances(ids.subarray(b * T, (b + 1) * T), true), b * T * T);
    const result = gradCheck(
      ([r1, r2]) => kerpleBiasFromParameters(kernel, r1, r2, distances, B, T),
      [
        { shape: [H], values: [0.8, 1.7] },
        { shape: [H], values: [0.4, 1.3] },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("learned-absolute's gather (the engine embedding at learnedPositionRows)", () => {
    const rows = learnedPositionRows(perExampleInt(), 40);
    const result = gradCheck(
      ([table]) => embedding(table, rows, [B, T]),
      [{ shape: [40, 3], values: randomValues(8, 120) }],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("learned-absolute: each table row receives the summed gradient of the tokens at its id", () => {
    const encoding = createModelEncoding(
      { id: "learned-absolute", params: { maxPositions: 40 } },
      dims,
      new Rng(1),
    );
    const ids = perExampleInt();
    const [table] = encoding.parameters();
    tidy(() => {
      const out = encoding.embedding(ids, B, T) as Tensor;
      out.backward(Float32Array.from({ length: out.size }, () => 1));
    });
    for (let r = 0; r < 40; r++) {
      const count = ids.filter((id) => id === r).length;
      expect(table.grad?.[r * dims.dModel + 5] ?? 0, `row ${r}`).toBe(count);
    }
    table.zeroGrad();
  });
});
