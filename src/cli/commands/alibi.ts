/** `posenc alibi`: ALiBi head slopes, exactly as the official implementation, and optionally a bias matrix. */
import { alibiBias, alibiSlopes } from "../../encodings/alibi.js";
import { type Command, parseIntegerFlag, requireFlag } from "../args.js";

export const alibiCommand: Command = {
  name: "alibi",
  summary:
    "Print ALiBi slopes for H heads (official get_slopes, also for head counts that are not powers of two).",
  usage: "posenc alibi --heads H [--length L] [--json]",
  flags: {
    heads: { type: "string", description: "Number of attention heads", valueName: "H" },
    length: {
      type: "string",
      description: "Also print head 0's causal bias matrix for L tokens (L <= 32)",
      valueName: "L",
    },
    json: { type: "boolean", description: 'Print {"numHeads", "slopes"} as JSON' },
  },
  run(values) {
    const numHeads = parseIntegerFlag("alibi", "heads", requireFlag("alibi", values, "heads", "H"), 1, 4096);
    const length =
      typeof values.length === "string"
        ? parseIntegerFlag("alibi", "length", values.length, 1, 32)
        : undefined;
    const slopes = alibiSlopes(numHeads);
    const bias = length ? alibiBias(numHeads, length, length, { causal: true }) : undefined;
    const matrix = bias
      ? Array.from({ length: length! }, (_, i) => Array.from(bias.subarray(i * length!, (i + 1) * length!)))
      : undefined;
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ numHeads, slopes, ...(matrix ? { head0CausalBias: matrix } : {}) })}\n`,
      );
      return;
    }
    const lines = ["head  slope", ...slopes.map((s, h) => `${String(h).padStart(4)}  ${s}`)];
    if (matrix) {
      lines.push("", `head 0 causal bias (slope ${slopes[0]}), rows = queries, columns = keys:`);
      for (const row of matrix)
        lines.push(row.map((v) => (Number.isFinite(v) ? v.toFixed(4) : "-inf").padStart(9)).join(""));
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  },
};
