/**
 * Table lookup: read the header of the marked cell's row (or column), the structure-retrieval probe of
 * "2D-TPE: Two-Dimensional Positional Encoding Enhances Table Understanding for Large Language Models" (Li et al.
 * 2024, arXiv:2409.19700), which asks for cells by row and column, reduced to one patch per cell.
 *
 * A grid x grid table; each cell is one patch of numValues + 2 values: its value v (uniform in 0..numValues-1) one-hot
 * in the first numValues, then a header flag, then a mark flag. Mode "row": column 0 holds the row headers
 * (header flag 1) and one cell outside it is marked; the answer is the value of the header in the marked cell's row.
 * Mode "column": row 0 holds the headers and the answer is the header of the marked cell's column. Headers are
 * found by their content, so the model must match "same row" (or column) between two cells at any grid size.
 *
 *   grid 3, row mode: marked cell (2, 1), header (2, 0) holds 5 -> label 5
 */
import type { Rng } from "../../util/rng.js";
import { checkChoice, checkNumber } from "../../util/validation.js";
import { defineVisionTask, type VisionTask } from "./types.js";

export interface TableLookupParams {
  /** Distinct cell values (default 8). */
  numValues?: number;
  /** "row" (default): the header of the marked cell's row; "column": of its column. */
  mode?: "row" | "column";
}

export function tableLookupTask(params: TableLookupParams = {}): VisionTask {
  const V = checkNumber("table_lookup.numValues", params.numValues ?? 8, { integer: true, min: 2, max: 64 });
  const mode = checkChoice("table_lookup.mode", params.mode ?? "row", ["row", "column"] as const);
  const dim = V + 2;
  return defineVisionTask({
    id: "table_lookup",
    description: `the value of the header of the marked cell's ${mode} (headers in ${mode === "row" ? "column" : "row"} 0)`,
    source: "2D-TPE (arXiv:2409.19700): cell retrieval by row and column",
    classes: Array.from({ length: V }, (_, v) => String(v)),
    patchDim: dim,
    coordinates: 2,
    frames: 1,
    minGrid: 2,
    sampleExample(rng: Rng, grid: number) {
      const patches = new Float32Array(grid * grid * dim);
      const values = Array.from({ length: grid * grid }, () => rng.int(V));
      // The marked cell: any cell outside the header line.
      const r = mode === "row" ? rng.int(grid) : 1 + rng.int(grid - 1);
      const c = mode === "row" ? 1 + rng.int(grid - 1) : rng.int(grid);
      for (let i = 0; i < grid * grid; i++) {
        const [row, col] = [Math.floor(i / grid), i % grid];
        patches[i * dim + values[i]!] = 1;
        if ((mode === "row" && col === 0) || (mode === "column" && row === 0)) patches[i * dim + V] = 1;
        if (row === r && col === c) patches[i * dim + V + 1] = 1;
      }
      const header = mode === "row" ? r * grid : c;
      return { patches, label: values[header]! };
    },
  });
}
