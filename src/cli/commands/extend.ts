/**
 * `posenc extend`: the Hugging Face rope block each context-extension method would use to run a model at a target
 * context (src/encodings/rope-config-extension.ts), each checked by a strict read-back at the target length, with
 * an SVG of the per-pair frequency scaling against the original and the RoPE base lower bound for the target.
 */
import { ropeLayerTypes } from "../../encodings/rope-config.js";
import {
  extensionBaseBound,
  type LongropeFactors,
  NOT_HF_EXPRESSIBLE,
  ROPE_EXTENSION_METHODS,
  type RopeExtensionBlock,
  type RopeExtensionMethod,
  ropeExtensionBlock,
  ropeExtensionOrigin,
} from "../../encodings/rope-config-extension.js";
import { writeFileAtomic } from "../../lab/files.js";
import { type Command, parseIntegerFlag, requireFlag } from "../args.js";
import { UsageError } from "../errors.js";
import { checkOutputFile, readJsonFile } from "../io.js";
import { renderScalingChart, type ScalingCurve } from "./extend-chart.js";

const NAME = "extend";
const fail = (message: string): never => {
  throw new UsageError(`posenc ${NAME}: ${message}`);
};

function parseMethods(text: string | undefined): RopeExtensionMethod[] {
  if (text === undefined) return [...ROPE_EXTENSION_METHODS];
  const methods = text.split(",").map((m) => m.trim());
  for (const method of methods) {
    if (!(ROPE_EXTENSION_METHODS as readonly string[]).includes(method)) {
      const why = NOT_HF_EXPRESSIBLE[method];
      fail(
        `--method ${method}: ${why ? `${why}, so no config.json can hold it; ` : ""}valid methods are ${ROPE_EXTENSION_METHODS.join(", ")} (comma-separated for several)`,
      );
    }
  }
  return [...new Set(methods)] as RopeExtensionMethod[];
}

function parsePositiveNumber(flag: string, text: string, what: string): number {
  const value = /^\s*[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?\s*$/i.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || value <= 1) fail(`--${flag} must be ${what}, received "${text}"`);
  return value;
}

/** LongRoPE factors from a lab result file: {longFactor, shortFactor?} (or HF's long_factor, short_factor). */
export function readLongropeFactors(path: string): LongropeFactors {
  const flag = "--longrope-factors";
  const data = readJsonFile(flag, path);
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    fail(`${flag} ${path}: expected a JSON object with longFactor (and optionally shortFactor)`);
  }
  const d = data as Record<string, unknown>;
  const longFactor = d.longFactor ?? d.long_factor;
  const shortFactor = d.shortFactor ?? d.short_factor;
  const numbers = (key: string, value: unknown): number[] => {
    if (!Array.isArray(value) || value.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
      return fail(
        `${flag} ${path}: ${key} must be a list of finite numbers, received ${JSON.stringify(value)?.slice(0, 80)}`,
      );
    }
    return value as number[];
  };
  if (longFactor === undefined)
    fail(`${flag} ${path}: missing longFactor (one searched factor per rotary pair)`);
  return {
    longFactor: numbers("longFactor", longFactor),
    shortFactor: shortFactor === undefined ? undefined : numbers("shortFactor", shortFactor),
  };
}

const LONGROPE_SKIPPED =
  "not written: LongRoPE's factors come from a search on the model; pass --longrope-factors FILE (a lab result)";

