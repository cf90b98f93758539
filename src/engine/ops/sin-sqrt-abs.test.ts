/** SPDER's activation sin(x) sqrt(|x|) as an engine op: values, float64 gradients, and the limit at 0. */
import { describe, expect, it } from "vitest";
import { withFloat64Storage } from "../storage.js";
import { tensor } from "../tensor.js";
import { gradCheck, randomInput } from "../testing/gradcheck.js";
import { sinSqrtAbs } from "./elementwise.js";

describe("sinSqrtAbs", () => {
  it("is sin(x) sqrt(|x|)", () => {
    const xs = [-3, -0.5, 0, 0.25, 2, 30];
    const y = withFloat64Storage(() => sinSqrtAbs(tensor(xs)).toArray());
    xs.forEach((x, i) => {
      expect(y[i]).toBeCloseTo(Math.sin(x) * Math.sqrt(Math.abs(x)), 14);
    });
  });

  it("has float64 finite-difference gradients (away from 0)", () => {
    const away = (v: number) => (Math.abs(v) < 0.05 ? v + 0.2 : 3 * v);
    const r = gradCheck(([x]) => sinSqrtAbs(x), [randomInput([4, 5], 11, away)]);
    expect(r.worstRatio, r.worst).toBeLessThanOrEqual(1);
  });

  it("has derivative 0 at x = 0 (the limit of cos(x) sqrt|x| + sin(x) sign(x) / (2 sqrt|x|)), never NaN", () => {
    const grad = withFloat64Storage(() => {
      const x = tensor([0, 1e-12], [2], true);
      sinSqrtAbs(x).backward(new Float64Array([1, 1]) as unknown as Float32Array);
      return Array.from(x.grad ?? []);
    });
    expect(grad[0]).toBe(0);
    expect(grad[1]).toBeCloseTo(1.5e-6, 7); // ~ (3/2) sqrt(x) near 0
  });
});
