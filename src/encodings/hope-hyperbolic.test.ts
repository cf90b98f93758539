import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SMOKE_TIMEOUT, trainSmoke } from "../../test/helpers/train-smoke.js";
import { tensor, tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { hopeFactors, hopeHyperbolicSpec } from "./hope-hyperbolic.js";
import { ropeInverseFrequencies } from "./rope.js";

const ref = JSON.parse(
  readFileSync(new URL("../../test/fixtures/hope-hyperbolic-hothp.json", import.meta.url), "utf8"),
) as Record<"q" | "k" | "qBoosted" | "kBoosted" | "scores", number[]> & {
  numHeads: number;
  seqLen: number;
  headDim: number;
  decay: number;
};
const { numHeads: H, seqLen: T, headDim: D } = ref;
const positions = Array.from({ length: T }, (_, t) => t);
/** [1, H, T, D] to transformQK's [T, H, D]. */
const tokenMajor = (x: ArrayLike<number>) =>
  Float32Array.from(
    { length: H * T * D },
    (_, n) => x[((Math.floor(n / D) % H) * T + Math.floor(n / (H * D))) * D + (n % D)],
  );

describe("hope-hyperbolic", () => {
  it("matches the per-token boosts and penalties of the HoTHP transcription (queries and keys)", () => {
    const enc = hopeHyperbolicSpec.create({ headDim: D, decay: ref.decay, centerRows: false });
    const q = tokenMajor(ref.q);
    const k = tokenMajor(ref.k);
    enc.transformQK!(q, positions, H, D, "query");
    enc.transformQK!(k, positions, H, D, "key");
    const qWant = tokenMajor(ref.qBoosted);
    const kWant = tokenMajor(ref.kBoosted);
    q.forEach((v, n) => {
      expect(v).toBeCloseTo(qWant[n], 4);
    });
    k.forEach((v, n) => {
      expect(v / kWant[n]).toBeCloseTo(1, 5); // key factors reach e^(5 * 2.3): compare relatively
    });
  });

  it("is relative: the score depends on m - n only, so any shared centre gives the same scores", () => {
    const theta = ropeInverseFrequencies(4);
    const score = (m: number, n: number, center: number) => {
      const fq = hopeFactors(theta, [m], "query", { decay: 1.2, center });
      const fk = hopeFactors(theta, [n], "key", { decay: 1.2, center });
      const q = [0.3, -1, 0.5, 2];
      const k = [1.2, 0.7, -0.3, 0.2];
      let s = 0;
      for (let j = 0; j < 2; j++) {
        const qe = fq.a[j] * q[2 * j] + fq.b[j] * q[2 * j + 1];
        const qo = fq.b[j] * q[2 * j] + fq.a[j] * q[2 * j + 1];
        const ke = fk.a[j] * k[2 * j] + fk.b[j] * k[2 * j + 1];
        const ko = fk.b[j] * k[2 * j] + fk.a[j] * k[2 * j + 1];
        s += qe * ke + qo * ko;
      }
      return s;
    };
    expect(score(9, 4, 0)).toBeCloseTo(score(5, 0, 0), 10);
    expect(score(9, 4, 0)).toBeCloseTo(score(9, 4, 6.5), 10);
    // q^T B(delta theta) k e^(-delta theta'), delta = 5, per pair.
    const delta = 5;
    const expected = [0, 1].reduce((s, j) => {
      const c = Math.cosh(delta * theta[j]);
      const h = Math.sinh(delta * theta[j]);
      const q = [0.3, -1, 0.5, 2];
      const k = [1.2, 0.7, -0.3, 0.2];
      return (
        s +
        (q[2 * j] * (c * k[2 * j] + h * k[2 * j + 1]) + q[2 * j + 1] * (h * k[2 * j] + c * k[2 * j + 1])) *
          Math.exp(-delta * 1.2)
      );
    }, 0);
    expect(score(9, 4, 0)).toBeCloseTo(expected, 10);
  });

  it("decays monotonically with distance when decay > max theta = 1 (for q = k = (1, 0) per pair)", () => {
    const theta = ropeInverseFrequencies(8);
    let previous = Infinity;
    for (let delta = 0; delta <= 40; delta += 4) {
      const fq = hopeFactors(theta, [delta], "query", { decay: 1.05 });
      const fk = hopeFactors(theta, [0], "key", { decay: 1.05 });
      const s = Array.from(theta, (_, j) => fq.a[j] * fk.a[j] + fq.b[j] * fk.b[j]).reduce((x, y) => x + y, 0);
      expect(s).toBeLessThan(previous);
      previous = s;
    }
  });

  it("the trainable form (rows centred) gives the same scores as the framework-free one; far rows throw", () => {
    const dims = { dModel: H * D, numHeads: H, headDim: D, numLayers: 1, maxSeqLen: 16, causal: true };
    const enc = hopeHyperbolicSpec.trainable!(
      { headDim: D, base: 10000, decay: ref.decay, centerRows: true, center: 0 },
      dims,
      new Rng(1),
    );
    const scores = tidy(() => {
      const { q, k } = enc.transformQK!(
        tensor(ref.q, [1, H, T, D]),
        tensor(ref.k, [1, H, T, D]),
        Float64Array.from(positions),
        0,
      );
      const qa = q.toArray();
      const ka = k.toArray();
      const out: number[] = [];
      for (let h = 0; h < H; h++)
        for (let i = 0; i < T; i++)
          for (let j = 0; j < T; j++) {
            let s = 0;
            for (let c = 0; c < D; c++) s += qa[(h * T + i) * D + c] * ka[(h * T + j) * D + c];
            out.push(s);
          }
      return out;
    });
    scores.forEach((v, n) => {
      expect(Math.abs(v - ref.scores[n]) / Math.max(1, Math.abs(ref.scores[n]))).toBeLessThan(1e-5);
    });
    expect(() => hopeFactors(ropeInverseFrequencies(4), [0, 100], "key", { decay: 1.05 })).toThrow(
      /position 100.*float32/,
    );
  });

  it("trains in the lab's transformer: the loss falls", SMOKE_TIMEOUT, () => {
    const result = trainSmoke({ id: "hope-hyperbolic" });
    expect(result.last).toBeLessThan(0.8 * result.first);
  });
});
