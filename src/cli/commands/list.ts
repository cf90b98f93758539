/** `posenc list`: every registered method, generated from the registry. */
import { coordinateEncodingsText } from "../../encodings/coordinate/registry.js";
import { encodingRegistry } from "../../encodings/registry.js";
import { describeParam } from "../../encodings/types.js";
import type { Command } from "../args.js";

export const listCommand: Command = {
  name: "list",
  summary: "List every positional-encoding method posenc implements, from the registry.",
  usage: "posenc list [--json]",
  flags: {
    json: { type: "boolean", description: "Print the registry as JSON (ids, papers, formulas, parameters)" },
  },
  run(values) {
    if (values.json) {
      const rows = encodingRegistry.map((spec) => ({
        id: spec.id,
        name: spec.name,
        family: spec.family,
        slots: spec.slots,
        paper: spec.paper,
        formula: spec.formula,
        summary: spec.summary,
        params: Object.fromEntries(
          Object.entries(spec.params).map(([key, param]) => [
            key,
            { ...param, accepts: describeParam(param) },
          ]),
        ),
      }));
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    const header = ["id", "family", "hooks", "paper"];
    const rows = encodingRegistry.map((spec) => [
      spec.id,
      spec.family,
      spec.slots.join(","),
      `${spec.name} (arXiv:${spec.paper.arxiv}, ${spec.paper.year})`,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]!) : c)).join("  ");
    process.stdout.write(
      `${line(header)}\n${rows.map(line).join("\n")}\n\n${rows.length} methods. 'posenc list --json' gives formulas and parameters.\n\n${coordinateEncodingsText()}`,
    );
  },
};
