/**
 * Not a method: 2-D position ids shared by the image methods, each in its own file with its paper: CPE/PEG
 * (arXiv:2102.10882), iRPE (arXiv:2107.14222), learnable Fourier features (arXiv:2106.02795), ComRoPE
 * (arXiv:2506.03737), GTA (arXiv:2310.10375), 2D-TPE (arXiv:2409.19700), LOOPE (arXiv:2504.14386).
 * Layout: ids are [B, T, 2] row-major, coordinate 0 the row and 1 the column,
 *   id_t = (h_t, w_t)   (a token at row h, column w of the patch grid)
 * as HF Qwen2-VL orders its M-RoPE ids (t, h, w) without the time axis.
 */
import { PosencConfigError } from "../util/validation.js";

/** (row, column) of every token of one example: ids [T, 2] row-major -> rows [T], cols [T]. */
export function splitRowsCols(
  ids: ArrayLike<number>,
  seqLen: number,
): { rows: Float64Array; cols: Float64Array } {
  if (ids.length !== 2 * seqLen) {
    throw new RangeError(`2-D position ids: ${ids.length} values for seqLen * 2 = ${seqLen} * 2`);
  }
  const rows = new Float64Array(seqLen);
  const cols = new Float64Array(seqLen);
  for (let t = 0; t < seqLen; t++) {
    rows[t] = ids[2 * t]!;
    cols[t] = ids[2 * t + 1]!;
  }
  return { rows, cols };
}

/** The ids of example b, a view of [B, T, 2]. */
export function exampleIds(ids: Float64Array, b: number, seqLen: number): Float64Array {
  return ids.subarray(2 * b * seqLen, 2 * (b + 1) * seqLen);
}

/** Checks that [B, T, 2] ids hold batchSize * seqLen * 2 values (a programming error otherwise). */
export function checkGridIds(owner: string, ids: Float64Array, batchSize: number, seqLen: number): void {
  if (ids.length !== 2 * batchSize * seqLen) {
    throw new RangeError(
      `${owner}: position ids hold ${ids.length} values, expected batchSize * seqLen * 2 = ${batchSize} * ${seqLen} * 2`,
    );
  }
}

/**
 * Tokens placed on their grid cells: rows x cols cells (the largest row and column + 1), `cellToken` the token of
 * each cell (row-major, -1 where no token sits) and `tokenCell` the cell of each token. Ids must be integers >= 0
 * and no two tokens may share a cell: one clear error naming the token otherwise.
 */
export interface TokenGrid {
  rows: number;
  cols: number;
  cellToken: Int32Array;
  tokenCell: Int32Array;
}

export function tokenGrid(
  owner: string,
  ids: ArrayLike<number>,
  seqLen: number,
  size?: [number, number],
): TokenGrid {
  const { rows, cols } = splitRowsCols(ids, seqLen);
  let H = size?.[0] ?? 0;
  let W = size?.[1] ?? 0;
  for (let t = 0; t < seqLen; t++) {
    const r = rows[t]!;
    const c = cols[t]!;
    if (!(Number.isInteger(r) && Number.isInteger(c) && r >= 0 && c >= 0)) {
      throw new PosencConfigError(
        "invalid_value",
        `${owner}.positionIds`,
        [r, c],
        "integer grid cells (row, column) >= 0",
        `${owner}: token ${t} sits at (${r}, ${c}); a grid method needs integer (row, column) ids >= 0`,
      );
    }
    if (!size) {
      H = Math.max(H, r + 1);
      W = Math.max(W, c + 1);
    }
  }
  const cellToken = new Int32Array(H * W).fill(-1);
  const tokenCell = new Int32Array(seqLen);
  for (let t = 0; t < seqLen; t++) {
    const cell = rows[t]! * W + cols[t]!;
    if (cellToken[cell] !== -1) {
      throw new PosencConfigError(
        "invalid_value",
        `${owner}.positionIds`,
        [rows[t], cols[t]],
        "one token per grid cell",
        `${owner}: tokens ${cellToken[cell]} and ${t} both sit at (${rows[t]}, ${cols[t]}); a grid method needs one token per cell`,
      );
    }
    cellToken[cell] = t;
    tokenCell[t] = cell;
  }
  return { rows: H, cols: W, cellToken, tokenCell };
}
