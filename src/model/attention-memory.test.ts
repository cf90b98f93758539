import { describe, expect, it } from "vitest";
import { memoryStats, noGrad, tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { createTransformer } from "./transformer.js";

// Its own file: the engine heap's high-water mark is per process, and other tests' freed blocks would blur it.
describe("evaluation memory (attention-by-head.ts)", () => {
  it("a forward pass at T = 2048 grows the engine heap by less than one T x T matrix (fused: 4 heads' worth)", () => {
    const T = 2048;
    const model = createTransformer(
      { vocabSize: 11, dModel: 16, numHeads: 4, numLayers: 2, maxSeqLen: T, encoding: { id: "rope" } },
      new Rng(4),
    );
    const inputs = Int32Array.from({ length: T }, (_, i) => i % 11);
    const before = memoryStats().heapBytes;
    tidy(() =>
      noGrad(() => model.forward({ inputs, batchSize: 1, seqLen: T, training: false, rng: new Rng(2) })),
    );
    // The fused op fills H*T*T*4 = 64 MiB of scores per layer; here blocks of 512 query rows, 4 MiB.
    expect(memoryStats().heapBytes - before).toBeLessThan(T * T * 4);
  });
});
