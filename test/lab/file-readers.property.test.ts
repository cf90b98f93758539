/**
 * Every file reader of the lab fed random bytes, random JSON and randomly edited valid files (fast-check): each
 * call returns a result or throws ONE PosencConfigError of one line, never another exception, never a hang
 * (sizes are bounded; vitest's timeout catches a hang). Readers: experiment configs (JSON and YAML text),
 * checkpoint sidecars, safetensors weights (decoded, then loaded into a model), results.json and job result.json,
 * and the same readers through files on disk.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { loadCheckpointInto, parseSidecar, readSidecar } from "../../src/lab/checkpoint.js";
import { checkExperimentConfig, loadExperimentConfig, parseConfigText } from "../../src/lab/config-file.js";
import { runJob } from "../../src/lab/job.js";
import { renderHtml, renderMarkdown } from "../../src/lab/report/index.js";
import { parseJobResult, parseResultsFile, readResultsFile } from "../../src/lab/results-file.js";
import { decodeSafetensors } from "../../src/lab/safetensors.js";
import { runGrid } from "../../src/lab/sweep.js";
import { buildRunModel } from "../../src/lab/train.js";
import { PosencConfigError } from "../../src/util/validation.js";

vi.setConfig({ testTimeout: 60_000 });
const RUNS = Number(process.env.POSENC_FUZZ_RUNS ?? 150);

/** A result, or one PosencConfigError of one line; anything else fails the property. */
function resultOrOneLine(read: () => unknown): void {
  try {
    read();
  } catch (error) {
    if (!(error instanceof PosencConfigError)) throw error;
    expect(error.message).not.toMatch(/[\n\r]/);
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Every path into a JSON tree (the root excluded). */
function pathsOf(value: Json, prefix: Path = []): Path[] {
  if (value === null || typeof value !== "object") return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => {
    const path = [...prefix, k];
    return [path, ...pathsOf((value as Record<string | number, Json>)[k] as Json, path)];
  });
}

/** A valid JSON file with one value replaced by random JSON, or deleted. */
function edited(valid: Json): fc.Arbitrary<Json> {
  const paths = pathsOf(valid);
  return fc
    .tuple(
      fc.nat({ max: paths.length - 1 }),
      fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined, freq: 4 }),
      fc.boolean(),
    )
    .map(([i, value, second]) => {
      const copy = structuredClone(valid) as Record<string | number, Json>;
      const path = paths[i] as Path;
      let parent = copy;
      for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
      const last = path[path.length - 1] as string | number;
      if (value === undefined) {
        if (Array.isArray(parent)) parent.splice(last as number, 1);
        else delete parent[last];
      } else parent[last] = value as Json;
      // Sometimes a second edit of the same kind, on a still valid path of the original.
      if (second && Array.isArray(parent) && parent.length > 0) parent.push(parent[0] as Json);
      return copy as Json;
    });
}

const anyJson = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>;

// Valid files to edit: a tiny trained run (checkpoint, result.json) and a grid's results.json.
const scratch = mkdtempSync(join(tmpdir(), "posenc-readers-"));
const rawConfig = {
  name: "fuzz",
  task: { id: "reverse", params: { vocabSize: 4 } },
  model: { layers: 1, dModel: 8, heads: 2 },
  encodings: [{ id: "rope" }, { id: "t5" }],
  train: { length: "1..3", steps: 2, batchSize: 2, checkpointEvery: 0 },
  eval: { length: "1..4", samplesPerLength: 2 },
  seeds: [0],
};
const config = checkExperimentConfig(rawConfig);
const jobDir = join(scratch, "job");
const gridDir = join(scratch, "grid");
const ready = (async () => {
  await runJob(config, { index: 0, encodingIndex: 1, seed: 0 }, { jobDir });
  await runGrid(config, { outDir: gridDir });
})();
const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Json;

describe("experiment configs", () => {
  it("random text as JSON or YAML, with no warning printed either", () => {
    const warnings = vi.spyOn(process, "emitWarning");
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.constantFrom("c.json", "c.yaml"), (text, name) =>
        resultOrOneLine(() => checkExperimentConfig(parseConfigText(name, text))),
      ),
      { numRuns: RUNS },
    );
    expect(warnings).not.toHaveBeenCalled();
    warnings.mockRestore();
  });
  it("random JSON and edited valid configs", () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, edited(rawConfig as unknown as Json)), (input) =>
        resultOrOneLine(() => checkExperimentConfig(input)),
      ),
      { numRuns: RUNS * 2 },
    );
  });
});