export const extendCommand: Command = {
  name: NAME,
  summary:
    "Print the Hugging Face rope block each context-extension method (PI, NTK, dynamic NTK, YaRN, Llama 3, LongRoPE, ABF)\nwould use to run a config.json at a target context, each checked by a strict read-back at that length.",
  usage:
    "posenc extend --config FILE (--target N | --factor F) [--method pi|ntk|dynamic|yarn|llama3|longrope|abf] [--layer-type NAME] [--longrope-factors FILE] [--base B] [--json] [--svg FILE [--force]]",
  flags: {
    config: { type: "string", description: "Path of a Hugging Face config.json", valueName: "FILE" },
    target: {
      type: "string",
      description: "Target context in tokens (> the trained context)",
      valueName: "N",
    },
    factor: {
      type: "string",
      description: "Or the scale s = target / trained context (> 1; s x trained must be whole)",
      valueName: "F",
    },
    method: {
      type: "string",
      description: `One or more of ${ROPE_EXTENSION_METHODS.join(", ")}, comma-separated (default: all)`,
      valueName: "M",
    },
    "layer-type": {
      type: "string",
      description: "Per-layer-type configs: extend only this layer type (default: every one)",
      valueName: "NAME",
    },
    "longrope-factors": {
      type: "string",
      description: "LongRoPE's searched factors: a JSON lab result with longFactor (and shortFactor)",
      valueName: "FILE",
    },
    base: {
      type: "string",
      description: "ABF's new rope_theta (default: the RoPE base lower bound for the target)",
      valueName: "B",
    },
    json: { type: "boolean", description: "Print the blocks and their frequencies as JSON" },
    svg: {
      type: "string",
      description: "Write the per-pair frequency scaling chart to FILE",
      valueName: "FILE",
    },
    force: { type: "boolean", description: "Replace the --svg file if it exists" },
  },
  run(values) {
    const path = requireFlag(NAME, values, "config", "FILE (a Hugging Face config.json)");
    const hasTarget = typeof values.target === "string";
    const hasFactor = typeof values.factor === "string";
    if (hasTarget === hasFactor) fail("give exactly one of --target N and --factor F");
    const methods = parseMethods(values.method as string | undefined);
    const svgPath = typeof values.svg === "string" ? values.svg : undefined;
    if (svgPath !== undefined) checkOutputFile(NAME, "svg", svgPath, values.force === true);
    const abfBase =
      typeof values.base === "string" ? parsePositiveNumber("base", values.base, "a number > 1") : undefined;
    const longropePath = values["longrope-factors"];
    const longrope = typeof longropePath === "string" ? readLongropeFactors(longropePath) : undefined;
    if (methods.length === 1 && methods[0] === "longrope" && !longrope)
      fail(`--method longrope: ${LONGROPE_SKIPPED}`);

    const config = readJsonFile("--config", path) as object;
    const layerType = typeof values["layer-type"] === "string" ? values["layer-type"] : undefined;
    const allLayerTypes = ropeLayerTypes(config, { strict: true });
    if (layerType !== undefined && !allLayerTypes) {
      fail(`--layer-type ${layerType}: ${path} has one rope dict for every layer, not one per layer type`);
    }
    const layerTypes = layerType === undefined ? undefined : [layerType];
    if (allLayerTypes && layerType === undefined) {
      const contexts = allLayerTypes.map(
        (name) => `${name} ${ropeExtensionOrigin(config, name).originalContext}`,
      );
      if (new Set(contexts.map((c) => c.split(" ")[1])).size > 1) {
        fail(
          `${path}: its layer types were trained for different contexts (${contexts.join(", ")}); choose one with --layer-type NAME`,
        );
      }
    }
    const origin = ropeExtensionOrigin(config, layerType ?? allLayerTypes?.[0]);
    const l0 = origin.originalContext;
    let target: number;
    if (hasTarget) {
      target = parseIntegerFlag(NAME, "target", values.target as string, l0 + 1, Number.MAX_SAFE_INTEGER);
    } else {
      const factor = parsePositiveNumber("factor", values.factor as string, "a number > 1");
      target = factor * l0;
      if (!Number.isSafeInteger(target)) {
        fail(
          `--factor ${values.factor}: ${values.factor} x ${l0} (the trained context) = ${target} is not a whole number of tokens; use --target`,
        );
      }
    }

    const blocks: RopeExtensionBlock[] = [];
    const skipped: Record<string, string> = {};
    for (const method of methods) {
      if (method === "longrope" && !longrope) {
        skipped.longrope = LONGROPE_SKIPPED;
        continue;
      }
      blocks.push(ropeExtensionBlock(config, { method, target, layerTypes, longrope, abfBase }));
    }
    const bound = extensionBaseBound(target, origin.dim);

    if (svgPath !== undefined) {
      const curves: ScalingCurve[] = blocks.flatMap((block) =>
        block.layers.map((layer) => ({
          label: `${block.method}${layer.layerType && blocks[0]!.layers.length > 1 ? ` (${layer.layerType})` : ""}`,
          ratio: layer.invFreq.map((v, i) => v / layer.originalInvFreq[i]!),
        })),
      );
      if (bound !== undefined) {
        const { dim, base } = origin;
        curves.push({
          label: `base bound ${bound.toPrecision(3)}`,
          ratio: Float64Array.from({ length: dim / 2 }, (_, i) => (base / bound) ** ((2 * i) / dim)),
          dashed: true,
        });
      }
      const title = `Frequency scaling at ${target} tokens (${(target / l0).toPrecision(4)} x ${l0}), rope_theta ${origin.base}`;
      writeFileAtomic(svgPath, renderScalingChart(curves, title));
    }

    if (values.json) {
      const out = {
        config: path,
        originalContext: l0,
        originalContextKey: origin.originalContextKey,
        ropeTheta: origin.base,
        dim: origin.dim,
        target,
        factor: target / l0,
        baseLowerBound: bound ?? null,
        methods: Object.fromEntries(
          blocks.map((b) => [
            b.method,
            {
              patch: b.patch,
              layers: b.layers.map((layer) => ({
                layerType: layer.layerType ?? null,
                attentionFactor: layer.attentionFactor,
                invFreq: Array.from(layer.invFreq),
              })),
            },
          ]),
        ),
        skipped,
      };
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return;
    }
    const lines = [
      `config            ${path} (${origin.format})`,
      `trained context   ${l0} (${origin.originalContextKey})`,
      `rope_theta        ${origin.base}, rotary dim ${origin.dim}`,
      `target            ${target} tokens = ${(target / l0).toPrecision(6)} x the trained context`,
      bound === undefined
        ? "base bound        not computed beyond 1048576 tokens"
        : `base bound        ${bound.toPrecision(6)} for ${target} tokens (arXiv:2405.14591); rope_theta ${origin.base} is ${origin.base >= bound ? "at or above" : "below"} it`,
      "",
      "method    keys to set in config.json; what they give at the target length (strict read-back)",
    ];
    for (const block of blocks) {
      lines.push(`${block.method.padEnd(8)}  ${JSON.stringify(block.patch)}`);
      for (const layer of block.layers) {
        const ratios = Array.from(layer.invFreq, (v, i) => v / layer.originalInvFreq[i]!);
        const where = layer.layerType ? `${layer.layerType}: ` : "";
        lines.push(
          `          ${where}attention factor ${layer.attentionFactor.toPrecision(6)}; theta'_i / theta_i from ${Math.min(...ratios).toPrecision(4)} to ${Math.max(...ratios).toPrecision(4)}`,
        );
      }
    }
    for (const [method, why] of Object.entries(skipped)) lines.push(`${method.padEnd(8)}  ${why}`);
    if (svgPath !== undefined) lines.push("", `chart             ${svgPath}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  },
};
