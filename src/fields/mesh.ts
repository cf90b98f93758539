/**
 * Surface extraction and mesh output for 3-D SDFs.
 *
 * Marching tetrahedra (Doi and Koide 1991; Bloomenthal's polygonizer): every grid cube is split into six
 * tetrahedra around its main diagonal, and each tetrahedron with a sign change gets one or two triangles whose
 * vertices interpolate the SDF linearly along its edges. Vertices are shared between cells through their edge, so
 * the mesh of a closed surface is watertight (every edge in exactly two triangles; tested on a sphere with
 * V - E + F = 2). Triangles face the positive side (outward).
 * Why not a package: the npm marching-cubes packages (isosurface 1.0, 2013; surface-nets) are unmaintained and
 * untyped; marching tetrahedra needs no 256-case table, so ~100 tested lines are smaller than a dependency.
 *
 * Also: PLY (ASCII) and OBJ writers, and a z-buffer renderer (orthographic, Lambert shading) for the report.
 */

export interface Mesh {
  /** [x, y, z] per vertex, flat. */
  vertices: number[];
  /** Three vertex indices per triangle, flat. */
  triangles: number[];
}

// Cube corners (i, j, k) in {0,1}^3 as index 4i + 2j + k; six tetrahedra sharing the diagonal 0 - 7.
const TETRAHEDRA: readonly [number, number, number, number][] = [
  [0, 7, 1, 3],
  [0, 7, 3, 2],
  [0, 7, 2, 6],
  [0, 7, 6, 4],
  [0, 7, 4, 5],
  [0, 7, 5, 1],
];

/** Marching tetrahedra over samples on n^3 grid points covering [lo, hi]^3 (axis 0 slowest, as shapes.ts). */
export function marchingTetrahedra(values: ArrayLike<number>, n: number, lo = -1, hi = 1): Mesh {
  const step = (hi - lo) / (n - 1);
  const vertices: number[] = [];
  const triangles: number[] = [];
  const edgeVertex = new Map<number, number>();
  const total = n * n * n;
  const position = (g: number, j: number) =>
    lo + step * (j === 0 ? Math.floor(g / (n * n)) : j === 1 ? Math.floor(g / n) % n : g % n);
  const vertexOn = (a: number, b: number): number => {
    const key = a < b ? a * total + b : b * total + a;
    const known = edgeVertex.get(key);
    if (known !== undefined) return known;
    const t = values[a] / (values[a] - values[b]);
    const index = vertices.length / 3;
    for (let j = 0; j < 3; j++) vertices.push(position(a, j) + t * (position(b, j) - position(a, j)));
    edgeVertex.set(key, index);
    return index;
  };
  const emit = (tri: number[], inside: number[], outside: number[]) => {
    // Orient the triangle so its normal points from the inside samples to the outside ones.
    const p = tri.map((v) => [vertices[3 * v], vertices[3 * v + 1], vertices[3 * v + 2]]);
    const u = [0, 1, 2].map((j) => p[1][j] - p[0][j]);
    const w = [0, 1, 2].map((j) => p[2][j] - p[0][j]);
    const normal = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
    const centre = (gs: number[], j: number) => gs.reduce((s, g) => s + position(g, j), 0) / gs.length;
    const out = [0, 1, 2].map((j) => centre(outside, j) - centre(inside, j));
    const dot = normal[0] * out[0] + normal[1] * out[1] + normal[2] * out[2];
    triangles.push(...(dot >= 0 ? tri : [tri[0], tri[2], tri[1]]));
  };
  for (let i = 0; i + 1 < n; i++) {
    for (let j = 0; j + 1 < n; j++) {
      for (let k = 0; k + 1 < n; k++) {
        const corner = (c: number) => (i + (c >> 2)) * n * n + (j + ((c >> 1) & 1)) * n + (k + (c & 1));
        for (const tet of TETRAHEDRA) {
          const g = tet.map(corner);
          const inside = g.filter((v) => values[v] < 0);
          const outside = g.filter((v) => !(values[v] < 0));
          if (inside.length === 0 || outside.length === 0) continue;
          if (inside.length === 1 || outside.length === 1) {
            const [lone, others] = inside.length === 1 ? [inside[0], outside] : [outside[0], inside];
            emit(
              others.map((o) => vertexOn(lone, o)),
              inside,
              outside,
            );
          } else {
            const [a, b] = inside;
            const [c, d] = outside;
            const ac = vertexOn(a, c);
            const ad = vertexOn(a, d);
            const bc = vertexOn(b, c);
            const bd = vertexOn(b, d);
            emit([ac, ad, bd], inside, outside);
            emit([ac, bd, bc], inside, outside);
          }
        }
      }
    }
  }
  return { vertices, triangles };
}

