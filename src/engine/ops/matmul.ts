/**
 * Batched matrix multiply with broadcasting over batch dims and either operand transposed:
 *   a (..., m, k) @ b (..., k, n) -> (..., m, n);  with transA, a is stored (..., k, m); with transB, b is (..., n, k).
 * Batch dims must be equal, or one side may have none (or only 1s): it is then shared across the batch.
 */
import { kernels } from "../kernels/index.js";
import type { MatmulShape } from "../kernels/types.js";
import { formatShape, inputGrad, record, type Tensor, uninitialized } from "../tensor.js";
import { product, sameShape } from "./shapes.js";

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

function shapeOf(
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  aBatchStride: number,
  bBatchStride: number,
  cBatchStride: number,
  accumulate: boolean,
): MatmulShape {
  return { batch, m, n, k, transA, transB, aBatchStride, bBatchStride, cBatchStride, accumulate };
}

export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const describe = () =>
    `${formatShape(a.shape)}${transA ? "^T" : ""} @ ${formatShape(b.shape)}${transB ? "^T" : ""}`;
  if (a.rank < 2 || b.rank < 2) throw new RangeError(`matmul: both operands need rank >= 2: ${describe()}`);
  const m = transA ? a.shape[a.rank - 1] : a.shape[a.rank - 2];
  const k = transA ? a.shape[a.rank - 2] : a.shape[a.rank - 1];
  const kb = transB ? b.shape[b.rank - 1] : b.shape[b.rank - 2];
  const n = transB ? b.shape[b.rank - 2] : b.shape[b.rank - 1];
  if (k !== kb) throw new RangeError(`matmul: inner dimensions differ: ${describe()}`);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const aShared = product(aBatch) === 1;
  const bShared = product(bBatch) === 1;
  let batchShape: number[];
  if (sameShape(aBatch, bBatch)) batchShape = [...aBatch];
  else if (bShared && bBatch.length <= aBatch.length) batchShape = [...aBatch];
  else if (aShared && aBatch.length <= bBatch.length) batchShape = [...bBatch];
  else throw new RangeError(`matmul: batch dimensions differ and neither side is shared: ${describe()}`);
  const batch = product(batchShape);
  const out = uninitialized([...batchShape, m, n]);
  const sa = aShared ? 0 : m * k;
  const sb = bShared ? 0 : k * n;
  const sc = m * n;

  // A shared b (a weight) with a plain a folds the batch into the rows: one (batch*m x k) @ (k x n) product.
  const foldRows = sb === 0 && !transA && batch > 1 && sa !== 0;
  const fwd = foldRows
    ? shapeOf(1, batch * m, n, k, false, transB, 0, 0, 0, false)
    : shapeOf(batch, m, n, k, transA, transB, sa, sb, sc, false);
  kernels().matmul(a.data, b.data, out.data, fwd);

  return record(out, "matmul", [a, b], (g) => {
    const mm = kernels().matmul;
    if (a.requiresGrad) {
      const da = inputGrad(a);
      if (foldRows) {
        // dA (batch*m x k) += dC (batch*m x n) . op(B)^T
        mm(g, b.data, da, shapeOf(1, batch * m, k, n, false, !transB, 0, 0, 0, true));
      } else {
        // A shared across the batch: its gradient sums over the batch, one product at a time (no write races).
        const runs = sa === 0 ? batch : 1;
        const perRun = sa === 0 ? 1 : batch;
        for (let r = 0; r < runs; r++) {
          const gv = g.subarray(r * sc);
          const bv = b.data.subarray(r * sb);
          if (!transA) {
            // dA (m x k) += dC (m x n) . op(B)^T
            mm(gv, bv, da, shapeOf(perRun, m, k, n, false, !transB, sc, sb, sa, true));
          } else {
            // dA (k x m) += op(B) (k x n) . dC^T
            mm(bv, gv, da, shapeOf(perRun, k, m, n, transB, true, sb, sc, sa, true));
          }
        }
      }
    }
    if (b.requiresGrad) {
      const db = inputGrad(b);
      if (foldRows) {
        if (!transB) mm(a.data, g, db, shapeOf(1, k, n, batch * m, true, false, 0, 0, 0, true));
        else mm(g, a.data, db, shapeOf(1, n, k, batch * m, true, false, 0, 0, 0, true));
      } else {
        const runs = sb === 0 ? batch : 1;
        const perRun = sb === 0 ? 1 : batch;
        for (let r = 0; r < runs; r++) {
          const gv = g.subarray(r * sc);
          const av = a.data.subarray(r * sa);
          if (!transB) {
            // dB (k x n) += op(A)^T (k x m) . dC (m x n)
            mm(av, gv, db, shapeOf(perRun, k, n, m, !transA, false, sa, sc, sb, true));
          } else {
            // dB (n x k) += dC^T (n x m) . op(A) (m x k)
            mm(gv, av, db, shapeOf(perRun, n, k, m, true, transA, sc, sa, sb, true));
          }
        }
      }
    }
  });
}
