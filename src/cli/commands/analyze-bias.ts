/**
 * `posenc analyze-bias`: the series-convergence test and theoretical receptive field of "Exploring Transformer
 * Extrapolation" (Qin, Zhong, Deng 2024, arXiv:2307.10156) for any additive-bias encoding of the registry (see
 * src/encodings/bias-series.ts for the math and the verdict's test).
 */
import { analyzeBiasSeries, encodingBiasAtDistances } from "../../encodings/bias-series.js";
import { getEncoding } from "../../encodings/registry.js";
import { type Command, parseIntegerFlag, requireFlag } from "../args.js";
import { UsageError } from "../errors.js";
import { formatTable } from "../table.js";

const NAME = "analyze-bias";
/** Condensation scales: b is sampled up to distance 2^SCALES, the query sits there. */
const SCALES = 30;
/** Bias values computed at once (heads x (window + 1)): 2^24 floats, 64 MB. */
const MAX_VALUES = 1 << 24;

function parseCoverage(text: string): number {
  const value = /^\s*(0?\.\d+)\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(value > 0 && value < 1)) {
    throw new UsageError(
      `posenc ${NAME}: --coverage must be a number in (0, 1), e.g. 0.99, received "${text}"`,
    );
  }
  return value;
}

function parseParams(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(
      `posenc ${NAME}: --params must be a JSON object such as '{"r1":[2]}', received "${text}"`,
    );
  }
  return value as Record<string, unknown>;
}

export const analyzeBiasCommand: Command = {
  name: NAME,
  summary:
    "Does sum_n exp(b(n)) converge for a relative attention bias (the extrapolation condition of Qin et al. 2024), and its receptive field.",
  usage: "posenc analyze-bias --encoding ID [--params JSON] [--heads H] [--coverage C] [--window N] [--json]",
  flags: {
    encoding: {
      type: "string",
      description: "Registry id of a bias encoding (alibi, t5, kerple-log, ...) or nope",
      valueName: "ID",
    },
    params: { type: "string", description: "The encoding's parameters as a JSON object", valueName: "JSON" },
    heads: { type: "string", description: "Attention heads (default 8)", valueName: "H" },
    coverage: {
      type: "string",
      description: "Fraction of the series' mass the receptive field covers (default 0.99)",
      valueName: "C",
    },
    window: {
      type: "string",
      description: "Distances summed exactly, 0..N (default 65536; heads x (N + 1) at most 16777216)",
      valueName: "N",
    },
    json: { type: "boolean", description: "Print the per-head results as JSON" },
  },
  run(values) {
    const id = requireFlag(NAME, values, "encoding", "ID");
    const spec = getEncoding(id, "--encoding");
    const params = parseParams(typeof values.params === "string" ? values.params : undefined);
    const numHeads =
      typeof values.heads === "string" ? parseIntegerFlag(NAME, "heads", values.heads, 1, 256) : 8;
    const coverage = typeof values.coverage === "string" ? parseCoverage(values.coverage) : 0.99;
    const window =
      typeof values.window === "string" ? parseIntegerFlag(NAME, "window", values.window, 1, 1 << 22) : 65536;
    if (numHeads * (window + 1) > MAX_VALUES) {
      throw new UsageError(
        `posenc ${NAME}: --heads ${numHeads} with --window ${window} needs ${numHeads * (window + 1)} bias values; at most ${MAX_VALUES} (lower --window or --heads)`,
      );
    }
    const encoding = spec.create(params, "--params");
    const bias = encodingBiasAtDistances(spec, encoding, numHeads, 2 ** SCALES);
    if (!bias) {
      throw new UsageError(
        `posenc ${NAME}: --encoding "${spec.id}" adds no attention bias (slots: ${spec.slots.join(", ")}); give an encoding with the attentionBias slot (alibi, t5-bias, kerple-log, ...), or nope`,
      );
    }
    const heads = analyzeBiasSeries(bias, { coverage, window, scales: SCALES });
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ encoding: spec.id, params: encoding.params, coverage, window, heads })}\n`,
      );
      return;
    }
    const verdicts = new Set(heads.map((h) => h.verdict));
    const overall = verdicts.size === 1 ? [...verdicts][0] : "mixed";
    const lines = [
      `${spec.id}: sum_n exp(b(n)) ${overall === "mixed" ? "differs by head" : overall} (Cauchy condensation + ratio test at distances up to 2^${SCALES}); receptive field at coverage ${coverage}`,
      formatTable(
        ["head", "verdict", "ln ratio (last scales)", "receptive field", "window reaches coverage at"],
        heads.map((h) => [
          String(h.head),
          h.verdict,
          h.logRatios.map((r) => (Number.isFinite(r) ? r.toFixed(3) : String(r))).join(" "),
          h.receptiveField === null
            ? h.verdict === "converges"
              ? `> ${window}`
              : "none (not convergent)"
            : String(h.receptiveField),
          String(h.windowCoverageDistance),
        ]),
        { alignRight: [true, false, false, true, true] },
      ),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  },
};
