/** `posenc list`: every registered method, generated from the registry. */
import { encodingAliases, encodingRegistry } from "../../encodings/registry.js";
import { describeParam } from "../../encodings/types.js";
import type { Command } from "../args.js";
import { formatTable } from "../table.js";

/** The aliases of `id` ("t5" for "t5-bias"). */
function aliasesOf(id: string): string[] {
  return Object.entries(encodingAliases)
    .filter(([, target]) => target === id)
    .map(([alias]) => alias);
}

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
        aliases: aliasesOf(spec.id),
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
    const rows = encodingRegistry.map((spec) => [
      spec.id,
      aliasesOf(spec.id).join(", ") || "-",
      spec.family,
      spec.slots.join(",") || "-",
      `${spec.name} (arXiv:${spec.paper.arxiv}, ${spec.paper.year})`,
    ]);
    process.stdout.write(
      `${formatTable(["id", "alias", "family", "hooks", "paper"], rows)}\n\n${rows.length} methods; an id or alias names one in a config or --encodings. 'posenc list --json' gives formulas and parameters, 'posenc tasks' the tasks.\n`,
    );
  },
};
