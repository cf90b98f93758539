/** `posenc rope`: RoPE parameters of a Hugging Face config.json, exact to transformers v5, and cos/sin tables. */
import { totalmem } from "node:os";
import { ropeCosSinTable } from "../../encodings/rope.js";
import {
  type RopeParameters,
  readRopeConfig,
  ropeLayerTypes,
  ropeParameters,
} from "../../encodings/rope-parameters.js";
import { type Command, parseIntegerFlag, parseRangeFlag, requireFlag } from "../args.js";
import { UsageError } from "../errors.js";
import { readJsonFile } from "../io.js";
import { formatTable } from "../table.js";

const MAX_PRINTED_POSITIONS = 4096;

/** Memory `posenc rope` may use for its tables and output: a quarter of this machine's memory, at most 1 GiB. */
export function ropeOutputMemoryLimit(): number {
  return Math.min(2 ** 30, Math.floor(totalmem() / 4));
}

/**
 * Bytes `posenc rope` needs for a rotary dim and a number of printed positions, counted generously: inv_freq
 * (8 bytes each), the float32 cos and sin tables, the numbers as JS values (16 bytes) and as text (2 bytes a
 * character, about 24 characters a number, 64 a frequency row), per layer type.
 */
export function ropeOutputBytes(dim: number, positions: number, json: boolean, layerTypes = 1): number {
  const pairs = dim / 2;
  const printed = json ? positions * pairs * 2 : positions * Math.min(pairs, 6) * 2;
  const perLayer = pairs * 8 + positions * pairs * 8 + printed * (16 + 48) + pairs * 128;
  return perLayer * layerTypes;
}

