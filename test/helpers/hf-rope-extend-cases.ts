/**
 * The cases of test/fixtures/hf-rope-extend.json: `posenc extend` blocks on the shipped example configs (and a
 * v5 form of Qwen2), plus the per-layer-type example as it ships. scripts/hf-rope-extend-cases.ts writes them
 * (config and seq len) for test/fixtures/hf-rope-reference.py, which adds HF's frequencies; the test rebuilds
 * each block and checks it is the fixture's config.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  applyRopePatch,
  type RopeExtensionMethod,
  ropeExtensionBlock,
} from "../../src/encodings/rope-config-extension.js";

const root = resolve(import.meta.dirname, "../..");

export function readExample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(resolve(root, "examples", name), "utf8"));
}

/** Qwen2's example in transformers v5 form: rope_theta inside rope_parameters. */
export function qwen2V5(): Record<string, unknown> {
  const { rope_scaling: scaling, rope_theta: theta, ...rest } = readExample("qwen2-yarn.config.json");
  const { type, ...keys } = scaling as Record<string, unknown>;
  return { ...rest, rope_parameters: { rope_type: type, rope_theta: theta, ...keys } };
}

export interface ExtendCase {
  name: string;
  /** How the config was made: an example (or "qwen2-v5"), and the extend call applied to it (none: as shipped). */
  source: { example: string; method?: RopeExtensionMethod; target?: number; layerTypes?: string[] };
  config: Record<string, unknown>;
  seq_len: number | null;
  layer_type: string | null;
}

/** A searched-looking LongRoPE factor list: 1 for the fast pairs, rising to s for the slowest. */
export function longropeFactors(pairs: number, scale: number): number[] {
  return Array.from({ length: pairs }, (_, i) => 1 + (scale - 1) * (i / (pairs - 1)) ** 2);
}

export function sourceConfig(example: string): Record<string, unknown> {
  return example === "qwen2-v5" ? qwen2V5() : readExample(example);
}

export function buildExtendCase(source: ExtendCase["source"], layerType?: string): ExtendCase {
  const base = sourceConfig(source.example);
  const { method, target } = source;
  let config = base;
  if (method && target) {
    const block = ropeExtensionBlock(base, {
      method,
      target,
      layerTypes: source.layerTypes,
      longrope: method === "longrope" ? { longFactor: longropeFactors(64, 8) } : undefined,
    });
    config = applyRopePatch(base, block.patch);
  }
  const name = `${source.example}/${method ?? "as-shipped"}${target ? `-${target}` : ""}${layerType ? `/${layerType}` : ""}`;
  return { name, source, config, seq_len: target ?? null, layer_type: layerType ?? null };
}

const METHODS: RopeExtensionMethod[] = ["pi", "ntk", "dynamic", "yarn", "llama3", "longrope", "abf"];

export function extendCases(): ExtendCase[] {
  const cases: ExtendCase[] = [];
  for (const [example, targets] of [
    ["llama-3.1-8b.config.json", [32768, 131072]],
    ["qwen2-yarn.config.json", [65536, 131072]],
    ["qwen2-v5", [131072]],
  ] as const) {
    for (const target of targets) {
      for (const method of METHODS) cases.push(buildExtendCase({ example, method, target }));
    }
  }
  const hybrid = "gemma3-hybrid.config.json";
  for (const layerType of ["full_attention", "sliding_attention"]) {
    cases.push(buildExtendCase({ example: hybrid }, layerType));
    for (const method of ["pi", "yarn", "dynamic"] as const) {
      const source = { example: hybrid, method, target: 65536, layerTypes: ["full_attention"] };
      cases.push(buildExtendCase(source, layerType));
    }
  }
  return cases;
}
