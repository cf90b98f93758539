/** `posenc alibi`: ALiBi head slopes, exactly as the official implementation, and optionally a bias matrix. */
import { alibiBias, alibiSlopes } from "../../encodings/alibi.js";
import { type Command, parseIntegerFlag, requireFlag } from "../args.js";
import { formatTable } from "../table.js";

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
    const lines = [
      formatTable(
        ["head", "slope"],
        slopes.map((slope, h) => [String(h), String(slope)]),
        { alignRight: [true, false] },
      ),
    ];
    if (matrix) {
      lines.push(
        "",
        `head 0 causal bias (slope ${slopes[0]}): one row per query position, one column per key position`,
        formatTable(
          ["query\\key", ...matrix.map((_, j) => String(j))],
          matrix.map((row, i) => [
            String(i),
            ...row.map((v) => (Number.isFinite(v) ? v.toFixed(4) : "-inf")),
          ]),
          { alignRight: [true, ...matrix.map(() => true)], gap: 3 },
        ),
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  },
};
