import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SMOKE_TIMEOUT, trainSmoke } from "../../test/helpers/train-smoke.js";
import { add, noGrad, sub, type Tensor, tensor, tidy, withFloat64Storage } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { type DpeRefiner, dpeDelta, dpeOrderLoss, dpeOrderLossTensor, dpeSpec } from "./dpe.js";
import { sinusoidalEncoding } from "./sinusoidal.js";

type Pair = { weight: number[]; bias: number[] };
const reference = JSON.parse(
  readFileSync(new URL("../../test/fixtures/dpe-reference.json", import.meta.url), "utf8"),
) as {
  batch: number;
  seqLen: number;
  dModel: number;
  numHeads: number;
  hidden: number;
  x: number[];
  weights: Record<keyof DpeRefiner<unknown>, Pair>;
  delta: { causal: number[]; bidirectional: number[] };
};
const { batch: B, seqLen: T, dModel: D, numHeads: H, hidden } = reference;

const SHAPES: Record<keyof DpeRefiner<unknown>, [number[], number[]]> = {
  norm1: [[D], [D]],
  query: [[D, D], [D]],
  key: [[D, D], [D]],
  value: [[D, D], [D]],
  output: [[D, D], [D]],
  norm2: [[D], [D]],
  fc: [[D, hidden], [hidden]],
  proj: [[hidden, D], [D]],
};
const NAMES = Object.keys(SHAPES) as (keyof DpeRefiner<unknown>)[];

/** The refiner from flat tensors in NAMES order, weight then bias. */
const refinerOf = (ts: Tensor[]) =>
  Object.fromEntries(
    NAMES.map((n, i) => [n, { weight: ts[2 * i], bias: ts[2 * i + 1] }]),
  ) as unknown as DpeRefiner<Tensor>;
const weightTensors = () =>
  NAMES.flatMap((n) => [
    tensor(reference.weights[n].weight, SHAPES[n][0]),
    tensor(reference.weights[n].bias, SHAPES[n][1]),
  ]);

/** gradCheck inputs: the fixture's x, then every refiner weight and bias drawn at random (none zero). */
const gradInputs = () => [
  { shape: [B, T, D], values: reference.x },
  ...NAMES.flatMap((n, i) => [
    {
      shape: SHAPES[n][0],
      values: randomValues(
        10 + 2 * i,
        SHAPES[n][0].reduce((p, d) => p * d, 1),
        0.5,
      ),
    },
    { shape: SHAPES[n][1], values: randomValues(11 + 2 * i, SHAPES[n][1][0], 0.1) },
  ]),
];

