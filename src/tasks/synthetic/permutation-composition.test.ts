import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { createTask } from "../registry.js";
import { scoreBatch } from "../score.js";
import { composeLeftToRight, isEven, permutationId, S5_ELEMENTS } from "./permutation-composition.js";

const id = (s: string) => permutationId(s.split("").map(Number));

describe("s5_composition", () => {
  it("has the 120 permutations of 01234 in lexicographic order", () => {
    expect(S5_ELEMENTS).toHaveLength(120);
    expect(S5_ELEMENTS[0]!.join("")).toBe("01234");
    expect(S5_ELEMENTS[1]!.join("")).toBe("01243");
    expect(S5_ELEMENTS[119]!.join("")).toBe("43210");
    expect(S5_ELEMENTS.filter(isEven)).toHaveLength(60);
  });

  it("composes left to right (hand-computed) and is a group action: associative, identity, inverses", () => {
    expect(S5_ELEMENTS[composeLeftToRight([id("10234"), id("01324")])]!.join("")).toBe("10324");
    // A 3-cycle applied three times is the identity; a transposition twice is the identity.
    expect(composeLeftToRight([id("12034"), id("12034"), id("12034")])).toBe(id("01234"));
    expect(composeLeftToRight([id("10234"), id("10234")])).toBe(id("01234"));
    // Non-commutative: the order matters.
    expect(composeLeftToRight([id("01324"), id("10234"), id("12034")])).not.toBe(
      composeLeftToRight([id("12034"), id("10234"), id("01324")]),
    );
    const rng = new Rng(4);
    for (let trial = 0; trial < 50; trial++) {
      const [a, b, c] = [rng.int(120), rng.int(120), rng.int(120)];
      expect(composeLeftToRight([composeLeftToRight([a, b]), c])).toBe(
        composeLeftToRight([a, composeLeftToRight([b, c])]),
      );
    }
  });

  it("is deterministic: the same seed gives the same batch, another seed another", () => {
    const task = createTask("s5_composition");
    const a = task.sample(new Rng(11), 8, { min: 1, max: 12 });
    const b = task.sample(new Rng(11), 8, { min: 1, max: 12 });
    const c = task.sample(new Rng(12), 8, { min: 1, max: 12 });
    expect(Array.from(a.inputs)).toEqual(Array.from(b.inputs));
    expect(Array.from(a.targets)).toEqual(Array.from(b.targets));
    expect(Array.from(a.inputs)).not.toEqual(Array.from(c.inputs));
  });

  it("draws uniformly from S5 (every element appears) and only even permutations for A5", () => {
    const rng = new Rng(5);
    const s5 = createTask("s5_composition");
    const seen = new Set<number>();
    for (let n = 0; n < 200; n++) for (const g of s5.sampleExample(rng, 10).input) seen.add(g);
    expect(seen.size).toBe(120);
    const a5 = createTask("s5_composition", { group: "A5" });
    for (let n = 0; n < 50; n++) {
      const { input, output } = a5.sampleExample(rng, 6);
      for (const g of [...input, ...output]) expect(isEven(S5_ELEMENTS[g]!)).toBe(true);
    }
    expect(() => createTask("s5_composition", { group: "S4" })).toThrow(/s5_composition\.group.*S5.*A5/);
  });

  it("scores exactly: only the right composition counts", () => {
    const task = createTask("s5_composition");
    const batch = task.sample(new Rng(6), 4, 5);
    const right = Int32Array.from(batch.targets);
    const score = scoreBatch(batch, right);
    expect(score.sequenceAccuracy).toBe(1);
    const wrong = Int32Array.from(right);
    for (let t = 0; t < batch.seqLen; t++) if (batch.mask[t] === 1) wrong[t] = (wrong[t]! + 1) % 120;
    expect(scoreBatch(batch, wrong).sequenceAccuracy).toBe(0.75); // the first row's answer changed
  });
});
