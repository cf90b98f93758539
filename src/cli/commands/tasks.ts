/** `posenc tasks`: every task the lab trains on, from the task registry (id, level, parameters, paper). */
import { TASK_REGISTRY } from "../../tasks/registry.js";
import type { Command } from "../args.js";
import { formatTable } from "../table.js";

/** "vocabSize=16, maxPosition=64" for keys with a registry default, the bare key otherwise; "-" for none. */
function describeParams(paramKeys: readonly string[], defaults: Readonly<Record<string, unknown>>): string {
  if (paramKeys.length === 0) return "-";
  return paramKeys
    .map((key) => (Object.hasOwn(defaults, key) ? `${key}=${JSON.stringify(defaults[key])}` : key))
    .join(", ");
}

export const tasksCommand: Command = {
  name: "tasks",
  summary: "List every task the lab trains on (ids for a config's task.id), from the task registry.",
  usage: "posenc tasks [--json]",
  flags: {
    json: { type: "boolean", description: "Print the registry as JSON (ids, levels, parameters, papers)" },
  },
  run(values) {
    if (values.json) {
      const rows = TASK_REGISTRY.map((e) => ({
        id: e.id,
        level: e.level,
        params: e.paramKeys,
        defaults: Object.fromEntries(Object.entries(e.defaults).filter(([k]) => e.paramKeys.includes(k))),
        paper: e.paper,
      }));
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    const rows = TASK_REGISTRY.map((e) => [
      e.id,
      e.level,
      describeParams(e.paramKeys, e.defaults),
      `${e.paper.authors.split(",")[0]!.trim()} et al. ${e.paper.year} (arXiv:${e.paper.arxiv})`,
    ]);
    process.stdout.write(
      `${formatTable(["id", "level", "parameters (default)", "paper"], rows)}\n\n${rows.length} tasks. Set one in a config as task: { id, params }; 'posenc tasks --json' gives the papers' titles.\n`,
    );
  },
};
