import { describe, expect, it } from "vitest";
import { noGrad, tensor, tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { abfSpec } from "./abf.js";
import { entropyAwareAbfSpec, entropyAwareQueryScale } from "./entropy-aware-abf.js";
import { getEncoding } from "./registry.js";

const DIMS = { dModel: 16, numHeads: 2, headDim: 8, numLayers: 3, maxSeqLen: 300, causal: true };

describe("entropy-aware ABF", () => {
  it("scales queries by max(1, ln(m+1)/ln L): the anchors for L = 64 and Llama 2's L = 4096", () => {
    expect(entropyAwareQueryScale(63, 64)).toBe(1);
    expect(entropyAwareQueryScale(64, 64)).toBeCloseTo(Math.log(65) / Math.log(64), 15);
    expect(entropyAwareQueryScale(64, 64)).toBeCloseTo(1.0037, 4);
    expect(entropyAwareQueryScale(100, 64)).toBeCloseTo(1.1097, 4);
    expect(entropyAwareQueryScale(255, 64)).toBeCloseTo(4 / 3, 12);
    expect(entropyAwareQueryScale(16383, 4096)).toBeCloseTo(Math.log(16384) / Math.log(4096), 12); // 7/6
    expect(getEncoding("eabf").id).toBe("entropy-aware-abf");
  });

  it("framework-free: ABF's rotation, then queries scaled, keys not", () => {
    const params = { headDim: 8, base: 5000, trainedContext: 4 };
    const eabf = entropyAwareAbfSpec.create(params);
    const abf = abfSpec.create({ headDim: 8, base: 5000 });
    const rng = new Rng(1);
    const positions = [0, 3, 4, 9];
    const x = Float32Array.from({ length: 4 * 2 * 8 }, () => rng.normal());
    for (const role of ["query", "key"] as const) {
      const a = x.slice();
      const b = x.slice();
      eabf.transformQK!(a, positions, 2, 8, role);
      abf.transformQK!(b, positions, 2, 8, role);
      positions.forEach((m, t) => {
        const scale = role === "query" ? Math.max(1, Math.log(m + 1) / Math.log(4)) : 1;
        for (let c = 0; c < 16; c++) expect(a[t * 16 + c]).toBeCloseTo(b[t * 16 + c]! * scale, 5);
      });
    }
  });

  it("trainable: layers below skipLayers are ABF; later layers scale the rotated queries per position", () => {
    const params = {
      headDim: 8,
      base: 5000,
      trainedContext: 4,
      skipLayers: 1,
      partialRotaryFactor: 1,
      layout: "half",
    };
    const eabf = entropyAwareAbfSpec.trainable!(params as never, DIMS, new Rng(0));
    const abf = abfSpec.trainable!(
      { headDim: 8, base: 5000, partialRotaryFactor: 1, layout: "half" } as never,
      DIMS,
      new Rng(0),
    );
    const rng = new Rng(2);
    const T = 6;
    const q = tensor(
      Array.from({ length: 2 * T * 8 }, () => rng.normal()),
      [1, 2, T, 8],
    );
    const k = tensor(
      Array.from({ length: 2 * T * 8 }, () => rng.normal()),
      [1, 2, T, 8],
    );
    const ids = Float64Array.from({ length: T }, (_, i) => i);
    tidy(() =>
      noGrad(() => {
        const base = abf.transformQK!(q, k, ids, 0);
        expect(eabf.transformQK!(q, k, ids, 0).q.toArray()).toEqual(base.q.toArray());
        const scaled = eabf.transformQK!(q, k, ids, 1);
        expect(scaled.k.toArray()).toEqual(base.k.toArray());
        const got = scaled.q.toArray();
        const want = base.q.toArray();
        for (let i = 0; i < got.length; i++) {
          const m = Math.floor(i / 8) % T;
          expect(got[i]).toBeCloseTo(want[i]! * Math.max(1, Math.log(m + 1) / Math.log(4)), 5);
        }
      }),
    );
  });
});