export function toPly(mesh: Mesh): string {
  const v = mesh.vertices.length / 3;
  const f = mesh.triangles.length / 3;
  const lines = [
    "ply",
    "format ascii 1.0",
    `element vertex ${v}`,
    "property float x",
    "property float y",
    "property float z",
    `element face ${f}`,
    "property list uchar int vertex_indices",
    "end_header",
  ];
  for (let i = 0; i < v; i++)
    lines.push(
      mesh.vertices
        .slice(3 * i, 3 * i + 3)
        .map((x) => x.toFixed(6))
        .join(" "),
    );
  for (let i = 0; i < f; i++) lines.push(`3 ${mesh.triangles.slice(3 * i, 3 * i + 3).join(" ")}`);
  return `${lines.join("\n")}\n`;
}

export function toObj(mesh: Mesh): string {
  const lines: string[] = [];
  for (let i = 0; i < mesh.vertices.length; i += 3)
    lines.push(
      `v ${mesh.vertices
        .slice(i, i + 3)
        .map((x) => x.toFixed(6))
        .join(" ")}`,
    );
  for (let i = 0; i < mesh.triangles.length; i += 3)
    lines.push(
      `f ${mesh.triangles
        .slice(i, i + 3)
        .map((t) => t + 1)
        .join(" ")}`,
    );
  return `${lines.join("\n")}\n`;
}

/**
 * Renders a mesh to RGB pixels [size, size, 3] in [0, 1]: rotate (yaw about y, then pitch about x), orthographic
 * projection of [-1, 1]^2 onto the image, z-buffer, Lambert shading |n . l| with a grey ambient term.
 */
export function renderMesh(mesh: Mesh, size: number, yaw = 0.6, pitch = 0.45): Float64Array {
  const image = new Float64Array(size * size * 3).fill(1);
  const depth = new Float64Array(size * size).fill(Number.NEGATIVE_INFINITY);
  const [cy, sy, cp, sp] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch)];
  const rotated: number[] = [];
  for (let i = 0; i < mesh.vertices.length; i += 3) {
    const [x, y, z] = mesh.vertices.slice(i, i + 3);
    const x1 = cy * x + sy * z;
    const z1 = -sy * x + cy * z;
    rotated.push(x1, cp * y - sp * z1, sp * y + cp * z1);
  }
  const light = [0.4, 0.6, 0.7];
  const lightNorm = Math.hypot(...light);
  const px = (v: number) => ((v + 1) / 2) * size;
  for (let t = 0; t < mesh.triangles.length; t += 3) {
    const p = [0, 1, 2].map((k) => rotated.slice(3 * mesh.triangles[t + k], 3 * mesh.triangles[t + k] + 3));
    const u = [0, 1, 2].map((j) => p[1][j] - p[0][j]);
    const w = [0, 1, 2].map((j) => p[2][j] - p[0][j]);
    const nrm = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
    const len = Math.hypot(...nrm) || 1;
    const shade =
      0.25 + 0.75 * Math.abs((nrm[0] * light[0] + nrm[1] * light[1] + nrm[2] * light[2]) / (len * lightNorm));
    const sx = p.map((q) => px(q[0]));
    const syy = p.map((q) => px(-q[1]));
    const area = (sx[1] - sx[0]) * (syy[2] - syy[0]) - (sx[2] - sx[0]) * (syy[1] - syy[0]);
    if (area === 0) continue;
    const x0 = Math.max(0, Math.floor(Math.min(...sx)));
    const x1 = Math.min(size - 1, Math.ceil(Math.max(...sx)));
    const y0 = Math.max(0, Math.floor(Math.min(...syy)));
    const y1 = Math.min(size - 1, Math.ceil(Math.max(...syy)));
    for (let yy = y0; yy <= y1; yy++) {
      for (let xx = x0; xx <= x1; xx++) {
        const cx = xx + 0.5;
        const cyy = yy + 0.5;
        const b1 = ((cx - sx[0]) * (syy[2] - syy[0]) - (sx[2] - sx[0]) * (cyy - syy[0])) / area;
        const b2 = ((sx[1] - sx[0]) * (cyy - syy[0]) - (cx - sx[0]) * (syy[1] - syy[0])) / area;
        const b0 = 1 - b1 - b2;
        if (b0 < 0 || b1 < 0 || b2 < 0) continue;
        const z = b0 * p[0][2] + b1 * p[1][2] + b2 * p[2][2];
        const k = yy * size + xx;
        if (z <= depth[k]) continue;
        depth[k] = z;
        image[3 * k] = 0.55 * shade + 0.1;
        image[3 * k + 1] = 0.65 * shade + 0.1;
        image[3 * k + 2] = 0.85 * shade + 0.1;
      }
    }
  }
  return image;
}
