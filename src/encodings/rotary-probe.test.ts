/**
 * The rotary path is direct: the trainable form builds its cos/sin tables from each rotary encoding's frequencies and
 * attention factor (`encoding.rotary`). This test holds those tables to the framework-free transform itself, read by
 * probing transformQK with unit vectors: for input (x_a, x_b) = (1, 0) of pair i, a rotation-scaling gives
 * out = (f cos, f sin); for (0, 1) it gives (-f sin, f cos); channels past the rotary dim pass through.
 */
import { describe, expect, it } from "vitest";
import { encodingRegistry } from "./registry.js";
import { ropeInverseFrequencies } from "./rope.js";
import type { PositionalEncoding, RotaryForm } from "./types.js";
import { yarnAttentionFactor } from "./yarn.js";

const HEAD_DIM = 12;
const EXTRA: Record<string, Record<string, unknown>> = {
  "rope-dynamic-ntk": { maxPositionEmbeddings: 4 },
  longrope: { originalMaxPositionEmbeddings: 4, factor: 4 },
  yarn: { factor: 4, originalMaxPositionEmbeddings: 4 },
  "randomized-rope": { maxPositions: 64 },
  "rope-base-bound": { contextLength: 64 },
  "p-rope": { p: 0.5 },
};

function pairChannels(rotary: RotaryForm, i: number): [number, number] {
  return rotary.layout === "half" ? [i, i + rotary.pairs] : [2 * i, 2 * i + 1];
}

/** Probe: rotate unit inputs (1, 0) or (0, 1) of every pair (1 in the pass-through channels) and read them back. */
function probe(encoding: PositionalEncoding, positions: number[], role: "query" | "key", unit: 0 | 1) {
  const rotary = encoding.rotary!;
  const T = positions.length;
  const x = new Float32Array(T * HEAD_DIM);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < rotary.pairs; i++) x[t * HEAD_DIM + pairChannels(rotary, i)[unit]] = 1;
    for (let c = 2 * rotary.pairs; c < HEAD_DIM; c++) x[t * HEAD_DIM + c] = 1;
  }
  encoding.transformQK!(x, positions, 1, HEAD_DIM, role);
  const a = new Float32Array(T * rotary.pairs);
  const b = new Float32Array(T * rotary.pairs);
  const rest: number[] = [];
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < rotary.pairs; i++) {
      const [ca, cb] = pairChannels(rotary, i);
      a[t * rotary.pairs + i] = x[t * HEAD_DIM + ca]!;
      b[t * rotary.pairs + i] = x[t * HEAD_DIM + cb]!;
    }
    for (let c = 2 * rotary.pairs; c < HEAD_DIM; c++) rest.push(x[t * HEAD_DIM + c]!);
  }
  return { a, b, rest };
}

/**
 * transformQK methods whose transform is not one cos/sin table per role (so no rotary form, and a trainable form of
 * their own): the reason for each.
 */
const NOT_ONE_TABLE: Record<string, string> = {
  "rope-plus-plus": "per-head tables: imaginary heads turn their queries by -pi/2",
  "hope-hyperbolic": "Lorentz boosts (cosh, sinh) are not rotations",
  dope: "RoPE whose denoised heads take Gaussian q, k (noise, not a rotation)",
};
// One coordinate per position; multi-coordinate rotary methods (rope-2d, the M-RoPE family: ids [T, k]) have no 1-D
// rotary form: their tests hold them to their authors' code and the trainable form to the framework-free one.
const rotarySpecs = encodingRegistry.filter(
  (s) => s.slots.includes("transformQK") && !(s.id in NOT_ONE_TABLE) && (s.positionCoordinates ?? 1) === 1,
);

describe("rotary tables equal the framework-free transform (unit-vector probing)", () => {
  it("every transformQK method of the registry has a rotary form", () => {
    expect(rotarySpecs.length).toBeGreaterThanOrEqual(12);
    for (const spec of rotarySpecs) {
      expect(spec.create({ headDim: HEAD_DIM, ...EXTRA[spec.id] }).rotary, spec.id).toBeDefined();
    }
    // The exceptions are real: no rotary form (the adapter would rotate with the wrong tables).
    for (const id of Object.keys(NOT_ONE_TABLE)) {
      const spec = encodingRegistry.find((s) => s.id === id)!;
      expect(spec.create({ headDim: HEAD_DIM }).rotary, id).toBeUndefined();
    }
  });

  for (const spec of rotarySpecs) {
    // Methods without a layout parameter (GRAPE: the official halves) are probed in the layout they use.
    const layouts = "layout" in spec.params ? (["half", "interleaved"] as const) : (["half"] as const);
    for (const layout of layouts) {
      it(`${spec.id} (${layout})`, () => {
        const params = {
          headDim: HEAD_DIM,
          ...("layout" in spec.params ? { layout } : {}),
          ...EXTRA[spec.id],
        };
        for (const positions of [
          [0, 1, 2, 3, 4, 5],
          [0, 3.5, 17, 40, 2, 9],
        ]) {
          for (const role of ["query", "key"] as const) {
            // A fresh instance per probe: dynamic methods follow the longest sequence seen (HF generation state).
            const tables = spec.create(params).rotary!.tables(positions, role);
            const cosSin = probe(spec.create(params), positions, role, 0);
            expect(cosSin.a, `${role} cos`).toEqual(tables.cos);
            expect(cosSin.b, `${role} sin`).toEqual(tables.sin);
            const rotated = probe(spec.create(params), positions, role, 1);
            expect(rotated.a, `${role} -sin`).toEqual(tables.sin.map((s) => 0 - s));
            expect(rotated.b, `${role} cos of (0, 1)`).toEqual(tables.cos);
            expect(rotated.rest.every((v) => v === 1)).toBe(true);
          }
        }
      });
    }
  }
});

describe("rotary frequencies are HF's (inv_freq, attention_factor)", () => {
  it("rope: base^(-2i/d), factor 1; partial rotary rotates floor(d * factor) channels", () => {
    const rope = encodingRegistry.find((s) => s.id === "rope")!;
    const full = rope.create({ headDim: HEAD_DIM, base: 500 }).rotary!.frequencies(10);
    expect(Array.from(full.invFreq)).toEqual(Array.from(ropeInverseFrequencies(HEAD_DIM, 500)));
    expect(full.attentionFactor).toBe(1);
    const partial = rope.create({ headDim: HEAD_DIM, partialRotaryFactor: 0.5 }).rotary!;
    expect(partial.pairs).toBe(3);
  });

  it("yarn: the attention factor 0.1 ln(s) + 1", () => {
    const yarn = encodingRegistry.find((s) => s.id === "yarn")!;
    const { attentionFactor } = yarn.create({ headDim: HEAD_DIM, factor: 4 }).rotary!.frequencies(10);
    expect(attentionFactor).toBeCloseTo(0.1 * Math.log(4) + 1, 12);
    expect(attentionFactor).toBe(yarnAttentionFactor({ factor: 4 }));
  });

  it("dynamic NTK: frequencies follow the sequence length, with no memory of earlier calls", () => {
    const ntk = encodingRegistry.find((s) => s.id === "rope-dynamic-ntk")!;
    const rotary = ntk.create({ headDim: HEAD_DIM, maxPositionEmbeddings: 4 }).rotary!;
    const short = rotary.frequencies(4).invFreq;
    const long = rotary.frequencies(64).invFreq;
    expect(long[1]!).toBeLessThan(short[1]!);
    expect(Array.from(rotary.frequencies(4).invFreq)).toEqual(Array.from(short));
  });
});
