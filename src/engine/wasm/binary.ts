/**
 * WASM SIMD broadcast binary arithmetic with the signatures of binaryForward / binaryBackward in
 * ../kernels/elementwise.ts. The common plans -- same-shape operands, and [R, C] with an operand that is one row
 * broadcast over R (bias adds, per-channel scales) -- run in ./assembly/binary.ts; every other plan (and div's
 * backward) goes to the reference kernel, so these are drop-in replacements for any plan.
 *
 * add/sub results, and their gradients' row sums (same order per column as the reference), are bit-identical to
 * the reference; mul/div differ by float32 rounding of the product.
 */
import type { BroadcastPlan } from "../kernels/broadcast.js";
import { type BinaryName, binaryBackward, binaryForward } from "../kernels/elementwise.js";
import { isInEngineMemory } from "../memory.js";
import type { KernelExports } from "./module.js";

type Floats = Float32Array;

const OPS: Record<BinaryName, number> = { add: 0, sub: 1, mul: 2, div: 3 };

export interface WasmBinaryKernels {
  binaryForward(op: BinaryName, out: Floats, a: Floats, b: Floats, plan: BroadcastPlan): void;
  binaryBackward(
    op: BinaryName,
    da: Floats | null,
    db: Floats | null,
    dout: Floats,
    a: Floats,
    b: Floats,
    plan: BroadcastPlan,
  ): void;
}

/** Rows R, columns C and which operands are one broadcast row, if the plan is one the WASM kernel covers. */
interface RowPlan {
  R: number;
  C: number;
  aRow: boolean;
  bRow: boolean;
}

/** Recognizes [N] with unit strides, and [R, C] with the output contiguous and each input full or one row. */
function rowPlan(plan: BroadcastPlan): RowPlan | null {
  const { dims, strides } = plan;
  if (strides.length !== 3) return null;
  if (dims.length === 1) {
    if (strides.every((s) => s[0] === 1)) return { R: 1, C: dims[0], aRow: false, bRow: false };
    return null;
  }
  if (dims.length !== 2) return null;
  const [R, C] = dims;
  const kind = (s: readonly number[]): "full" | "row" | null =>
    s[1] !== 1 ? null : s[0] === C ? "full" : s[0] === 0 ? "row" : null;
  if (kind(strides[0]) !== "full") return null;
  const a = kind(strides[1]);
  const b = kind(strides[2]);
  if (!a || !b) return null;
  return { R, C, aRow: a === "row", bRow: b === "row" };
}

/** Whether every view lives in the engine memory and holds what the row plan reads or writes. */
function fits(views: Array<[Floats | null, boolean]>, rp: RowPlan): boolean {
  for (const [view, row] of views) {
    if (!view) continue;
    if (!isInEngineMemory(view) || view.length < (row ? rp.C : rp.R * rp.C)) return false;
  }
  return true;
}

export function createWasmBinary(kernels: KernelExports): WasmBinaryKernels {
  return {
    binaryForward(op, out, a, b, plan) {
      const rp = rowPlan(plan);
      if (
        !rp ||
        !fits(
          [
            [out, false],
            [a, rp.aRow],
            [b, rp.bRow],
          ],
          rp,
        )
      ) {
        binaryForward(op, out, a, b, plan);
        return;
      }
      kernels.binaryForwardRows(
        OPS[op],
        out.byteOffset,
        a.byteOffset,
        +rp.aRow,
        b.byteOffset,
        +rp.bRow,
        rp.R,
        rp.C,
      );
    },
    binaryBackward(op, da, db, dout, a, b, plan) {
      const rp = op === "div" ? null : rowPlan(plan);
      if (
        !rp ||
        !fits(
          [
            [da, rp.aRow],
            [db, rp.bRow],
            [dout, false],
            [a, rp.aRow],
            [b, rp.bRow],
          ],
          rp,
        )
      ) {
        binaryBackward(op, da, db, dout, a, b, plan);
        return;
      }
      kernels.binaryBackwardRows(
        OPS[op],
        da ? da.byteOffset : 0,
        db ? db.byteOffset : 0,
        dout.byteOffset,
        a.byteOffset,
        +rp.aRow,
        b.byteOffset,
        +rp.bRow,
        rp.R,
        rp.C,
      );
    },
  };
}
