/**
 * The Fourier-type and shifted-basis coordinate encodings: values against their papers' formulas (plain math here,
 * independent of the engine), float64 finite-difference gradients (learnable frequencies included), and the
 * stable-rank / distance-preservation helpers on matrices with known answers.
 */
import { describe, expect, it } from "vitest";
import { noGrad, type Tensor, tensor, withFloat64Storage } from "../../engine/index.js";
import { gradCheck, randomInput } from "../../engine/testing/gradcheck.js";
import { Rng } from "../../util/rng.js";
import { PosencConfigError } from "../../util/validation.js";
import { innerProductByDistance, stableRank } from "./embedding-analysis.js";
import { frequencySpec } from "./frequency.js";
import { learnableFourierFeatures, learnableFourierSpec } from "./learnable-fourier.js";
import { bandSigmas, progressiveBandsSpec } from "./progressive-bands.js";
import { gaussianFrequencies, randomFourierSpec } from "./random-fourier.js";
import { coordinateEncodingRegistry, getCoordinateEncoding } from "./registry.js";
import { maxEmbeddingNorm, SHIFTED_BASES, shiftedBasisSpec, shiftedEmbedding1D } from "./shifted-basis.js";
import type { CoordinateEncoder } from "./types.js";

const POINTS = [0.25, -0.5, -1, 0.9, 0.1, 0.3]; // three 2-D points

function encode64(encoder: (x: Tensor) => Tensor, points: number[], d: number): number[][] {
  return withFloat64Storage(() =>
    noGrad(() => {
      const out = encoder(tensor(points, [points.length / d, d]));
      const cols = out.shape[1];
      return Array.from({ length: out.shape[0] }, (_, r) =>
        Array.from(out.data.subarray(r * cols, (r + 1) * cols)),
      );
    }),
  );
}

function expectGrad(r: { worstRatio: number; worst: string }): void {
  expect(r.worstRatio, r.worst).toBeLessThanOrEqual(1);
}

describe("NeRF frequency encoding", () => {
  it("is [p, sin(2^k pi p_j) (k major), cos(2^k pi p_j)]", () => {
    const enc = frequencySpec.create(2, new Rng(0), { levels: 3 });
    expect(enc.outputDim).toBe(2 + 12);
    const rows = encode64((x) => enc.encode(x), POINTS, 2);
    rows.forEach((row, r) => {
      const p = POINTS.slice(2 * r, 2 * r + 2);
      const expected = [...p];
      for (let k = 0; k < 3; k++) for (const v of p) expected.push(Math.sin(2 ** k * Math.PI * v));
      for (let k = 0; k < 3; k++) for (const v of p) expected.push(Math.cos(2 ** k * Math.PI * v));
      row.forEach((v, i) => {
        expect(v).toBeCloseTo(expected[i], 12);
      });
    });
  });

  it("has float64 gradients with respect to the points (3-D)", () => {
    const enc = frequencySpec.create(3, new Rng(0), { levels: 4 });
    expectGrad(gradCheck(([x]) => enc.encode(x), [randomInput([5, 3], 1, (v) => Math.tanh(v))]));
  });
});

describe("Gaussian random Fourier features", () => {
  it("is [sin(2 pi v B^T), cos(2 pi v B^T)] with v = (x + 1)/2 and B drawn N(0, sigma^2) from the seed", () => {
    const enc = randomFourierSpec.create(2, new Rng(7), { features: 5, sigma: 3 });
    const bT = gaussianFrequencies(new Rng(7), 2, 5, 3); // [d, m]
    const rows = encode64((x) => enc.encode(x), POINTS, 2);
    rows.forEach((row, r) => {
      const v = POINTS.slice(2 * r, 2 * r + 2).map((p) => (p + 1) / 2);
      for (let k = 0; k < 5; k++) {
        const z = 2 * Math.PI * (v[0] * bT[k] + v[1] * bT[5 + k]);
        expect(row[k]).toBeCloseTo(Math.sin(z), 10);
        expect(row[5 + k]).toBeCloseTo(Math.cos(z), 10);
      }
    });
  });

  it("draws B with standard deviation sigma", () => {
    const bT = gaussianFrequencies(new Rng(1), 2, 4000, 10);
    const std = Math.sqrt(bT.reduce((s, b) => s + b * b, 0) / bT.length);
    expect(std).toBeGreaterThan(9.7);
    expect(std).toBeLessThan(10.3);
  });

  it("has float64 gradients with respect to the points", () => {
    const enc = randomFourierSpec.create(2, new Rng(3), { features: 6, sigma: 2 });
    expectGrad(gradCheck(([x]) => enc.encode(x), [randomInput([4, 2], 2, (v) => Math.tanh(v))]));
  });
});

