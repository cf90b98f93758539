import { afterAll, describe, expect, it } from "vitest";
import { kernels, referenceKernels } from "./kernels/index.js";
import { memoryStats } from "./memory.js";
import { engineInfo, initEngine, initEngineSync, shutdownEngine } from "./setup.js";
import { type ReferenceModelConfig, trainReferenceModel } from "./testing/reference-model.js";
import { threadPoolSupported, wasmSimdSupported } from "./wasm/index.js";

const SMALL: ReferenceModelConfig = {
  layers: 2,
  dModel: 32,
  heads: 2,
  mlpRatio: 4,
  vocab: 32,
  seqLen: 16,
  batch: 8,
  rotaryBase: 10000,
};

afterAll(async () => {
  await shutdownEngine();
  initEngineSync({ kernels: "reference" });
});

describe("engine selection", () => {
  it("selects the references on request and WASM SIMD by default, with gelu from the WASM table", () => {
    expect(wasmSimdSupported()).toBe(true); // Node 20 has SIMD128; the "auto" branch below relies on it
    expect(initEngineSync({ kernels: "reference" })).toMatchObject({ kernels: "reference", threads: 1 });
    expect(kernels().matmul).toBe(referenceKernels.matmul);
    expect(kernels().unary.gelu).toBe(referenceKernels.unary.gelu);

    expect(initEngineSync({ threads: 1 })).toMatchObject({ kernels: "wasm", threads: 1, pool: null });
    const k = kernels();
    expect(k.matmul).not.toBe(referenceKernels.matmul);
    expect(k.attentionForward).not.toBe(referenceKernels.attentionForward);
    expect(k.unary.gelu).not.toBe(referenceKernels.unary.gelu); // the bug this guards: gelu dropped from the table
    expect(k.unary.exp).toBe(referenceKernels.unary.exp); // unary functions without a WASM kernel stay references
    expect(engineInfo().kernels).toBe("wasm");
  });

  it("rejects invalid options, naming the option and the value", () => {
    expect(() => initEngineSync({ threads: 0 })).toThrow(
      'initEngineSync: threads must be "auto" or an integer >= 1, got 0',
    );
    expect(() => initEngineSync({ kernels: "gpu" as never })).toThrow(
      'initEngineSync: kernels must be "auto", "reference" or "wasm", got gpu',
    );
  });

  it("starts a two-thread pool asynchronously, and the sync variant reuses it", {
    timeout: 30_000,
  }, async () => {
    const info = await initEngine({ threads: 2 });
    expect(info.kernels).toBe("wasm");
    expect(info.threads).toBe(threadPoolSupported() ? 2 : 1);
    if (threadPoolSupported()) expect(initEngineSync().pool).toBe(info.pool);
    expect(initEngineSync({ threads: 1 }).pool).toBeNull();
    await shutdownEngine();
    expect(engineInfo()).toMatchObject({ kernels: "wasm", threads: 1, pool: null });
  });
});

describe("training on the WASM kernels", () => {
  it("tracks the references, lowers the loss, repeats bit for bit on one thread, and keeps the heap flat", {
    timeout: 60_000,
  }, () => {
    initEngineSync({ kernels: "reference" });
    const reference = trainReferenceModel(SMALL, { steps: 5, seed: 11, lr: 3e-3 });
    reference.model.dispose();
    reference.optimizer.dispose();

    initEngineSync({ threads: 1 });
    const heapAt: number[] = [];
    const first = trainReferenceModel(SMALL, {
      steps: 300,
      seed: 11,
      lr: 3e-3,
      onStep: () => heapAt.push(memoryStats().heapBytes),
    });
    // Same model and data: the first losses agree to float32 rounding (kernels sum in different orders).
    for (let i = 0; i < 5; i++) expect(Math.abs(first.losses[i] - reference.losses[i])).toBeLessThan(2e-3);
    const head = first.losses.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    const tail = first.losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
    expect(tail).toBeLessThan(0.5 * head);
    // The allocator reuses every block after the first steps: the heap's high-water mark stops at step 10.
    expect(heapAt[heapAt.length - 1]).toBe(heapAt[9]);
    first.model.dispose();
    first.optimizer.dispose();

    const second = trainReferenceModel(SMALL, { steps: 300, seed: 11, lr: 3e-3 });
    expect(second.losses).toEqual(first.losses);
    second.model.dispose();
    second.optimizer.dispose();
  });
});
