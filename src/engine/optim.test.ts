import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { kaimingNormal, normalParameter, xavierUniform } from "./init.js";
import { Adam, AdamW, clipGradNorm, learningRateAt, Sgd } from "./optim.js";
import { inputGrad, parameter } from "./tensor.js";

function withGrad(values: number[], grad: number[]) {
  const p = parameter(values, [values.length]);
  inputGrad(p).set(grad);
  return p;
}

describe("optimizers", () => {
  it("Adam's first step moves each weight by lr * sign(grad) (bias correction makes m/sqrt(v) = g/|g|)", () => {
    const p = withGrad([1, -2, 3], [0.5, -4, 1e-3]);
    const adam = new Adam([p], { lr: 0.1, eps: 0 });
    adam.step();
    expect(p.data[0]).toBeCloseTo(0.9, 6);
    expect(p.data[1]).toBeCloseTo(-1.9, 6);
    expect(p.data[2]).toBeCloseTo(2.9, 6);
    adam.dispose();
  });

  it("Adam's second step follows the formula", () => {
    const p = withGrad([0], [1]);
    const adam = new Adam([p], { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    adam.step();
    p.grad![0] = 3;
    adam.step();
    const m = 0.9 * 0.1 + 0.1 * 3;
    const v = 0.999 * 0.001 + 0.001 * 9;
    const update = m / (1 - 0.81) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
    expect(p.data[0]).toBeCloseTo(-0.01 - 0.01 * update, 6);
  });

  it("AdamW decays weights without touching the gradient: a zero gradient still shrinks p by lr * wd * p", () => {
    const p = withGrad([2], [0]);
    const adamw = new AdamW([p], { lr: 0.1, weightDecay: 0.5 });
    adamw.step();
    expect(p.data[0]).toBeCloseTo(2 - 0.1 * 0.5 * 2, 6);
  });

  it("SGD with momentum: buf = mu buf + g; p -= lr buf", () => {
    const p = withGrad([1], [2]);
    const sgd = new Sgd([p], { lr: 0.1, momentum: 0.9 });
    sgd.step();
    expect(p.data[0]).toBeCloseTo(0.8, 6);
    sgd.step();
    expect(p.data[0]).toBeCloseTo(0.8 - 0.1 * (0.9 * 2 + 2), 6);
    sgd.zeroGrad();
    expect(p.grad![0]).toBe(0);
  });

  it("rejects invalid hyperparameters with the key and the value", () => {
    expect(() => new Adam([], { lr: -1 })).toThrow(
      "Invalid adam.lr: expected a finite number >= 0, received -1",
    );
    expect(() => new AdamW([], { lr: 1, beta2: 1 })).toThrow(/adamw\.beta2/);
  });
});

describe("clipGradNorm", () => {
  it("returns the global norm and scales to maxNorm when above it", () => {
    const a = withGrad([0, 0], [3, 0]);
    const b = withGrad([0], [4]);
    expect(clipGradNorm([a, b], 1)).toBeCloseTo(5, 6);
    expect(a.grad![0]).toBeCloseTo(0.6, 5);
    expect(b.grad![0]).toBeCloseTo(0.8, 5);
    expect(clipGradNorm([a, b], 10)).toBeCloseTo(1, 5); // below the limit: untouched
    expect(a.grad![0]).toBeCloseTo(0.6, 5);
  });
});

describe("learningRateAt", () => {
  const config = { maxLr: 1e-3, minLr: 1e-4, warmupSteps: 10, decaySteps: 110 };
  it("warms up linearly, decays along a cosine, then holds minLr", () => {
    expect(learningRateAt(0, config)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(9, config)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(10, config)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(60, config)).toBeCloseTo(5.5e-4, 12); // halfway: (max + min) / 2
    expect(learningRateAt(110, config)).toBe(1e-4);
    expect(learningRateAt(5000, config)).toBe(1e-4);
  });
});

describe("initializers", () => {
  it("are deterministic for a seed and have the intended spread", () => {
    const a = normalParameter(new Rng(1), [1000], 0.02);
    const b = normalParameter(new Rng(1), [1000], 0.02);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const std = Math.sqrt(a.data.reduce((s, v) => s + v * v, 0) / a.size);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    const x = xavierUniform(new Rng(2), [30, 70]);
    const bound = Math.sqrt(6 / 100);
    expect(Math.max(...x.data.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...x.data.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    const k = kaimingNormal(new Rng(3), [200, 50]);
    const kstd = Math.sqrt(k.data.reduce((s, v) => s + v * v, 0) / k.size);
    expect(kstd).toBeCloseTo(Math.sqrt(2 / 200), 2);
    for (const t of [a, b, x, k]) t.dispose();
  });
});
