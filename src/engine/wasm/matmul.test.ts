import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { matmulReference } from "../kernels/matmul.js";
import type { MatmulShape } from "../kernels/types.js";
import { allocFloat32, freeFloat32 } from "../memory.js";
import { createWasmKernels, type KernelVariant, relaxedSimdSupported, wasmSimdSupported } from "./index.js";

// Both builds of the kernels: plain SIMD128 (mul then add) and relaxed SIMD (fused multiply-add in the micro-kernel).
let kernels = createWasmKernels({ variant: "simd" });

function randomArray(rng: Rng, length: number): Float32Array {
  const view = allocFloat32(length);
  for (let i = 0; i < length; i++) view[i] = rng.next() * 2 - 1;
  return view;
}

function shapeOf(partial: Partial<MatmulShape> & Pick<MatmulShape, "m" | "n" | "k">): MatmulShape {
  const { m, n, k } = partial;
  return {
    batch: 1,
    transA: false,
    transB: false,
    aBatchStride: m * k,
    bBatchStride: k * n,
    cBatchStride: m * n,
    accumulate: false,
    ...partial,
  };
}

/**
 * Runs the WASM kernel and the reference on the same inputs and checks every element against the float32
 * summation bound: |wasm - ref| <= (k + 2) * 2^-23 * sum_p |a_ip| |b_pj| (+ |c| when accumulating).
 */
function expectMatchesReference(s: MatmulShape, rng: Rng): void {
  const aLen = (s.batch - 1) * s.aBatchStride + s.m * s.k;
  const bLen = (s.batch - 1) * s.bBatchStride + s.k * s.n;
  const cLen = (s.batch - 1) * s.cBatchStride + s.m * s.n;
  const a = randomArray(rng, Math.max(aLen, 1));
  const b = randomArray(rng, Math.max(bLen, 1));
  const cWasm = randomArray(rng, Math.max(cLen, 1));
  const cRef = allocFloat32(cWasm.length);
  cRef.set(cWasm);
  const c0 = Float32Array.from(cWasm);
  kernels.matmul(a, b, cWasm, s);
  matmulReference(a, b, cRef, s);
  // The error bound per element, from |A| |B| (summed over batches when C is shared, cBatchStride 0).
  const bound = new Float64Array(cLen);
  for (let bi = 0; bi < s.batch; bi++) {
    for (let i = 0; i < s.m; i++) {
      for (let j = 0; j < s.n; j++) {
        let sum = 0;
        for (let p = 0; p < s.k; p++) {
          const av = a[bi * s.aBatchStride + (s.transA ? p * s.m + i : i * s.k + p)];
          const bv = b[bi * s.bBatchStride + (s.transB ? j * s.k + p : p * s.n + j)];
          sum += Math.abs(av * bv);
        }
        const o = bi * s.cBatchStride + i * s.n + j;
        bound[o] += sum + (s.accumulate ? Math.abs(c0[o]) : 0);
      }
    }
  }
  const eps = 2 ** -23;
  for (let o = 0; o < cLen; o++) {
    const tol = (s.k + 2 * s.batch) * eps * bound[o] + 1e-30;
    if (!(Math.abs(cWasm[o] - cRef[o]) <= tol)) {
      throw new Error(
        `element ${o}: wasm ${cWasm[o]} vs reference ${cRef[o]} (tol ${tol}) for ${JSON.stringify(s)}`,
      );
    }
  }
  // Elements outside the products are untouched.
  for (let o = cLen; o < cWasm.length; o++) expect(cWasm[o]).toBe(c0[o]);
  for (const view of [a, b, cWasm, cRef]) freeFloat32(view);
}

describe("relaxed SIMD", () => {
  it("is supported on this runtime (Node 20 after allowing it) and the default build", async () => {
    expect(relaxedSimdSupported()).toBe(true);
    const { defaultKernelVariant } = await import("./index.js");
    expect(defaultKernelVariant()).toBe("relaxed-simd");
  });

  it("fuses the multiply-add: one rounding where the plain build rounds twice", () => {
    // C = a1 b1 + a2 b2 with a1 b1 = -(1 + 2^-11) and a2 b2 = (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 exactly.
    // Plain: fl(a2 b2) = 1 + 2^-11 (2^-24 is half an ulp; ties to even), so C = 0. Fused: C = 2^-24.
    const a = allocFloat32(2);
    const b = allocFloat32(2);
    const c = allocFloat32(1);
    a.set([-(1 + 2 ** -11), 1 + 2 ** -12]);
    b.set([1, 1 + 2 ** -12]);
    const shape = shapeOf({ m: 1, n: 1, k: 2 });
    createWasmKernels({ variant: "simd" }).matmul(a, b, c, shape);
    expect(c[0]).toBe(0);
    createWasmKernels({ variant: "relaxed-simd" }).matmul(a, b, c, shape);
    expect(c[0]).toBe(2 ** -24);
  });
});