describe("dpe refiner", () => {
  it("Delta(x) equals PyTorch's layer_norm + softmax attention + tanh-GELU MLP, causal and bidirectional", () => {
    for (const causal of [true, false]) {
      const got = withFloat64Storage(() =>
        tidy(() => dpeDelta(tensor(reference.x, [B, T, D]), refinerOf(weightTensors()), H, causal).toArray()),
      );
      const expected = causal ? reference.delta.causal : reference.delta.bidirectional;
      got.forEach((v, n) => {
        expect(v).toBeCloseTo(expected[n], 10);
      });
    }
  });

  it("is causal in a decoder: changing the last token leaves the refined earlier positions unchanged", () => {
    const x2 = [...reference.x];
    for (let c = 0; c < D; c++) x2[(T - 1) * D + c] += 1;
    const run = (x: number[]) =>
      withFloat64Storage(() =>
        tidy(() => dpeDelta(tensor(x, [B, T, D]), refinerOf(weightTensors()), H, true).toArray()),
      );
    const a = run(reference.x);
    const b = run(x2);
    for (let t = 0; t < T - 1; t++) for (let c = 0; c < D; c++) expect(b[t * D + c]).toBe(a[t * D + c]);
    expect(b[(T - 1) * D]).not.toBe(a[(T - 1) * D]);
  });

  it("has exact gradients for x and every refiner weight (float64 finite differences)", () => {
    const result = gradCheck(([x, ...ws]) => dpeDelta(x, refinerOf(ws), H, true), gradInputs());
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("order loss (reconstruction): zero when the refined positions are the target order's sinusoids", () => {
    const order = [3, 2, 1, 0];
    const target = sinusoidalEncoding(order, 8);
    expect(dpeOrderLoss(target, order, 8)).toBe(0);
    const shifted = Array.from(target, (v) => v + 0.5);
    expect(dpeOrderLoss(shifted, order, 8)).toBeCloseTo(0.25, 12);
    expect(() => dpeOrderLoss(new Float32Array(3), order, 8)).toThrow(/T \* dModel/);
  });
});

describe("dpe order loss", () => {
  // D = 2: P(p) = (sin p, cos p). pi = (2, -1, 0): token 1 has no target-order position and is left out.
  // P' = ((0, 0), (5, 5), (1, 1)): ((0 - sin 2)^2 + (0 - cos 2)^2 + (1 - 0)^2 + (1 - 1)^2) / (2 tokens * 2) = 0.5.
  const refined = [0, 0, 5, 5, 1, 1];
  const order = [2, -1, 0];

  it("equals the hand-computed value, masked tokens left out, in plain and tensor form (weight applied)", () => {
    expect(dpeOrderLoss(refined, order, 2)).toBeCloseTo(0.5, 7);
    expect(dpeOrderLoss(refined, [-1, -1, -1], 2)).toBe(0);
    const got = withFloat64Storage(() =>
      tidy(() => {
        const two = tensor([...refined, ...refined], [2, 3, 2]);
        const pi = Float64Array.from([...order, -1, -1, -1]); // the second row has no defined position
        return [
          dpeOrderLossTensor(two, pi, 2, 3)!.item(),
          dpeOrderLossTensor(two, pi, 2, 3, 0.3)!.item(),
          dpeOrderLossTensor(two, new Float64Array(6).fill(-1), 2, 3),
        ];
      }),
    );
    expect(got[0]).toBeCloseTo(0.5, 7);
    expect(got[1]).toBeCloseTo(0.15, 7);
    expect(got[2]).toBeNull();
  });

  const dims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 1, maxSeqLen: 8, causal: false };
  const [b, t] = [2, 4];
  const ids = () => Float64Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
  const targetOrder = Float64Array.from([3, 2, 1, 0, -1, 0, 1, -1]);
  const x = randomValues(7, b * t * 8);

  /** One forward of DPE's hooks as the model runs them (x = E + P, layer 0), then the order loss of that pass. */
  function orderLoss(
    enc: ReturnType<NonNullable<typeof dpeSpec.trainable>>,
    pi: Float64Array | null = targetOrder,
  ): Tensor | undefined {
    const positions = ids();
    enc.layerInput!(add(tensor(x, [b, t, 8]), enc.embedding!(positions, b, t)), positions, 0);
    const pass = { positionIds: positions, batchSize: b, seqLen: t };
    return enc.auxiliaryLoss!(pi ? { ...pass, targetOrder: pi } : pass);
  }

  it("has exact gradients through P' = P + Delta(x) for x and every refiner weight (float64 finite differences)", () => {
    // Rows of the fixture's batch: a reversed order with one undefined token, and an order with two.
    const pi = Float64Array.from({ length: B * T }, (_, n) => (n < T ? T - 1 - n : n % 3 === 0 ? -1 : n % T));
    pi[1] = -1;
    const positions = Array.from({ length: T }, (_, t) => t);
    const result = gradCheck(([x, ...ws]) => {
      const P = tensor(sinusoidalEncoding(positions, D), [1, T, D]);
      return dpeOrderLossTensor(add(P, dpeDelta(x, refinerOf(ws), H, false)), pi, B, T, 0.7)!;
    }, gradInputs());
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("the trainable form's term is lambda L_order of that forward's P' = (layer-0 input out) - E", () => {
    const enc = dpeSpec.trainable!({ mlpRatio: 2, orderLossWeight: 0.7 }, dims, new Rng(2));
    enc.parameters().forEach((p, i) => {
      p.data.set(randomValues(40 + i, p.size, 0.4)); // Delta != 0
    });
    const [aux, refined] = withFloat64Storage(() =>
      tidy(() => {
        const positions = ids();
        const E = tensor(x, [b, t, 8]);
        const out = enc.layerInput!(add(E, enc.embedding!(positions, b, t)), positions, 0);
        const term = enc.auxiliaryLoss!({ positionIds: positions, batchSize: b, seqLen: t, targetOrder });
        return [term!.item(), Array.from(sub(out, E).toArray())] as const;
      }),
    );
    // The rows' losses are pooled over all defined tokens: 4 in row 0, 2 in row 1.
    const rowLoss = (r: number) =>
      dpeOrderLoss(refined.slice(r * t * 8, (r + 1) * t * 8), targetOrder.subarray(r * t, (r + 1) * t), 8);
    expect(aux).toBeGreaterThan(0.01);
    expect(aux).toBeCloseTo((0.7 * (4 * rowLoss(0) + 2 * rowLoss(1))) / 6, 10);
  });

  it("adds nothing at weight 0, without target order, for another forward's ids, or after a noGrad pass", () => {
    const enc = (w: number) => dpeSpec.trainable!({ mlpRatio: 2, orderLossWeight: w }, dims, new Rng(2));
    tidy(() => {
      expect(orderLoss(enc(1))!.item()).toBeGreaterThan(0); // reversed row 0: P(t) is not P(3 - t)
      expect(orderLoss(enc(0))).toBeUndefined();
      const e = enc(1);
      expect(orderLoss(e, null)).toBeUndefined();
      expect(orderLoss(e, new Float64Array(8).fill(-1))).toBeUndefined();
      orderLoss(e);
      expect(e.auxiliaryLoss!({ positionIds: ids(), batchSize: b, seqLen: t, targetOrder })).toBeUndefined();
      expect(noGrad(() => orderLoss(e))).toBeUndefined();
    });
  });

  it("is zero at initialisation when the target order is the input order (Delta starts at 0)", () => {
    const enc = dpeSpec.trainable!({ mlpRatio: 2, orderLossWeight: 1 }, dims, new Rng(2));
    const identity = Float64Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(tidy(() => orderLoss(enc, identity)!.item())).toBe(0);
  });
});

describe("dpe trainable form", () => {
  const dims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 2, maxSeqLen: 8, causal: true };

  it("starts as the sinusoidal encoding: embedding = sin/cos table, layer 0 input unchanged at initialisation", () => {
    const enc = dpeSpec.trainable!({ mlpRatio: 4, orderLossWeight: 1 }, dims, new Rng(1));
    const ids = Float64Array.from([0, 1, 2, 0, 1, 2]);
    const [embedding, refined, later] = tidy(() => {
      const x = tensor(randomValues(4, 2 * 3 * 8), [2, 3, 8]);
      const out = [enc.embedding!(ids, 2, 3), enc.layerInput!(x, ids, 0), enc.layerInput!(x, ids, 1)];
      return [out[0].toArray(), out[1].toArray(), out[2] === x ? "same" : "other"] as const;
    });
    Array.from(sinusoidalEncoding([0, 1, 2], 8)).forEach((v, n) => {
      expect(embedding[n]).toBeCloseTo(v, 6);
    });
    randomValues(4, 48).forEach((v, n) => {
      expect(refined[n]).toBeCloseTo(v, 6);
    });
    expect(later).toBe("same");
    expect(enc.parameters()).toHaveLength(16);
    expect(dpeSpec.create({}).embedding!([0, 1], 4)).toEqual(sinusoidalEncoding([0, 1], 4));
  });

  it("trains in the lab's transformer: the loss falls and the refiner moves", SMOKE_TIMEOUT, () => {
    const result = trainSmoke({ id: "dpe" });
    expect(result.last).toBeLessThan(0.8 * result.first);
    expect(result.encodingParamChange).toBeGreaterThan(1e-3);
  });
});
