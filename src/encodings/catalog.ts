/**
 * The method catalogue, rendered from the registry, linking each method to its paper at https://arxiv.org/abs/ID:
 * docs/encodings.md is this function's output (`posenc docs`),
 * and a test fails when the committed page differs from what the registry renders.
 */
import { describeParam, type EncodingSpec } from "./types.js";

const FAMILY_TITLES: Record<EncodingSpec["family"], string> = {
  absolute: "Absolute encodings (added to token embeddings)",
  rotary: "Rotary encodings (transform queries and keys)",
  "context-extension": "Context extension (rescaled RoPE frequencies)",
  "attention-bias": "Attention biases (added to attention logits)",
  "position-ids": "Position-id schemes (map tokens to position ids)",
  analysis: "Analysis",
};

const SLOT_NAMES: Record<string, string> = {
  embedding: "(a) add to embeddings",
  positionIds: "(b) map position ids",
  transformQK: "(c) transform q/k",
  attentionBias: "(d) attention bias",
  contextual: "(e) contextual positions",
  layerInput: "(f) layer input",
  transformValues: "(g) transform values",
  transformOutput: "(g) transform attention output",
};

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function renderEncodingCatalog(specs: readonly EncodingSpec[]): string {
  const out: string[] = [
    "# posenc methods",
    "",
    "Generated from the registry (`src/encodings/registry.ts`) by `npm run docs`; do not edit by hand.",
    "",
    `${specs.length} methods. Each links its paper; the formula is the one the code implements.`,
    "",
    "| id | method | family | hook | paper |",
    "|---|---|---|---|---|",
    ...specs.map(
      (s) =>
        `| [\`${s.id}\`](#${s.id}) | ${escapeCell(s.name)} | ${s.family} | ${s.slots.map((slot) => SLOT_NAMES[slot] ?? slot).join(", ")} | [arXiv:${s.paper.arxiv}](https://arxiv.org/abs/${s.paper.arxiv}) |`,
    ),
    "",
  ];
  for (const family of Object.keys(FAMILY_TITLES) as EncodingSpec["family"][]) {
    const members = specs.filter((s) => s.family === family);
    if (members.length === 0) continue;
    out.push(`## ${FAMILY_TITLES[family]}`, "");
    for (const spec of members) {
      out.push(
        `### ${spec.id}`,
        "",
        `**${spec.name}**: ${spec.summary}`,
        "",
        `Paper: ${spec.paper.title} (${spec.paper.year}), [arXiv:${spec.paper.arxiv}](https://arxiv.org/abs/${spec.paper.arxiv}).`,
        "",
        "```text",
        spec.formula,
        "```",
        "",
      );
      const params = Object.entries(spec.params);
      if (params.length > 0) {
        out.push("| parameter | accepts | default | meaning |", "|---|---|---|---|");
        for (const [key, param] of params) {
          const fallback = param.default === undefined ? "required" : `\`${JSON.stringify(param.default)}\``;
          out.push(
            `| \`${key}\` | ${escapeCell(describeParam(param))} | ${fallback} | ${escapeCell(param.description)} |`,
          );
        }
        out.push("");
      }
    }
  }
  return `${out.join("\n")}\n`;
}
