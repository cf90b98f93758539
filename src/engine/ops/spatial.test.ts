import { describe, expect, it } from "vitest";
import { tensor } from "../tensor.js";
import { gradCheck, randomInput } from "../testing/gradcheck.js";
import { depthwiseConv2d, matrixExp } from "./spatial.js";

describe("depthwiseConv2d", () => {
  it("sums each 3 x 3 neighbourhood with zero padding (all-ones kernel on 1..9)", () => {
    const x = tensor(
      Float32Array.from({ length: 9 }, (_, i) => i + 1),
      [1, 3, 3, 1],
    );
    const w = tensor(new Float32Array(9).fill(1), [3, 3, 1]);
    // Corners see 4 cells, edges 6, the centre all 9 (PyTorch Conv2d(1, 1, 3, padding=1) with unit weights).
    expect(depthwiseConv2d(x, w).toArray()).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  it("keeps channels apart and adds the bias; a single tap shifts the grid", () => {
    // Channel 0: the tap at (u, v) = (0, 1) reads the row above: out[i, j] = x[i - 1, j]. Channel 1: centre tap x 2.
    const w = new Float32Array(18);
    w[(0 * 3 + 1) * 2 + 0] = 1;
    w[(1 * 3 + 1) * 2 + 1] = 2;
    const x = tensor(
      Float32Array.from({ length: 12 }, (_, i) => i),
      [1, 2, 3, 2],
    );
    const out = depthwiseConv2d(x, tensor(w, [3, 3, 2]), tensor([10, 20], [2])).toArray();
    const ch0 = out.filter((_, i) => i % 2 === 0);
    const ch1 = out.filter((_, i) => i % 2 === 1);
    expect(ch0).toEqual([10, 10, 10, 10, 12, 14]); // row 0 reads the zero padding
    expect(ch1).toEqual([1, 3, 5, 7, 9, 11].map((v) => 20 + 2 * v));
  });

  it("has exact gradients for x, weight and bias (float64 finite differences), 1 x 1 and 3 x 5 kernels", () => {
    for (const [kh, kw] of [
      [3, 3],
      [3, 5],
      [1, 1],
    ] as const) {
      const result = gradCheck(
        ([x, w, b]) => depthwiseConv2d(x!, w!, b),
        [randomInput([2, 3, 4, 3], 1), randomInput([kh, kw, 3], 2), randomInput([3], 3)],
      );
      expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
    }
  });

  it("rejects an even kernel or a channel mismatch", () => {
    const x = tensor(new Float32Array(8), [1, 2, 2, 2]);
    expect(() => depthwiseConv2d(x, tensor(new Float32Array(8), [2, 2, 2]))).toThrow(/odd KH, KW/);
    expect(() => depthwiseConv2d(x, tensor(new Float32Array(9), [3, 3, 1]))).toThrow(/C = 2/);
  });
});

describe("matrixExp", () => {
  it("exp of a 2 x 2 skew-symmetric matrix is the rotation by its angle, at large angles too", () => {
    for (const t of [0, 0.3, -2, 40]) {
      const out = matrixExp(tensor([0, -t, t, 0], [2, 2])).toArray();
      expect(out[0]).toBeCloseTo(Math.cos(t), 5);
      expect(out[1]).toBeCloseTo(-Math.sin(t), 5);
      expect(out[2]).toBeCloseTo(Math.sin(t), 5);
      expect(out[3]).toBeCloseTo(Math.cos(t), 5);
    }
  });

  it("matches Rodrigues' formula for a 3 x 3 skew matrix and the closed form of a nilpotent one", () => {
    // K = [k]_x for the unit axis k, angle th: exp(th K) = I + sin th K + (1 - cos th) K^2.
    const k = [2 / 3, -1 / 3, 2 / 3];
    const th = 1.7;
    const K = [0, -k[2]!, k[1]!, k[2]!, 0, -k[0]!, -k[1]!, k[0]!, 0];
    const K2 = Array.from({ length: 9 }, (_, n) => {
      const i = Math.floor(n / 3);
      const j = n % 3;
      return K[i * 3]! * K[j]! + K[i * 3 + 1]! * K[3 + j]! + K[i * 3 + 2]! * K[6 + j]!;
    });
    const expected = K.map((v, n) => (n % 4 === 0 ? 1 : 0) + Math.sin(th) * v + (1 - Math.cos(th)) * K2[n]!);
    const got = matrixExp(
      tensor(
        K.map((v) => th * v),
        [1, 3, 3],
      ),
    ).toArray();
    got.forEach((v, n) => {
      expect(v).toBeCloseTo(expected[n]!, 5);
    });
    // [[0, a], [0, 0]] is nilpotent: exp = [[1, a], [0, 1]].
    expect(matrixExp(tensor([0, 5, 0, 0], [2, 2])).toArray()).toEqual([1, 5, 0, 1]);
  });

  it("has exact gradients (general and skew inputs, with and without squaring)", () => {
    for (const [shape, scale] of [
      [[3, 2, 2], 0.2],
      [[2, 4, 4], 1.5],
      [[1, 3, 3], 4],
    ] as const) {
      const result = gradCheck(([x]) => matrixExp(x!), [randomInput([...shape], 7, (v) => v * scale)]);
      expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
    }
  });

  it("rejects non-square input", () => {
    expect(() => matrixExp(tensor(new Float32Array(6), [2, 3]))).toThrow(/square matrices/);
  });
});