describe("checkpoint sidecars and weights", () => {
  it("random JSON and edited valid sidecars", async () => {
    await ready;
    const valid = read(join(jobDir, "checkpoint.json"));
    fc.assert(
      fc.property(fc.oneof(anyJson, edited(valid), edited(valid)), (input) =>
        resultOrOneLine(() => parseSidecar("checkpoint.json", input)),
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it("random bytes, random headers and damaged valid weights, decoded and loaded into the model", async () => {
    await ready;
    const sidecar = readSidecar(jobDir);
    if (!sidecar) throw new Error("no checkpoint");
    const valid = new Uint8Array(readFileSync(join(jobDir, sidecar.weights)));
    const { model } = buildRunModel({ config, encoding: sidecar.encoding, seed: 0 });
    const params = model.parameters();
    const header = (json: Json, tail: Uint8Array) => {
      const text = new TextEncoder().encode(JSON.stringify(json));
      const bytes = new Uint8Array(8 + text.length + tail.length);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
      bytes.set(text, 8);
      bytes.set(tail, 8 + text.length);
      return bytes;
    };
    const damaged = fc
      .array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      })
      .chain((flips) =>
        fc.nat({ max: valid.length }).map((cut) => {
          const bytes = valid.slice(0, Math.max(cut, valid.length - 64));
          for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
          return bytes;
        }),
      );
    const tensorish = fc.dictionary(
      fc.string({ maxLength: 6 }),
      fc.record({
        dtype: fc.constantFrom("F32", "F64", "I32", "U8", "BF16", 3),
        shape: fc.array(fc.integer({ min: -2, max: 2 ** 40 }), { maxLength: 3 }),
        data_offsets: fc.array(fc.integer({ min: -4, max: 80 }), { maxLength: 3 }),
      }) as fc.Arbitrary<Json>,
      { maxKeys: 3 },
    );
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 96 }),
      fc
        .tuple(fc.oneof(anyJson, tensorish), fc.uint8Array({ maxLength: 64 }))
        .map(([json, tail]) => header(json, tail)),
      damaged,
    );
    fc.assert(
      fc.property(bytes, (file) => {
        resultOrOneLine(() => decodeSafetensors(file, "w.safetensors"));
        writeFileSync(join(jobDir, sidecar.weights), file);
        resultOrOneLine(() => loadCheckpointInto(jobDir, sidecar, params));
      }),
      { numRuns: RUNS * 2 },
    );
    writeFileSync(join(jobDir, sidecar.weights), valid);
  });
});

describe("results files", () => {
  it("random JSON and edited valid results.json (rendered when accepted) and job result.json", async () => {
    await ready;
    const results = read(join(gridDir, "results.json"));
    const job = read(join(jobDir, "result.json"));
    fc.assert(
      fc.property(fc.oneof(anyJson, edited(results), edited(results)), (input) =>
        resultOrOneLine(() => {
          // What is accepted also renders: every report of it, without an exception.
          const file = parseResultsFile("results.json", input);
          renderMarkdown(file);
          renderHtml(file);
        }),
      ),
      { numRuns: RUNS * 2 },
    );
    fc.assert(
      fc.property(fc.oneof(anyJson, edited(job)), (input) =>
        resultOrOneLine(() => parseJobResult("result.json", input)),
      ),
      { numRuns: RUNS },
    );
  });
});

describe("the same readers through files on disk", () => {
  it("random bytes as a config, a sidecar and a results file", async () => {
    await ready;
    const dir = mkdtempSync(join(scratch, "disk-"));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), (bytes) => {
        for (const name of ["c.json", "c.yaml", "checkpoint.json", "results.json"])
          writeFileSync(join(dir, name), bytes);
        resultOrOneLine(() => loadExperimentConfig(join(dir, "c.json")));
        resultOrOneLine(() => loadExperimentConfig(join(dir, "c.yaml")));
        resultOrOneLine(() => readSidecar(dir));
        resultOrOneLine(() => readResultsFile(join(dir, "results.json")));
      }),
      { numRuns: RUNS / 3 },
    );
  });
});
