/**
 * fast-check generators of file contents for the CLI fuzz test (test/cli/fuzz.test.ts): what a --config, --inputs
 * or --checkpoint points at, aimed at what each command reads, each a valid document with one key made hostile,
 * a plausible one with random numbers, or random JSON, text and bytes.
 */
import fc from "fast-check";
import { type FuzzFiles, HUGE_RANGE, hugeLength, OWNED_ELSEWHERE } from "./argv-fuzz.js";

/** Mutations of a valid config: one key set to a hostile value, deep in the tree or at the top. */
const HOSTILE = [
  -1,
  0,
  0.5,
  1e308,
  -1e308,
  1e-320,
  2 ** 53,
  HUGE_RANGE,
  "5..2",
  null,
  true,
  "x",
  [],
  {},
  [1, 2],
  { min: 1, max: 2 },
];

function mutate(value: unknown, path: readonly string[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [key, ...rest] = path;
  const object = value && typeof value === "object" ? { ...(value as Record<string, unknown>) } : {};
  object[key!] = mutate(object[key!], rest, replacement);
  return object;
}

const EXPERIMENT_KEYS = [
  ["name"],
  ["task"],
  ["task", "id"],
  ["task", "params"],
  ["task", "params", "vocabSize"],
  ["task", "layout"],
  ["model", "layers"],
  ["model", "dModel"],
  ["model", "heads"],
  ["encodings"],
  ["train", "length"],
  ["train", "steps"],
  ["train", "lr"],
  ["train", "batchSize"],
  ["eval", "length"],
  ["eval", "samplesPerLength"],
  ["seeds"],
  ["extra"],
];
const HF_KEYS = [
  ["hidden_size"],
  ["num_attention_heads"],
  ["head_dim"],
  ["rope_theta"],
  ["max_position_embeddings"],
  ["partial_rotary_factor"],
  ["rope_scaling"],
  ["rope_scaling", "rope_type"],
  ["rope_scaling", "factor"],
  ["rope_scaling", "original_max_position_embeddings"],
];

const HF_BASE = { hidden_size: 64, num_attention_heads: 4, max_position_embeddings: 128, rope_theta: 10000 };

/** A checkpoint sidecar's shape (the values matter less: every one may be made hostile). */
function sidecarOf(files: FuzzFiles): Record<string, unknown> {
  return {
    format: "posenc-checkpoint/1",
    weights: "weights-000006.safetensors",
    step: 6,
    optimizerStep: 6,
    config: files.tinyExperiment,
    encoding: { id: "rope", params: {} },
    seed: 0,
    lossHistory: [1, 1],
    tokensSeen: 10,
    trainSeconds: 1,
    rng: { scheme: "x" },
  };
}

const SIDECAR_KEYS = [
  ["format"],
  ["weights"],
  ["step"],
  ["config"],
  ["config", "model", "dModel"],
  ["encoding"],
  ["seed"],
];
const RESULTS_KEYS = [["format"], ["config"], ["runs"], ["rows"], ["shards"], ["name"]];

/**
 * Random contents for the per-run file, aimed at what `command` reads (an HF config for rope, an experiment
 * config for train and bench, a sidecar for eval, a results file for report) but also anything else: a valid
 * document with one key made hostile, random JSON, random text and random bytes. ext "dir" makes the file a
 * folder holding checkpoint.json with the text.
 */
export function fileContent(files: FuzzFiles, command: string): fc.Arbitrary<{ ext: string; text: string }> {
  const hostile = fc.oneof(fc.constantFrom(...HOSTILE), fc.jsonValue({ maxDepth: 2 }));
  const mutated = (base: Record<string, unknown>, keys: string[][]) =>
    fc
      .tuple(fc.constantFrom(...keys), hostile)
      .map(([path, value]) => JSON.stringify(mutate(base, path, value)));
  const experiment = fc
    .tuple(fc.constantFrom(...EXPERIMENT_KEYS), hostile)
    .filter(([path, value]) => !(path.includes("length") && hugeLength(value)))
    .map(([path, value]) => JSON.stringify(mutate(files.tinyExperiment, path, value)));
  const hf = fc
    .tuple(
      fc.constantFrom(...HF_KEYS),
      fc.oneof(hostile, fc.constantFrom("linear", "dynamic", "yarn", "llama3", "longrope", "default")),
    )
    .map(([path, value]) =>
      JSON.stringify(mutate({ ...HF_BASE, rope_scaling: { rope_type: "linear", factor: 2 } }, path, value)),
    );
  // Plausible HF configs: every rope type with numbers from tiny to large, negative and fractional included.
  const number = fc.oneof(
    fc.double({ min: -10, max: 1e6, noNaN: true }),
    fc.integer({ min: -4, max: 70000 }),
  );
  const ropeKeys: Record<string, string[]> = {
    default: [],
    linear: ["factor"],
    dynamic: ["factor"],
    yarn: ["factor", "original_max_position_embeddings", "beta_fast", "beta_slow", "attention_factor"],
    llama3: ["factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor"],
    longrope: [
      "factor",
      "original_max_position_embeddings",
      "short_factor",
      "long_factor",
      "attention_factor",
    ],
  };
  const plausibleHf = fc
    .record({
      type: fc.constantFrom(...Object.keys(ropeKeys)),
      values: fc.dictionary(fc.constantFrom(...new Set(Object.values(ropeKeys).flat())), number),
      factors: fc.array(number, { minLength: 1, maxLength: 8 }),
      heads: fc.constantFrom(1, 2, 3, 4),
      theta: number,
    })
    .map(({ type, values, factors, heads, theta }) => {
      const rope: Record<string, unknown> = { rope_type: type };
      for (const key of ropeKeys[type]!) {
        rope[key] =
          key.endsWith("_factor") && key.startsWith("s")
            ? factors
            : key === "long_factor"
              ? factors
              : values[key];
      }
      return JSON.stringify({
        ...HF_BASE,
        num_attention_heads: heads,
        rope_theta: theta,
        rope_scaling: rope,
      });
    });
  const plausibleExperiment = fc
    .record({
      encodings: fc.subarray(
        ["rope", "alibi", "nope", "t5", "fire", "kerple-log", "xpos", "randomized-rope"],
        { minLength: 1 },
      ),
      trainMax: fc.integer({ min: -1, max: 12 }),
      evalMax: fc.integer({ min: -1, max: 16 }),
      heads: fc.constantFrom(1, 2, 3, 4),
      dModel: fc.constantFrom(4, 6, 8, 16),
    })
    .map(({ encodings, trainMax, evalMax, heads, dModel }) =>
      JSON.stringify({
        ...files.tinyExperiment,
        model: { layers: 1, dModel, heads },
        encodings: encodings.map((id) => ({ id })),
        train: { length: `1..${trainMax}`, steps: 2, batchSize: 2 },
        eval: { length: `1..${evalMax}`, samplesPerLength: 2 },
      }),
    );
  const sidecar = mutated(sidecarOf(files), SIDECAR_KEYS);
  const results = mutated(
    {
      format: "posenc-results/1",
      name: "tiny",
      config: files.tinyExperiment,
      shards: [{ index: 1, count: 1 }],
      runs: [],
      rows: [],
    },
    RESULTS_KEYS,
  );
  const aimed =
    {
      rope: fc.oneof(hf, plausibleHf),
      extend: fc.oneof(hf, plausibleHf),
      train: fc.oneof(experiment, plausibleExperiment),
      bench: fc.oneof(experiment, plausibleExperiment),
      eval: OWNED_ELSEWHERE.sidecarContents ? fc.constant("{}") : sidecar,
      report: OWNED_ELSEWHERE.resultsContents ? fc.constant("{}") : results,
    }[command] ?? hf;
  return fc.record({
    ext:
      command === "eval" && !OWNED_ELSEWHERE.sidecarContents
        ? fc.constantFrom("dir", "dir", "json")
        : fc.constantFrom("json", "json", "json", "yaml", "txt"),
    text: fc.oneof(
      { arbitrary: aimed, weight: 4 },
      { arbitrary: fc.oneof(experiment, hf), weight: 1 },
      { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)), weight: 1 },
      { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
      {
        arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
        weight: 1,
      },
    ),
  });
}
