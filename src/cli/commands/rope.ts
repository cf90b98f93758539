/** `posenc rope`: RoPE parameters of a Hugging Face config.json, exact to transformers v5, and cos/sin tables. */
import { ropeCosSinTable } from "../../encodings/rope.js";
import { ropeParameters } from "../../encodings/rope-parameters.js";
import { type Command, parseIntegerFlag, parseRangeFlag, requireFlag } from "../args.js";
import { readJsonFile } from "../io.js";

const MAX_PRINTED_POSITIONS = 4096;

export const ropeCommand: Command = {
  name: "rope",
  summary:
    "Compute RoPE inverse frequencies and attention factor from a Hugging Face config.json (rope_scaling or rope_parameters),\nexactly as transformers v5 does, in strict mode (what transformers only warns about is an error here).",
  usage: "posenc rope --config FILE [--seq-len N] [--positions A..B] [--json] [--lax]",
  flags: {
    config: { type: "string", description: "Path of a Hugging Face config.json", valueName: "FILE" },
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
    json: { type: "boolean", description: 'Print {"ropeType", "dim", "invFreq", "attentionFactor"} as JSON' },
    lax: {
      type: "boolean",
      description: "Accept what transformers accepts with a warning (warnings go to stderr)",
    },
  },
  run(values) {
    const path = requireFlag("rope", values, "config", "FILE (a Hugging Face config.json)");
    const config = readJsonFile("--config", path);
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
    const warnings: string[] = [];
    const result = ropeParameters(config as object, {
      seqLen,
      strict: !values.lax,
      onWarning: (warning) => {
        warnings.push(warning.message);
      },
    });
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
    const invFreq = Array.from(result.invFreq);
    const positions = range ? Array.from({ length: range.max - range.min + 1 }, (_, i) => range.min + i) : [];
    const table = range
      ? ropeCosSinTable(invFreq, positions, { attentionFactor: result.attentionFactor })
      : undefined;
    const rows = (values: Float32Array) =>
      positions.map((_, p) => Array.from(values.subarray(p * invFreq.length, (p + 1) * invFreq.length)));

    if (values.json) {
      const out: Record<string, unknown> = {
        ropeType: result.ropeType,
        dim: result.dim,
        invFreq,
        attentionFactor: result.attentionFactor,
      };
      if (table) Object.assign(out, { positions, cos: rows(table.cos), sin: rows(table.sin) });
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return;
    }
    const lines = [
      `rope type         ${result.ropeType}`,
      `rotary dim        ${result.dim} (${invFreq.length} frequency pairs)`,
      `attention factor  ${result.attentionFactor}`,
      `seq len           ${seqLen ?? "(not given)"}`,
      "",
      "  i  inv_freq            wavelength (tokens)",
      ...invFreq.map(
        (f, i) =>
          `${String(i).padStart(3)}  ${f.toExponential(10).padEnd(18)}  ${((2 * Math.PI) / f).toPrecision(8)}`,
      ),
    ];
    if (table) {
      const cosRows = rows(table.cos);
      const sinRows = rows(table.sin);
      const shown = Math.min(invFreq.length, 6);
      lines.push(
        "",
        `cos/sin (scaled by the attention factor), first ${shown} of ${invFreq.length} frequencies; --json prints all`,
      );
      positions.forEach((position, p) => {
        const pairs = cosRows[p]!.slice(0, shown).map(
          (c, i) => `${c.toFixed(6)}/${sinRows[p]![i]!.toFixed(6)}`,
        );
        lines.push(`${String(position).padStart(8)}  ${pairs.join("  ")}`);
      });
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  },
};
