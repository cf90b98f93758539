/**
 * `posenc eval`: evaluates a checkpoint written by `posenc train` or `posenc bench` on held-out lengths (its
 * config's test range unless --test-length says otherwise), per token and per sequence.
 */
import { loadCheckpointInto, readSidecar } from "../../lab/checkpoint.js";
import { encodingLabel } from "../../lab/config.js";
import { evaluate } from "../../lab/evaluate.js";
import { checkRunFits } from "../../lab/resources.js";
import { useSingleThreadKernels } from "../../lab/runtime.js";
import { buildRunModel, type RunSpec } from "../../lab/train.js";
import { type Command, parseIntegerFlag, parseRangeFlag, requireFlag } from "../args.js";
import { UsageError } from "../errors.js";
import { BPC_FLAGS, prepareBitsPerChar } from "./eval-bpc.js";
import { EXTEND_FLAGS, prepareExtension } from "./eval-extend.js";
import { PASSKEY_FLAGS, preparePasskeyGrid } from "./eval-passkey.js";

export const evalCommand: Command = {
  name: "eval",
  summary: "Evaluate a training checkpoint per length (exact match and token accuracy on held-out examples).",
  usage:
    "posenc eval --checkpoint DIR [--test-length A..B] [--samples N] [--json]\n       posenc eval --checkpoint DIR --bpc [--contexts N,N,...] [--split validation|test] [--json]\n       posenc eval --checkpoint DIR --bpc --extend rope,pi,ntk,dynamic,yarn,llama3,longrope,abf,eabf,giraffe-power,giraffe-truncated --target N [--finetune-steps N [--finetune-segments N | --finetune-length N]] [--longrope-factors FILE] [--abf-base B] [--giraffe-power K] [--giraffe-truncate-length N] [--contexts N,N,...] [--json]\n       posenc eval --checkpoint DIR --passkey [--contexts N,N,...] [--depths F,F,...] [--per-cell N] [--split validation|test] [--svg FILE [--force]] [--json]",
  flags: {
    checkpoint: {
      type: "string",
      description: "Folder holding checkpoint.json and its weights",
      valueName: "DIR",
    },
    "test-length": {
      type: "string",
      description: "Lengths to test (default: the config's eval.length)",
      valueName: "A..B",
    },
    samples: {
      type: "string",
      description: "Held-out examples per length (default: the config's)",
      valueName: "N",
    },
    json: { type: "boolean", description: "Print the result rows as JSON" },
    ...BPC_FLAGS,
    ...PASSKEY_FLAGS,
    ...EXTEND_FLAGS,
  },
  async run(values) {
    const dir = requireFlag("eval", values, "checkpoint", "DIR");
    const sidecar = readSidecar(dir);
    if (!sidecar) throw new UsageError(`posenc eval: --checkpoint ${dir}: no checkpoint.json in that folder`);
    const built: RunSpec = { config: sidecar.config, encoding: sidecar.encoding, seed: sidecar.seed };
    const passkeyGrid = preparePasskeyGrid(values, sidecar);
    const bitsPerChar = prepareBitsPerChar(values, sidecar);
    const extension = prepareExtension(values, sidecar);
    if (passkeyGrid) {
      useSingleThreadKernels();
      const { model } = buildRunModel(built);
      loadCheckpointInto(dir, sidecar, model.parameters());
      const grid = passkeyGrid(model);
      if (values.json) process.stdout.write(`${JSON.stringify(grid, null, 1)}\n`);
      return;
    }
    if (bitsPerChar && extension) {
      useSingleThreadKernels();
      const curves = await extension(dir, bitsPerChar.inputs);
      if (values.json) process.stdout.write(`${JSON.stringify(curves, null, 1)}\n`);
      return;
    }
    if (bitsPerChar) {
      useSingleThreadKernels();
      const { model } = buildRunModel(built);
      loadCheckpointInto(dir, sidecar, model.parameters());
      const rows = bitsPerChar.score(model);
      if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 1)}\n`);
      return;
    }
    const eval_ = { ...sidecar.config.eval };
    if (typeof values["test-length"] === "string") {
      const range = parseRangeFlag("eval", "test-length", values["test-length"], { min: 1 });
      eval_.length = range;
    }
    if (typeof values.samples === "string")
      eval_.samplesPerLength = parseIntegerFlag("eval", "samples", values.samples, 1, 100_000);
    const config = { ...sidecar.config, eval: eval_ };
    checkRunFits(config);
    useSingleThreadKernels();
    const { model } = buildRunModel(built);
    loadCheckpointInto(dir, sidecar, model.parameters());
    const rows = evaluate(model, { ...built, config });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 1)}\n`);
      return;
    }
    const train = sidecar.config.train.length;
    const lines = [
      `${encodingLabel(sidecar.encoding)} seed ${sidecar.seed}, step ${sidecar.step}, trained on ${train.min}..${train.max} (* = outside)`,
      "length  exact match  token acc.",
      ...rows.map(
        (r) =>
          `${`${r.length}${r.length < train.min || r.length > train.max ? " *" : ""}`.padStart(6)}  ${r.sequenceAccuracy.toFixed(3).padStart(11)}  ${r.tokenAccuracy.toFixed(3).padStart(10)}`,
      ),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  },
};