describe.each<KernelVariant>(["simd", "relaxed-simd"])("WASM SIMD matmul, %s build", (variant) => {
  beforeAll(() => {
    kernels = createWasmKernels({ variant });
  });

  it("is supported on this runtime", () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(kernels.variant).toBe(variant);
  });

  it("computes a hand-checked 2x2 product, transposed and accumulating", () => {
    const a = allocFloat32(4);
    const b = allocFloat32(4);
    const c = allocFloat32(4);
    a.set([1, 2, 3, 4]); // [[1,2],[3,4]]
    b.set([5, 6, 7, 8]); // [[5,6],[7,8]]
    kernels.matmul(a, b, c, shapeOf({ m: 2, n: 2, k: 2 }));
    expect(Array.from(c)).toEqual([19, 22, 43, 50]);
    kernels.matmul(a, b, c, shapeOf({ m: 2, n: 2, k: 2, transA: true, accumulate: true })); // + A^T B
    expect(Array.from(c)).toEqual([19 + 26, 22 + 30, 43 + 38, 50 + 44]);
    kernels.matmul(a, b, c, shapeOf({ m: 2, n: 2, k: 2, transB: true })); // A B^T
    expect(Array.from(c)).toEqual([17, 23, 39, 53]);
  });

  it("matches the reference over random shapes, transposes, broadcasts and accumulation", () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          m: fc.integer({ min: 1, max: 23 }),
          n: fc.integer({ min: 1, max: 27 }),
          k: fc.integer({ min: 0, max: 21 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          broadcastA: fc.boolean(),
          broadcastB: fc.boolean(),
          accumulate: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        (r) => {
          const s = shapeOf({
            ...r,
            aBatchStride: r.broadcastA ? 0 : r.m * r.k,
            bBatchStride: r.broadcastB ? 0 : r.k * r.n,
          });
          expectMatchesReference(s, new Rng(r.seed));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("matches the reference across the kernel's block boundaries (k > 256, n > 1024, m > 128)", () => {
    const rng = new Rng(7);
    expectMatchesReference(shapeOf({ m: 5, n: 9, k: 600, transA: true }), rng);
    expectMatchesReference(shapeOf({ m: 3, n: 1030, k: 5, transB: true, accumulate: true }), rng);
    expectMatchesReference(shapeOf({ m: 131, n: 17, k: 257 }), rng);
    expectMatchesReference(shapeOf({ m: 1, n: 1, k: 1 }), rng);
    expectMatchesReference(shapeOf({ m: 64, n: 64, k: 64, transA: true, transB: true }), rng);
  });

  it("sums over the batch into one output with cBatchStride 0 and accumulate", () => {
    const rng = new Rng(11);
    expectMatchesReference(shapeOf({ batch: 4, m: 6, n: 10, k: 7, cBatchStride: 0, accumulate: true }), rng);
    expectMatchesReference(
      shapeOf({ batch: 3, m: 9, n: 5, k: 3, transA: true, cBatchStride: 0, accumulate: true }),
      rng,
    );
  });

  it("zeroes C when k is 0 and leaves it unchanged when also accumulating", () => {
    const a = allocFloat32(1);
    const b = allocFloat32(1);
    const c = allocFloat32(6).fill(3);
    kernels.matmul(a, b, c, shapeOf({ m: 2, n: 3, k: 0, accumulate: true }));
    expect(Array.from(c)).toEqual([3, 3, 3, 3, 3, 3]);
    kernels.matmul(a, b, c, shapeOf({ m: 2, n: 3, k: 0 }));
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("rejects operands outside the engine memory or too short for the shape", () => {
    const inMemory = allocFloat32(16);
    const outside = new Float32Array(16);
    const s = shapeOf({ m: 4, n: 4, k: 4 });
    expect(() => kernels.matmul(outside, inMemory, inMemory, s)).toThrow(
      /a is not a view of the engine memory/,
    );
    expect(() => kernels.matmul(inMemory, inMemory, inMemory, { ...s, batch: 2 })).toThrow(
      /a has 16 elements, needs 32/,
    );
    expect(() => kernels.matmul(inMemory, inMemory, inMemory, { ...s, m: -1 })).toThrow(/shape.m must be/);
  });
});
