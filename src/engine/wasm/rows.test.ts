/** The WASM row kernels (./rows.ts) against their TypeScript references, over random sizes. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { fillRows, type HeadsSizes, headsToSlabs, slabsToHeads, sumRows } from "../kernels/heads.js";
import { type RotateSizes, rotatePairsBackward, rotatePairsForward } from "../kernels/rotate.js";
import { allocFloat32 } from "../memory.js";
import { createWasmKernels } from "./index.js";

const wasm = createWasmKernels();

function filled(rng: Rng, length: number): Float32Array {
  const view = allocFloat32(length);
  for (let i = 0; i < length; i++) view[i] = rng.next() * 2 - 1;
  return view;
}

function twins(rng: Rng, length: number): [Float32Array, Float32Array] {
  const a = filled(rng, length);
  const b = allocFloat32(length);
  b.set(a);
  return [a, b];
}

describe("wasm row kernels", () => {
  it("fillRows and sumRows equal the references bit for bit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 13 }), fc.nat(), (R, N, seed) => {
        const rng = new Rng(seed);
        const bias = filled(rng, N);
        const [outRef, outWasm] = twins(rng, R * N);
        fillRows(outRef, bias, R, N);
        wasm.fillRows(outWasm, bias, R, N);
        expect(Array.from(outWasm)).toEqual(Array.from(outRef));
        const g = filled(rng, R * N);
        const [dbRef, dbWasm] = twins(rng, N);
        sumRows(dbRef, g, R, N);
        wasm.sumRows(dbWasm, g, R, N);
        expect(Array.from(dbWasm)).toEqual(Array.from(dbRef));
      }),
      { numRuns: 60 },
    );
  });

  it("headsToSlabs and slabsToHeads (copy and accumulate) equal the references bit for bit", () => {
    fc.assert(
      fc.property(
        fc.record({
          B: fc.integer({ min: 1, max: 3 }),
          T: fc.integer({ min: 1, max: 5 }),
          H: fc.integer({ min: 1, max: 3 }),
          Dh: fc.integer({ min: 1, max: 9 }),
          parts: fc.integer({ min: 1, max: 3 }),
        }),
        fc.nat(),
        fc.boolean(),
        ({ B, T, H, Dh, parts }, seed, accumulate) => {
          const rng = new Rng(seed);
          const s: HeadsSizes = { B, T, H, Dh, rowStride: parts * H * Dh, offset: (parts - 1) * H * Dh };
          const rows = filled(rng, B * T * s.rowStride);
          const [slabRef, slabWasm] = twins(rng, B * H * T * Dh);
          headsToSlabs(slabRef, rows, s, accumulate);
          wasm.headsToSlabs(slabWasm, rows, s, accumulate);
          expect(Array.from(slabWasm)).toEqual(Array.from(slabRef));
          const [rowsRef, rowsWasm] = twins(rng, rows.length);
          slabsToHeads(rowsRef, slabRef, s, accumulate);
          wasm.slabsToHeads(rowsWasm, slabRef, s, accumulate);
          expect(Array.from(rowsWasm)).toEqual(Array.from(rowsRef));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("rotatePairs forward and backward match the references within float32 rounding (both layouts)", () => {
    fc.assert(
      fc.property(
        fc.record({
          outer: fc.integer({ min: 1, max: 3 }),
          T: fc.integer({ min: 1, max: 4 }),
          inner: fc.integer({ min: 1, max: 3 }),
          pairs: fc.integer({ min: 1, max: 9 }),
          extra: fc.integer({ min: 0, max: 3 }),
          layout: fc.constantFrom("half" as const, "interleaved" as const),
        }),
        fc.nat(),
        ({ outer, T, inner, pairs, extra, layout }, seed) => {
          const rng = new Rng(seed);
          const s: RotateSizes = { outer, T, inner, D: 2 * pairs + extra, pairs, layout };
          const n = outer * T * inner * s.D;
          const x = filled(rng, n);
          const cos = filled(rng, T * pairs);
          const sin = filled(rng, T * pairs);
          const [yRef, yWasm] = twins(rng, n);
          rotatePairsForward(yRef, x, cos, sin, s);
          wasm.rotatePairsForward(yWasm, x, cos, sin, s);
          const [dRef, dWasm] = twins(rng, n);
          rotatePairsBackward(dRef, x, cos, sin, s);
          wasm.rotatePairsBackward(dWasm, x, cos, sin, s);
          for (let i = 0; i < n; i++) {
            expect(Math.abs(yWasm[i] - yRef[i])).toBeLessThanOrEqual(1e-6);
            expect(Math.abs(dWasm[i] - dRef[i])).toBeLessThanOrEqual(1e-6);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("rejects views that are too short, naming the kernel and the view", () => {
    const s: HeadsSizes = { B: 1, T: 2, H: 2, Dh: 2, rowStride: 4, offset: 0 };
    expect(() => wasm.headsToSlabs(allocFloat32(7), allocFloat32(8), s, false)).toThrow(
      "wasm headsToSlabs: slabs has 7 elements, needs 8",
    );
    expect(() => wasm.headsToSlabs(allocFloat32(8), allocFloat32(8), { ...s, offset: 1 }, false)).toThrow(
      "wasm headsToSlabs: heads end at column 5, past the row of 4 elements",
    );
  });
});
