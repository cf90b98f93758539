import { describe, expect, it } from "vitest";
import { PosencConfigError } from "../util/validation.js";
import { renderEncodingCatalog } from "./catalog.js";
import { encodingRegistry, getEncoding } from "./registry.js";
import { resolveParams } from "./types.js";

describe("encoding registry", () => {
  it("has unique kebab-case ids and a paper with an arXiv id for every method", () => {
    const ids = encodingRegistry.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const spec of encodingRegistry) {
      expect(spec.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(spec.paper.arxiv).toMatch(/^\d{4}\.\d{4,5}$/);
      expect(spec.paper.title.length).toBeGreaterThan(5);
      expect(spec.formula.length).toBeGreaterThan(5);
      // Only NoPE fills no slot: it is the absence of positional information.
      if (spec.id !== "nope") expect(spec.slots.length).toBeGreaterThan(0);
    }
  });

  it("builds every method from its defaults, filling the slots it declares", () => {
    for (const spec of encodingRegistry) {
      const encoding = spec.create({});
      expect(encoding.id).toBe(spec.id);
      for (const slot of spec.slots) {
        // Trainable only: the content-aware slot and the layer-input / value slots.
        if (slot === "contextual" || slot === "layerInput" || slot === "transformValues") continue;
        if (slot === "transformOutput") continue;
        expect(typeof encoding[slot], `${spec.id}.${slot}`).toBe("function");
      }
      // The resolved params are exactly the schema's keys.
      expect(Object.keys(resolveParams(spec.id, spec.params, {})).sort()).toEqual(
        Object.keys(spec.params).sort(),
      );
    }
  });

  it("rejects unknown parameters naming the method, the key and the valid keys", () => {
    for (const spec of encodingRegistry) {
      expect(() => spec.create({ bogusKey: 1 })).toThrow(PosencConfigError);
      expect(() => spec.create({ bogusKey: 1 })).toThrow(new RegExp(`${spec.id}\\.bogusKey`));
    }
  });

  it("names the valid ids for an unknown id", () => {
    expect(() => getEncoding("spiral")).toThrow(
      /Invalid encoding: expected one of .*"rope".*received "spiral"/,
    );
  });

  it("renders a catalogue entry for every method", () => {
    const page = renderEncodingCatalog(encodingRegistry);
    for (const spec of encodingRegistry) {
      expect(page).toContain(`### ${spec.id}`);
      expect(page).toContain(`arXiv:${spec.paper.arxiv}`);
    }
  });
});
