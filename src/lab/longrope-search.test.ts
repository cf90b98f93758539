import { describe, expect, it } from "vitest";
import { longropeSearch, monotoneFactors, seedFactors } from "./longrope-search.js";

describe("LongRoPE evolutionary search", () => {
  it("keeps factors non-decreasing, in [1, 2s], on a 0.01 grid", () => {
    expect(monotoneFactors([0.5, 3.333, 2, 9, 4.005], 4)).toEqual([1, 3.33, 3.33, 8, 8]);
    const [pi, ntk, ramp] = seedFactors(5, 4);
    expect(pi!.longFactor).toEqual([4, 4, 4, 4, 4]);
    expect(ntk!.longFactor).toEqual([1, 1.41, 2, 2.83, 4]);
    expect(ramp!.longFactor).toEqual([1, 1, 2.5, 4, 4]);
  });

  it("finds a better vector than its seeds within the budget, the same one for the same seed", () => {
    // A known optimum: the loss is the squared distance to a monotone target vector.
    const optimum = [1, 1.5, 2.5, 3, 3.5, 3.5, 4, 4];
    let calls = 0;
    const score = (v: number[]) => {
      calls++;
      return v.reduce((s, x, i) => s + (x - optimum[i]!) ** 2, 0);
    };
    const result = longropeSearch({ pairs: 8, factor: 4, evaluations: 100, seed: 3, score });
    expect(calls).toBe(100);
    expect(result.evaluations).toBe(100);
    expect(result.bestScore).toBeLessThan(Math.min(...result.seeds.map((s) => s.score)));
    expect(result.bestScore).toBeCloseTo(score(result.longFactor), 12);
    for (let i = 1; i < 8; i++)
      expect(result.longFactor[i]).toBeGreaterThanOrEqual(result.longFactor[i - 1]!);
    expect(result.shortFactor).toEqual(new Array(8).fill(1));
    const again = longropeSearch({ pairs: 8, factor: 4, evaluations: 100, seed: 3, score });
    expect(again.longFactor).toEqual(result.longFactor);
  });
});
