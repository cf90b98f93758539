/** Marching tetrahedra on a sphere (watertight, on the surface, outward), OBJ/PLY text, rendering, PNG round trip. */
import { describe, expect, it } from "vitest";
import { marchingTetrahedra, renderMesh, toObj, toPly } from "./mesh.js";
import { decodePng, encodePng, pngDataUri } from "./png.js";
import { ballSdf, boxSdf, sampleGrid } from "./shapes.js";

describe("marchingTetrahedra", () => {
  const sphere = marchingTetrahedra(
    sampleGrid((p) => ballSdf(p, [0, 0, 0], 0.6), 3, 21),
    21,
  );

  it("puts every vertex on the sphere (to the grid's interpolation error)", () => {
    expect(sphere.triangles.length).toBeGreaterThan(300);
    for (let i = 0; i < sphere.vertices.length; i += 3) {
      expect(Math.abs(Math.hypot(...sphere.vertices.slice(i, i + 3)) - 0.6)).toBeLessThan(0.01);
    }
  });

  it("is watertight with Euler characteristic 2 (every edge in exactly two triangles)", () => {
    const edges = new Map<string, number>();
    for (let t = 0; t < sphere.triangles.length; t += 3) {
      for (let k = 0; k < 3; k++) {
        const a = sphere.triangles[t + k];
        const b = sphere.triangles[t + ((k + 1) % 3)];
        const key = a < b ? `${a},${b}` : `${b},${a}`;
        edges.set(key, (edges.get(key) ?? 0) + 1);
      }
    }
    expect([...edges.values()].every((c) => c === 2)).toBe(true);
    const v = sphere.vertices.length / 3;
    const f = sphere.triangles.length / 3;
    expect(v - edges.size + f).toBe(2);
  });

  it("orients triangles outward (normal . centroid > 0 on a sphere centred at 0)", () => {
    const tri = sphere.triangles;
    const p = (i: number) => sphere.vertices.slice(3 * i, 3 * i + 3);
    for (let t = 0; t < tri.length; t += 3) {
      const [a, b, c] = [p(tri[t]), p(tri[t + 1]), p(tri[t + 2])];
      const u = [0, 1, 2].map((j) => b[j] - a[j]);
      const w = [0, 1, 2].map((j) => c[j] - a[j]);
      const n = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
      if (Math.hypot(...n) < 1e-12) continue; // a degenerate sliver (a sample exactly on the surface)
      expect(
        n[0] * (a[0] + b[0] + c[0]) + n[1] * (a[1] + b[1] + c[1]) + n[2] * (a[2] + b[2] + c[2]),
      ).toBeGreaterThan(0);
    }
  });

  it("writes PLY and OBJ with the right counts, renders the mesh over a white background, and PNGs round-trip", () => {
    const cube = marchingTetrahedra(
      sampleGrid((p) => boxSdf(p, [0, 0, 0], [0.5, 0.5, 0.5]), 3, 6),
      6,
    );
    const v = cube.vertices.length / 3;
    const f = cube.triangles.length / 3;
    const ply = toPly(cube);
    expect(ply).toContain(`element vertex ${v}\n`);
    expect(ply.trim().split("\n").length).toBe(9 + v + f);
    const obj = toObj(cube).trim().split("\n");
    expect(obj.filter((l) => l.startsWith("v ")).length).toBe(v);
    expect(obj.filter((l) => l.startsWith("f ")).length).toBe(f);
    const img = renderMesh(cube, 32);
    expect(img[0]).toBe(1); // corner: background
    const centre = (16 * 32 + 16) * 3;
    expect(img[centre]).toBeLessThan(1); // the cube covers the centre
    const png = encodePng(img, 32, 32);
    const back = decodePng(png);
    expect(back.width).toBe(32);
    for (let i = 0; i < img.length; i++)
      expect(Math.abs(back.pixels[i] - img[i])).toBeLessThanOrEqual(0.5 / 255 + 1e-12);
    expect(pngDataUri(png).startsWith("data:image/png;base64,iVBORw0KGgo")).toBe(true);
  });
});
