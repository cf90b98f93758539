/** `posenc docs`: writes the method catalogue page generated from the registry. */
import { renderEncodingCatalog } from "../../encodings/catalog.js";
import { encodingRegistry } from "../../encodings/registry.js";
import { checkOutputFile, writeFileAtomic } from "../../lab/files.js";
import { type Command, requireFlag } from "../args.js";

export const docsCommand: Command = {
  name: "docs",
  summary: "Write the Markdown catalogue of every method (generated from the registry).",
  usage: "posenc docs --out FILE",
  flags: { out: { type: "string", description: "Where to write the Markdown page", valueName: "FILE" } },
  run(values) {
    const out = requireFlag("docs", values, "out", "FILE");
    checkOutputFile("--out", out);
    writeFileAtomic(out, renderEncodingCatalog(encodingRegistry));
    process.stdout.write(`wrote ${out} (${encodingRegistry.length} methods)\n`);
  },
};