describe("learnable Fourier features", () => {
  it("is 1/sqrt(F) [cos(v W^T), sin(v W^T)] (cosines first), so every feature vector has squared norm 1/2", () => {
    const w = [0.5, -1, 2, 3, 0.25, -2]; // [d = 2, F/2 = 3]
    const rows = encode64((x) => learnableFourierFeatures(x, tensor(w, [2, 3])), POINTS, 2);
    rows.forEach((row, r) => {
      const v = POINTS.slice(2 * r, 2 * r + 2).map((p) => (p + 1) / 2);
      for (let k = 0; k < 3; k++) {
        const z = v[0] * w[k] + v[1] * w[3 + k];
        expect(row[k]).toBeCloseTo(Math.cos(z) / Math.sqrt(6), 12);
        expect(row[3 + k]).toBeCloseTo(Math.sin(z) / Math.sqrt(6), 12);
      }
      expect(row.reduce((s, x) => s + x * x, 0)).toBeCloseTo(0.5, 12);
    });
  });

  it("initialises W with standard deviation 1/gamma and trains it (float64 gradients for W and the points)", () => {
    const enc = learnableFourierSpec.create(2, new Rng(5), { features: 2000, gamma: 0.5 });
    const w = enc.parameters[0];
    const std = Math.sqrt(w.toArray().reduce((s, b) => s + b * b, 0) / w.size);
    expect(std).toBeGreaterThan(1.94);
    expect(std).toBeLessThan(2.06);
    expectGrad(
      gradCheck(
        ([x, wr]) => learnableFourierFeatures(x, wr),
        [randomInput([4, 2], 3, Math.tanh), randomInput([2, 5], 4)],
      ),
    );
  });
});

describe("shifted-basis encodings", () => {
  for (const basis of SHIFTED_BASES) {
    it(`${basis}: psi_k(v) = phi((v - k/(D-1)) / sigma) per coordinate, over the largest norm on the domain`, () => {
      const D = 9;
      const sigma = 0.2;
      const enc = shiftedBasisSpec.create(2, new Rng(0), { basis, count: D, sigma });
      const norm = Math.SQRT2 * maxEmbeddingNorm(basis, D, sigma);
      const rows = encode64((x) => enc.encode(x), POINTS, 2);
      rows.forEach((row, r) => {
        const expected = POINTS.slice(2 * r, 2 * r + 2).flatMap((p) =>
          shiftedEmbedding1D(basis, (p + 1) / 2, D, sigma).map((e) => e / norm),
        );
        row.forEach((v, i) => {
          expect(v).toBeCloseTo(expected[i], 12);
        });
        expect(Math.hypot(...row)).toBeLessThanOrEqual(1 + 1e-9);
      });
    });

    it(`${basis}: float64 gradients with respect to the points`, () => {
      const enc = shiftedBasisSpec.create(2, new Rng(0), { basis, count: 7, sigma: 0.3 });
      // Points off the kinks of |u| (laplacian, triangle): none of (v - t_k)/sigma is near 0 or +-1.
      const x = [-0.93, 0.41, 0.07, -0.29, 0.66, -0.52];
      expectGrad(gradCheck(([p]) => enc.encode(p), [{ shape: [3, 2], values: x }]));
    });
  }

  it("sinc at a shift itself (u = 0) is 1 with gradient 0, not NaN", () => {
    const enc = shiftedBasisSpec.create(2, new Rng(0), { basis: "sinc", count: 3, sigma: 0.5 });
    const r = gradCheck(([p]) => enc.encode(p), [{ shape: [1, 2], values: [-1, 0] }]); // v = 0 and 0.5: shifts
    expectGrad(r);
    const norm = Math.SQRT2 * maxEmbeddingNorm("sinc", 3, 0.5);
    expect(r.output[0] * norm).toBeCloseTo(1, 12);
  });

  it("rejects an unknown basis and an unknown option with one clear error", () => {
    expect(() => shiftedBasisSpec.create(2, new Rng(0), { basis: "square" })).toThrow(/shifted-basis.basis/);
    expect(() => shiftedBasisSpec.create(2, new Rng(0), { width: 1 })).toThrow(PosencConfigError);
  });
});

