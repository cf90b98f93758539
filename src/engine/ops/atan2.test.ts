/** atan2(y, x) as an engine op (ComplexFormer's phases): values in every quadrant, float64 gradients, the origin. */
import { describe, expect, it } from "vitest";
import { withFloat64Storage } from "../storage.js";
import { tensor } from "../tensor.js";
import { gradCheck, randomInput } from "../testing/gradcheck.js";
import { atan2 } from "./elementwise.js";

describe("atan2", () => {
  it("is the angle of (x, y) in (-pi, pi], every quadrant and both axes", () => {
    const ys = [1, 1, -1, -1, 0, 0, 2, -0.5];
    const xs = [1, -1, -1, 1, -1, 3, 0, 0];
    const out = withFloat64Storage(() => atan2(tensor(ys), tensor(xs)).toArray());
    ys.forEach((y, i) => {
      expect(out[i]).toBe(Math.atan2(y, xs[i]));
    });
    expect(out[4]).toBe(Math.PI);
  });

  it("has float64 finite-difference gradients for both inputs (away from the negative x axis and the origin)", () => {
    const r = gradCheck(
      ([y, x]) => atan2(y, x),
      [randomInput([3, 4], 1, (v) => v + 0.1), randomInput([3, 4], 2, (v) => Math.abs(v) + 0.2)],
    );
    expect(r.worstRatio, r.worst).toBeLessThanOrEqual(1);
  });

  it("passes no gradient at the origin and rejects mismatched shapes", () => {
    const grads = withFloat64Storage(() => {
      const y = tensor([0], [1], true);
      const x = tensor([0], [1], true);
      atan2(y, x).backward(new Float64Array([1]) as unknown as Float32Array);
      return [y.grad?.[0], x.grad?.[0]];
    });
    expect(grads).toEqual([0, 0]);
    expect(() => atan2(tensor([1, 2]), tensor([1]))).toThrow(
      /atan2: y \[2\] and x \[1\] must have one shape/,
    );
  });
});
