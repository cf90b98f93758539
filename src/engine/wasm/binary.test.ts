import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { makePlan } from "../kernels/broadcast.js";
import { type BinaryName, binaryBackward, binaryForward } from "../kernels/elementwise.js";
import { allocFloat32 } from "../memory.js";
import { createWasmKernels } from "./index.js";

const wasm = createWasmKernels();

function filled(rng: Rng, length: number): Float32Array {
  const view = allocFloat32(length);
  for (let i = 0; i < length; i++) view[i] = rng.next() * 2 + 0.5; // away from 0: div stays tame
  return view;
}

function copy(view: Float32Array): Float32Array {
  const out = allocFloat32(view.length);
  out.set(view);
  return out;
}

function expectMatch(name: string, actual: Float32Array, expected: Float32Array, exact: boolean): void {
  if (exact) {
    expect(Array.from(actual), name).toEqual(Array.from(expected));
    return;
  }
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= 1e-6 * (1 + Math.abs(expected[i])) * 4)) {
      throw new Error(`${name}[${i}]: wasm ${actual[i]} vs reference ${expected[i]}`);
    }
  }
}

/** Compares forward and backward of `op` over a plan with operand strides [out, a, b] on dims `shape`. */
function compare(
  op: BinaryName,
  shape: number[],
  aStrides: number[],
  bStrides: number[],
  seed: number,
): void {
  const rng = new Rng(seed);
  const size = shape.reduce((x, y) => x * y, 1);
  const extent = (strides: number[]): number => 1 + strides.reduce((s, st, d) => s + st * (shape[d] - 1), 0);
  const outStrides = shape.map((_, d) => shape.slice(d + 1).reduce((x, y) => x * y, 1));
  const plan = makePlan(shape, [outStrides, aStrides, bStrides]);
  const a = filled(rng, extent(aStrides));
  const b = filled(rng, extent(bStrides));
  const outRef = allocFloat32(size);
  const outWasm = allocFloat32(size);
  binaryForward(op, outRef, a, b, plan);
  wasm.binaryForward(op, outWasm, a, b, plan);
  const exact = op === "add" || op === "sub";
  expectMatch("out", outWasm, outRef, exact || op === "mul" || op === "div"); // one rounding per element: exact
  const dout = filled(rng, size);
  const da0 = filled(rng, a.length);
  const db0 = filled(rng, b.length);
  const [daRef, dbRef, daWasm, dbWasm] = [copy(da0), copy(db0), copy(da0), copy(db0)];
  binaryBackward(op, daRef, dbRef, dout, a, b, plan);
  wasm.binaryBackward(op, daWasm, dbWasm, dout, a, b, plan);
  expectMatch("da", daWasm, daRef, exact);
  expectMatch("db", dbWasm, dbRef, exact);
}

describe("WASM SIMD broadcast binary arithmetic", () => {
  it("matches the reference on row plans (full or one broadcast row each), bit-exactly for add and sub", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<BinaryName>("add", "sub", "mul", "div"),
        fc.integer({ min: 2, max: 9 }),
        fc.integer({ min: 2, max: 23 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 1 << 30 }),
        (op, R, C, aRow, bRow, seed) => {
          compare(op, [R, C], aRow ? [0, 1] : [C, 1], bRow ? [0, 1] : [C, 1], seed);
        },
      ),
      { numRuns: 120 },
    );
  });

  it("matches the reference on plans it hands back to the reference (3-D, column broadcast, scalar)", () => {
    compare("add", [3, 4, 5], [20, 5, 1], [0, 5, 1], 1);
    compare("mul", [6, 7], [7, 1], [1, 0], 2);
    compare("sub", [9], [1], [0], 3);
    compare("add", [37], [1], [1], 4);
  });
});