function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === units.length - 1 && value >= 1024
    ? `${bytes.toExponential(2)} bytes`
    : `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export const ropeCommand: Command = {
  name: "rope",
  summary:
    "Compute RoPE inverse frequencies and attention factor from a Hugging Face config.json (rope_scaling or rope_parameters, including per-layer-type rope_parameters), exactly as transformers v5 does, in strict mode (what transformers only warns about is an error here).",
  usage: "posenc rope --config FILE [--layer-type NAME] [--seq-len N] [--positions A..B] [--json] [--lax]",
  flags: {
    config: { type: "string", description: "Path of a Hugging Face config.json", valueName: "FILE" },
    "layer-type": {
      type: "string",
      description: "With per-layer-type rope_parameters: print only this layer type (default: each one)",
      valueName: "NAME",
    },
    "seq-len": {
      type: "string",
      description: "Current sequence length (dynamic NTK and LongRoPE depend on it)",
      valueName: "N",
    },
    positions: {
      type: "string",
      description: `Also print cos/sin tables for positions A..B (inclusive, at most ${MAX_PRINTED_POSITIONS})`,
      valueName: "A..B",
    },
    json: {
      type: "boolean",
      description:
        'Print {"ropeType", "dim", "invFreq", "attentionFactor"} as JSON (per layer type: {"layerTypes": {NAME: {...}}})',
    },
    lax: {
      type: "boolean",
      description: "Accept what transformers accepts with a warning (warnings go to stderr)",
    },
  },
  run(values) {
    const path = requireFlag("rope", values, "config", "FILE (a Hugging Face config.json)");
    const config = readJsonFile("--config", path) as object;
    const seqLen =
      typeof values["seq-len"] === "string"
        ? parseIntegerFlag("rope", "seq-len", values["seq-len"], 1, Number.MAX_SAFE_INTEGER)
        : undefined;
    const range =
      typeof values.positions === "string"
        ? parseRangeFlag("rope", "positions", values.positions, {
            min: 0,
            maxCount: MAX_PRINTED_POSITIONS,
          })
        : undefined;
    const strict = !values.lax;
    const chosen = typeof values["layer-type"] === "string" ? values["layer-type"] : undefined;
    const layerTypes = chosen === undefined ? ropeLayerTypes(config, { strict }) : undefined;
    const names: (string | undefined)[] = layerTypes ?? [chosen];

    // Size check before any table is built: reading the config allocates nothing of the rotary dim's size.
    const { dim } = readRopeConfig(config, { strict: false, layerType: names[0] }).resolved;
    const count = range ? range.max - range.min + 1 : 0;
    const needed = ropeOutputBytes(dim, count, values.json === true, names.length);
    const limit = ropeOutputMemoryLimit();
    if (needed > limit) {
      throw new UsageError(
        `posenc rope: rotary dim ${dim} (from head_dim/hidden_size in ${path})${range ? ` with --positions ${values.positions}` : ""} needs about ${formatBytes(needed)}, above the limit of ${formatBytes(limit)} on this machine; use a smaller --positions range`,
      );
    }

    const positions = range ? Array.from({ length: count }, (_, i) => range.min + i) : [];
    const outputs = names.map((layerType) => {
      const warnings: string[] = [];
      const result = ropeParameters(config, {
        seqLen,
        strict,
        layerType,
        onWarning: (warning) => {
          warnings.push(warning.message);
        },
      });
      for (const warning of warnings) {
        process.stderr.write(`warning: ${layerType ? `${layerType}: ` : ""}${warning}\n`);
      }
      return { layerType, result };
    });

    if (values.json) {
      const objects = outputs.map(({ result }) => jsonOf(result, positions));
      const out = layerTypes
        ? { layerTypes: Object.fromEntries(outputs.map(({ layerType }, i) => [layerType, objects[i]])) }
        : objects[0];
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return;
    }
    const blocks = outputs.map(({ layerType, result }) => {
      const lines = textOf(result, positions, seqLen);
      return layerType && layerTypes ? [`layer type        ${layerType}`, ...lines] : lines;
    });
    process.stdout.write(`${blocks.map((lines) => lines.join("\n")).join("\n\n")}\n`);
  },
};

function tablesOf(result: RopeParameters, positions: number[]) {
  const invFreq = Array.from(result.invFreq);
  if (positions.length === 0) return { invFreq, cos: [], sin: [] };
  const table = ropeCosSinTable(invFreq, positions, { attentionFactor: result.attentionFactor });
  const rows = (values: Float32Array) =>
    positions.map((_, p) => Array.from(values.subarray(p * invFreq.length, (p + 1) * invFreq.length)));
  return { invFreq, cos: rows(table.cos), sin: rows(table.sin) };
}

function jsonOf(result: RopeParameters, positions: number[]): Record<string, unknown> {
  const { invFreq, cos, sin } = tablesOf(result, positions);
  const out: Record<string, unknown> = {
    ropeType: result.ropeType,
    dim: result.dim,
    invFreq,
    attentionFactor: result.attentionFactor,
  };
  if (result.mrope) out.mrope = result.mrope;
  if (positions.length > 0) Object.assign(out, { positions, cos, sin });
  return out;
}

function textOf(result: RopeParameters, positions: number[], seqLen: number | undefined): string[] {
  const { invFreq, cos, sin } = tablesOf(result, positions);
  const lines = [
    `rope type         ${result.ropeType}`,
    `rotary dim        ${result.dim} (${invFreq.length} frequency pairs)`,
    `attention factor  ${result.attentionFactor}`,
    `seq len           ${seqLen ?? "(not given)"}`,
    ...(result.mrope
      ? [
          `mrope section     t, h, w = ${result.mrope.section.join(", ")} frequency pairs${result.mrope.interleaved ? " (interleaved, Qwen3-VL)" : ""}; 'posenc mrope' prints the ids`,
        ]
      : []),
    "",
    formatTable(
      ["i", "inv_freq", "wavelength (tokens)"],
      invFreq.map((f, i) => [String(i), f.toExponential(10), ((2 * Math.PI) / f).toPrecision(8)]),
    ),
  ];
  if (positions.length > 0) {
    const shown = Math.min(invFreq.length, 6);
    lines.push(
      "",
      `cos/sin (scaled by the attention factor) per position, first ${shown} of ${invFreq.length} frequencies; --json prints all`,
      formatTable(
        ["position", ...Array.from({ length: shown }, (_, i) => `cos/sin i=${i}`)],
        positions.map((position, p) => [
          String(position),
          ...cos[p]!.slice(0, shown).map((c, i) => `${c.toFixed(6)}/${sin[p]![i]!.toFixed(6)}`),
        ]),
        { alignRight: [true, ...Array.from({ length: shown }, () => true)] },
      ),
    );
  }
  return lines;
}
