/**
 * Position ids with k coordinates: an encoding declares how many it reads (spec.positionCoordinates, default 1);
 * the model's ids are then [B, T, k] row-major, from the task or 0..T-1 in coordinate 0 by default; encodings that
 * read different counts cannot share ids.
 */
import { describe, expect, it } from "vitest";
import { getEncoding } from "../encodings/registry.js";
import type { TrainableEncoding } from "../encodings/trainable.js";
import { defineEncoding, type EncodingSpec } from "../encodings/types.js";
import { tensor } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { createModelEncoding } from "./encodings.js";

const DIMS = { dModel: 4, numHeads: 2, headDim: 2, numLayers: 1, maxSeqLen: 8, causal: true };

/** A 2-D test encoding: its embedding hook records the ids it receives and adds zeros. */
function gridSpec(seen: Float64Array[]) {
  return defineEncoding({
    id: "test-grid",
    name: "2-D grid (test)",
    family: "absolute",
    paper: { title: "test", arxiv: "0000.00000", year: 2026 },
    formula: "x += 0 (records (row, column) ids)",
    summary: "Reads two coordinates per position, for tests.",
    slots: ["embedding"],
    params: {},
    positionCoordinates: 2,
    create: () => ({ id: "test-grid", params: {} }),
    trainable: (): TrainableEncoding => ({
      id: "test-grid",
      parameters: () => [],
      embedding(ids, batchSize, seqLen) {
        seen.push(ids);
        expect(ids.length).toBe(batchSize * seqLen * 2);
        return tensor(new Float32Array(seqLen * 4), [1, seqLen, 4]);
      },
    }),
  });
}

const lookup = (specs: EncodingSpec[]) => (id: string, path: string) =>
  specs.find((s) => s.id === id) ?? getEncoding(id, path);

describe("position ids with k coordinates", () => {
  it("1-D stays the default: k = 1 and ids [B, T] = 0..T-1", () => {
    const model = createModelEncoding({ id: "rope" }, DIMS, new Rng(1));
    expect(model.coordinates).toBe(1);
    const ids = model.positionIds({ batchSize: 2, seqLen: 3, rng: new Rng(2), training: false });
    expect(Array.from(ids)).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it("a 2-D encoding gets [B, T, 2] ids: the task's, or 0..T-1 in coordinate 0 by default", () => {
    const seen: Float64Array[] = [];
    const model = createModelEncoding(
      { id: "test-grid" },
      DIMS,
      new Rng(1),
      "model.encoding",
      lookup([gridSpec(seen)]),
    );
    expect(model.coordinates).toBe(2);
    const plain = model.positionIds({ batchSize: 1, seqLen: 3, rng: new Rng(2), training: false });
    expect(Array.from(plain)).toEqual([0, 0, 1, 0, 2, 0]);
    const task = Float64Array.from([0, 0, 0, 1, 1, 0, 1, 1]); // a 2 x 2 grid, row-major
    const ids = model.positionIds({
      batchSize: 1,
      seqLen: 4,
      rng: new Rng(2),
      training: false,
      taskPositionIds: task,
    });
    model.embedding(ids, 1, 4);
    expect(Array.from(seen[0]!)).toEqual(Array.from(task));
    expect(() =>
      model.positionIds({
        batchSize: 1,
        seqLen: 4,
        rng: new Rng(2),
        training: false,
        taskPositionIds: task.subarray(0, 4),
      }),
    ).toThrow(/batchSize \* seqLen \* coordinates = 1 \* 4 \* 2/);
  });

  it("encodings reading different counts of coordinates cannot share ids", () => {
    const specs = lookup([gridSpec([])]);
    const build = () =>
      createModelEncoding([{ id: "test-grid" }, { id: "rope" }], DIMS, new Rng(1), "model.encoding", specs);
    expect(build).toThrow(PosencConfigError);
    expect(build).toThrow(/rope reads 1 coordinate\(s\) per position, test-grid reads 2/);
    // NoPE reads no ids: it combines with anything.
    expect(
      createModelEncoding([{ id: "test-grid" }, { id: "nope" }], DIMS, new Rng(1), "model.encoding", specs)
        .coordinates,
    ).toBe(2);
  });
});
