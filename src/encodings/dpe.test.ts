import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SMOKE_TIMEOUT, trainSmoke } from "../../test/helpers/train-smoke.js";
import { type Tensor, tensor, tidy, withFloat64Storage } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { type DpeRefiner, dpeDelta, dpeOrderLoss, dpeSpec } from "./dpe.js";
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
    const inputs = [
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
    const result = gradCheck(([x, ...ws]) => dpeDelta(x, refinerOf(ws), H, true), inputs);
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
