/**
 * NeuDA's deformable anchor grid: the official configuration's level resolutions, the vertex layout, values against
 * a plain-loop reference of the formula (written independently of the engine version), and float64 gradients with
 * respect to the anchors and the points, in 2-D and 3-D.
 */
import { describe, expect, it } from "vitest";
import { noGrad, tensor, withFloat64Storage } from "../../engine/index.js";
import { gradCheck, randomValues } from "../../engine/testing/gradcheck.js";
import { Rng } from "../../util/rng.js";
import { levelResolutions, neudaEncode, neudaGrid, neudaSpec, vertexAnchors } from "./neuda.js";

/** The formula over plain arrays: trilinear/bilinear weights over the 2^d corners, [sin(2^l a), cos(2^l a)]. */
function reference(resolutions: number[], bound: number, anchors: number[], point: number[]): number[] {
  const d = point.length;
  const out = [...point];
  let offset = 0;
  resolutions.forEach((r, l) => {
    const u = point.map(
      (x) => ((Math.min(Math.max(x, -bound), bound - 2e-6 * bound) + bound) / (2 * bound)) * r,
    );
    const i = u.map(Math.floor);
    const w = u.map((v, j) => v - i[j]);
    const feature = new Array<number>(2 * d).fill(0);
    for (let c = 0; c < 2 ** d; c++) {
      let weight = 1;
      let vertex = 0;
      for (let j = 0; j < d; j++) {
        const bit = (c >> (d - 1 - j)) & 1;
        weight *= bit ? w[j] : 1 - w[j];
        vertex = vertex * (r + 1) + i[j] + bit;
      }
      for (let j = 0; j < d; j++) {
        const a = anchors[(offset + vertex) * d + j];
        feature[j] += weight * Math.sin(2 ** l * a);
        feature[d + j] += weight * Math.cos(2 ** l * a);
      }
    }
    out.push(...feature);
    offset += (r + 1) ** d;
  });
  return out;
}

describe("NeuDA grid layout", () => {
  it("reproduces the official 3-D configuration's resolutions (L 8, base 16, b 1.38)", () => {
    expect(levelResolutions(8, 16, 1.38)).toEqual([16, 22, 30, 42, 58, 80, 110, 152]);
  });

  it("initialises anchors at the vertices, first coordinate major", () => {
    expect(vertexAnchors([2], 2, 1)).toEqual([-1, -1, -1, 0, -1, 1, 0, -1, 0, 0, 0, 1, 1, -1, 1, 0, 1, 1]);
    const grid = neudaGrid(3, 3, 2, 2, 1);
    expect(grid.resolutions).toEqual([2, 4, 8]);
    expect(grid.offsets).toEqual([0, 27, 27 + 125]);
    expect(grid.vertices).toBe(27 + 125 + 729);
  });
});

describe("NeuDA encoding", () => {
  for (const d of [2, 3]) {
    it(`${d}-D: matches the plain-loop formula with deformed anchors`, () => {
      const grid = neudaGrid(d, 3, 3, 1.5, 1.01);
      const anchors = vertexAnchors(grid.resolutions, d, 1.01).map((a, i) => a + 0.05 * Math.sin(7 * i));
      const points = randomValues(d, 5 * d).map((v) => Math.tanh(v));
      points[0] = 1; // on the box edge side: clamped inside
      const out = withFloat64Storage(() =>
        noGrad(() =>
          neudaEncode(grid, tensor(anchors, [grid.vertices, d]), tensor(points, [5, d])).toArray(),
        ),
      );
      const width = d + 2 * d * 3;
      for (let p = 0; p < 5; p++) {
        const expected = reference(grid.resolutions, 1.01, anchors, points.slice(p * d, (p + 1) * d));
        expected.forEach((v, i) => {
          expect(out[p * width + i]).toBeCloseTo(v, 12);
        });
      }
    });
  }

  it("at initialisation, a point on a vertex gets that vertex's own [sin(2^l x), cos(2^l x)]", () => {
    const enc = neudaSpec.create(2, new Rng(0), { levels: 2, base: 4, growth: 2, bound: 1 });
    const point = [-0.5, 0.5]; // a vertex of both levels (cells of 0.5 and 0.25)
    const out = withFloat64Storage(() => noGrad(() => enc.encode(tensor(point, [1, 2])).toArray()));
    const expected = [...point];
    for (let l = 0; l < 2; l++)
      expected.push(...point.map((x) => Math.sin(2 ** l * x)), ...point.map((x) => Math.cos(2 ** l * x)));
    // float32 parameters
    out.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 5);
    });
  });

  for (const d of [2, 3]) {
    it(`${d}-D: float64 gradients with respect to the anchors and the points`, () => {
      const grid = neudaGrid(d, 2, 2, 1.5, 1.01);
      const anchors = vertexAnchors(grid.resolutions, d, 1.01).map((a, i) => a + 0.1 * Math.cos(3 * i));
      // Points away from cell boundaries, so the finite difference never crosses one.
      const points =
        d === 2 ? [0.17, -0.41, 0.62, 0.33, -0.77, 0.09] : [0.17, -0.41, 0.62, -0.77, 0.09, 0.28];
      const r = gradCheck(
        ([x, a]) => neudaEncode(grid, a, x),
        [
          { shape: [points.length / d, d], values: points },
          { shape: [grid.vertices, d], values: anchors },
        ],
      );
      expect(r.worstRatio, r.worst).toBeLessThanOrEqual(1);
    });
  }

  it("has d + 2 d L outputs and one anchor parameter of every vertex", () => {
    const enc = neudaSpec.create(3, new Rng(0), { levels: 3, base: 2, growth: 2 });
    expect(enc.outputDim).toBe(3 + 18);
    expect(enc.parameters[0].shape).toEqual([27 + 125 + 729, 3]);
  });
});