describe("stable rank and distance preservation", () => {
  it("stable rank is n for the n x n identity, 1 for a rank-one matrix, 10/9 for diag(3, 1)", () => {
    const eye = Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    expect(stableRank(eye, 4, 4)).toBeCloseTo(4, 8);
    const outer = [1, 2, 3].flatMap((a) => [2, -1].map((b) => a * b));
    expect(stableRank(outer, 3, 2)).toBeCloseTo(1, 8);
    expect(stableRank([3, 0, 0, 1], 2, 2)).toBeCloseTo(10 / 9, 8);
  });

  it("a dense Gaussian shifted basis has inner products exp(-delta^2 / (4 sigma^2)) (two Gaussians convolved)", () => {
    const D = 400;
    const sigma = 0.02;
    const n = 101; // v = 0.25 .. 0.75 in steps of 0.005: away from the ends, where shifts are missing
    const rows = Array.from({ length: n }, (_, i) =>
      shiftedEmbedding1D("gaussian", 0.25 + i * 0.005, D, sigma),
    );
    const curve = innerProductByDistance(rows.flat(), n, D, 10);
    curve.forEach((c, k) => {
      expect(c).toBeCloseTo(Math.exp(-((k * 0.005) ** 2) / (4 * sigma * sigma)), 3);
    });
    // The stable rank falls as the basis widens (the paper's trade-off axis).
    const srank = (s: number) =>
      stableRank(
        Array.from({ length: n }, (_, i) => shiftedEmbedding1D("gaussian", i / (n - 1), 64, s)).flat(),
        n,
        64,
      );
    expect(srank(0.005)).toBeGreaterThan(srank(0.02));
    expect(srank(0.02)).toBeGreaterThan(srank(0.1));
  });
});

describe("PINs progressive bands", () => {
  it("sigma_l is geometric from sigma_min to sigma_max and the bands concatenate to encode(x)", () => {
    expect(bandSigmas(4, 1, 27)).toEqual([1, 3, 9, 27].map((v) => expect.closeTo(v, 10)));
    const enc = progressiveBandsSpec.create(2, new Rng(2), { levels: 3, features: 4 });
    const whole = encode64((x) => enc.encode(x), POINTS, 2);
    const parts = encode64((x) => (enc.encodeLevels as (x: Tensor) => Tensor[])(x)[2], POINTS, 2);
    whole.forEach((row, r) => {
      expect(row.slice(16, 24)).toEqual(parts[r]);
    });
  });
});

describe("coordinate registry", () => {
  it("lists every method once, and each builds with its defaults in 2-D and 3-D", () => {
    const ids = coordinateEncodingRegistry.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const spec of coordinateEncodingRegistry) {
      for (const d of [2, 3]) {
        const enc: CoordinateEncoder = spec.create(d, new Rng(1));
        const out = encode64((x) => enc.encode(x), d === 2 ? POINTS : POINTS.slice(0, 6), d);
        expect(out[0].length).toBe(enc.outputDim);
        expect(out.flat().every(Number.isFinite)).toBe(true);
      }
    }
    expect(() => getCoordinateEncoding("hash-grid")).toThrow(/one of identity, frequency/);
    expect(() => frequencySpec.create(4, new Rng(0))).toThrow(/2 or 3/);
  });
});
