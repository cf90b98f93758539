import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MatmulShape } from "../kernels/types.js";
import { allocFloat32 } from "../memory.js";
import { Rng } from "../../util/rng.js";
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

function expectBitIdentical(s: MatmulShape, seed: number): void {
  const rng = new Rng(seed);
  const a = randomArray(rng, (s.batch - 1) * s.aBatchStride + s.m * s.k);
  const b = randomArray(rng, (s.batch - 1) * s.bBatchStride + s.k * s.n);
  const cLength = (s.batch - 1) * s.cBatchStride + s.m * s.n;
  const c1 = randomArray(rng, cLength);
  const c2 = allocFloat32(cLength);
  c2.set(c1);
  single.matmul(a, b, c1, s);
  split.matmul(a, b, c2, s);
  // Compare bit patterns, not values: the split must reproduce the one-thread result exactly.
  expect(new Uint32Array(c2.buffer, c2.byteOffset, cLength)).toEqual(new Uint32Array(c1.buffer, c1.byteOffset, cLength));
}

const base = { transA: false, transB: false, accumulate: false };

describe("WASM thread pool", () => {
  it("has two threads: the caller and one worker", () => {
    expect(pool.threads).toBe(2);
    expect(split.threads).toBe(2);
  });

  it("splits rows of one product bit-identically (m not a multiple of the tile, k across blocks)", () => {
    expectBitIdentical({ ...base, batch: 1, m: 37, n: 29, k: 300, aBatchStride: 0, bBatchStride: 0, cBatchStride: 0 }, 1);
    expectBitIdentical(
      { ...base, transA: true, transB: true, batch: 1, m: 64, n: 40, k: 33, aBatchStride: 0, bBatchStride: 0, cBatchStride: 0 },
      2,
    );
  });

  it("splits batches bit-identically, including broadcast operands and an odd batch count", () => {
    expectBitIdentical({ ...base, batch: 6, m: 12, n: 16, k: 8, aBatchStride: 96, bBatchStride: 0, cBatchStride: 192 }, 3);
    expectBitIdentical({ ...base, batch: 3, m: 9, n: 7, k: 5, aBatchStride: 0, bBatchStride: 35, cBatchStride: 63 }, 4);
  });

  it("sums into a shared output (cBatchStride 0) bit-identically, splitting by rows", () => {
    expectBitIdentical(
      { ...base, accumulate: true, batch: 4, m: 21, n: 11, k: 6, aBatchStride: 126, bBatchStride: 66, cBatchStride: 0 },
      5,
    );
  });

  it("does not split a product with a single row tile, and still computes it", () => {
    expectBitIdentical({ ...base, batch: 1, m: 3, n: 5, k: 7, aBatchStride: 0, bBatchStride: 0, cBatchStride: 0 }, 6);
  });

  it("runs many consecutive split jobs without losing one, most of them on the worker", () => {
    const before = pool.stats();
    for (let i = 0; i < 200; i++) {
      expectBitIdentical({ ...base, batch: 2, m: 8, n: 8, k: 4, aBatchStride: 32, bBatchStride: 32, cBatchStride: 64 }, 10 + i);
    }
    const after = pool.stats();
    expect(after.dispatched - before.dispatched).toBe(200);
    // The worker (not only the caller, by stealing) ran parts: the pool really runs kernels on another thread.
    expect(after.dispatched - after.stolen - (before.dispatched - before.stolen)).toBeGreaterThan(0);
  });

  it("refuses a second pool while one is running", async () => {
    await expect(startThreadPool()).rejects.toThrow(/already running/);
  });
});
