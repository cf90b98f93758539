/**
 * Data flows one way (the project charter): a lower layer never imports an upper one.
 *   util < engine < encodings < model < tasks < lab < fields < cli   (src/index.ts, the package entry, is above all)
 * The engine knows nothing of positions (it imports util only); encodings use the engine for their trainable forms.
 * Every .ts file under src/ is checked, test files included (a test lives in its layer too): static imports,
 * re-exports and dynamic imports with a literal path.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(new URL(import.meta.url).pathname), "../../src");

/** Rank of each top-level folder of src/; an import may only go to an equal or lower rank. */
const LAYERS: Record<string, number> = {
  util: 0,
  engine: 1,
  encodings: 2,
  model: 3,
  tasks: 4,
  lab: 5,
  // Neural fields (coordinate encodings on images and shapes): their own lab, built on the lab's files and progress.
  fields: 5.5,
  cli: 6,
  "index.ts": 7,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function layerOf(file: string): string {
  return relative(SRC, file).split(sep)[0]!;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** Relative imports of a file, resolved to absolute paths. */
function relativeImports(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith(".")) out.push(resolve(dirname(file), spec));
  }
  return out;
}

describe("layering of src/", () => {
  const files = sourceFiles(SRC);

  it("every top-level folder of src/ has a layer", () => {
    const unknown = [...new Set(files.map(layerOf))].filter((layer) => !(layer in LAYERS));
    expect(unknown, "add the folder to LAYERS in test/architecture/layers.test.ts").toEqual([]);
  });

  it("no file imports a higher layer", () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const target of relativeImports(file, readFileSync(file, "utf8"))) {
        if (!target.startsWith(SRC + sep)) continue;
        const to = layerOf(target);
        if ((LAYERS[to] ?? -1) > (LAYERS[from] ?? -1)) {
          violations.push(`${relative(SRC, file)} imports ${relative(SRC, target)}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it("the check sees imports: a model import from the engine would be flagged", () => {
    const file = join(SRC, "engine", "x.ts");
    const text =
      'import { a } from "../model/transformer.js";\nexport { b } from "./tensor.js";\nconst m = import("../lab/job.js");';
    const targets = relativeImports(file, text).map((t) => relative(SRC, t));
    expect(targets).toEqual([
      join("model", "transformer.js"),
      join("engine", "tensor.js"),
      join("lab", "job.js"),
    ]);
    expect(LAYERS.model! > LAYERS.engine!).toBe(true);
  });
});
