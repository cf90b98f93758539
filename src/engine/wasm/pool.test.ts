import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import type { MatmulShape } from "../kernels/types.js";
import { allocFloat32 } from "../memory.js";
import { createWasmKernels, startThreadPool, type ThreadPool, type WasmKernels } from "./index.js";

let pool: ThreadPool;
let single: WasmKernels;
let split: WasmKernels;

beforeAll(async () => {
  pool = await startThreadPool({ workers: 1, spinMicros: 50 });
  single = createWasmKernels();
  // Split every product, however small, so the tests exercise the pool on cheap shapes.
  split = createWasmKernels({ pool, splitMinFlops: 0 });
});

afterAll(async () => {
  await pool.close();
});

function randomArray(rng: Rng, length: number): Float32Array {
  const view = allocFloat32(length);
  for (let i = 0; i < length; i++) view[i] = rng.next() * 2 - 1;
  return view;
}

/** Runs the product on one thread and split; expects identical bits; returns whether the pool ran a job. */
function expectBitIdentical(s: MatmulShape, seed: number): boolean {
  const rng = new Rng(seed);
  const a = randomArray(rng, (s.batch - 1) * s.aBatchStride + s.m * s.k);
  const b = randomArray(rng, (s.batch - 1) * s.bBatchStride + s.k * s.n);
  const cLength = (s.batch - 1) * s.cBatchStride + s.m * s.n;
  const c1 = randomArray(rng, cLength);
  const c2 = allocFloat32(cLength);
  c2.set(c1);
  single.matmul(a, b, c1, s);
  const jobsBefore = pool.stats().jobs;
  split.matmul(a, b, c2, s);
  const usedPool = pool.stats().jobs > jobsBefore;
  // Compare bit patterns, not values: the split must reproduce the one-thread result exactly.
  expect(new Uint32Array(c2.buffer, c2.byteOffset, cLength)).toEqual(
    new Uint32Array(c1.buffer, c1.byteOffset, cLength),
  );
  return usedPool;
}

const base = { transA: false, transB: false, accumulate: false };

describe("WASM thread pool", () => {
  it("has two threads: the caller and one worker", () => {
    expect(pool.threads).toBe(2);
    expect(split.threads).toBe(2);
  });

  it("splits rows of one product bit-identically (m not a multiple of the tile, k across blocks)", () => {
    const one = { ...base, batch: 1, aBatchStride: 0, bBatchStride: 0, cBatchStride: 0 };
    expect(expectBitIdentical({ ...one, m: 137, n: 29, k: 300 }, 1)).toBe(true);
    expect(expectBitIdentical({ ...one, transA: true, transB: true, m: 150, n: 40, k: 33 }, 2)).toBe(true);
  });

  it("splits batches bit-identically, including broadcast operands and an odd batch count", () => {
    const s1 = {
      ...base,
      batch: 6,
      m: 12,
      n: 16,
      k: 8,
      aBatchStride: 96,
      bBatchStride: 0,
      cBatchStride: 192,
    };
    expect(expectBitIdentical(s1, 3)).toBe(true);
    const s2 = { ...base, batch: 5, m: 9, n: 7, k: 5, aBatchStride: 0, bBatchStride: 35, cBatchStride: 63 };
    expect(expectBitIdentical(s2, 4)).toBe(true);
  });

  it("sums into a shared output (cBatchStride 0) bit-identically, splitting by rows", () => {
    const s = {
      ...base,
      accumulate: true,
      batch: 4,
      m: 133,
      n: 11,
      k: 6,
      aBatchStride: 798,
      bBatchStride: 66,
    };
    expect(expectBitIdentical({ ...s, cBatchStride: 0 }, 5)).toBe(true);
  });

  it("runs a product too small to chunk on the caller alone, and still computes it", () => {
    const s = { ...base, batch: 1, m: 60, n: 5, k: 7, aBatchStride: 0, bBatchStride: 0, cBatchStride: 0 };
    expect(expectBitIdentical(s, 6)).toBe(false);
  });

  it("runs many consecutive split jobs without losing one, partly on the worker", () => {
    const before = pool.stats();
    for (let i = 0; i < 200; i++) {
      expectBitIdentical(
        { ...base, batch: 8, m: 8, n: 8, k: 4, aBatchStride: 32, bBatchStride: 32, cBatchStride: 64 },
        10 + i,
      );
    }
    const after = pool.stats();
    expect(after.jobs - before.jobs).toBe(200);
    // 8 batches on 2 threads: 8 chunks of one batch per job.
    expect(after.workerChunks + after.callerChunks - before.workerChunks - before.callerChunks).toBe(1600);
    // The worker (not only the caller) ran chunks: the pool really runs kernels on another thread.
    expect(after.workerChunks).toBeGreaterThan(before.workerChunks);
  });

  it("refuses a second pool while one is running", async () => {
    await expect(startThreadPool()).rejects.toThrow(/already running/);
  });
});
