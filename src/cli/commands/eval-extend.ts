/**
 * `posenc eval --checkpoint DIR --bpc --extend M,M,... --target N [--finetune-steps N [--finetune-segments N | --finetune-length N]]`: bits per character of a
 * RoPE checkpoint at a grid of context lengths under each context-extension method, training-free and after a
 * short fine-tune at the target, on segmented rows, or on rows of another length (src/lab/extension-eval.ts).
 *
 *   posenc eval --checkpoint runs/text-brown/rope-s0 --bpc --extend rope,pi,ntk,yarn --target 512 \
 *     --contexts 128,256,512,1024 --finetune-steps 100
 *
 * `rope` in the list is the baseline, the checkpoint as trained (unscaled RoPE; for an ALiBi or NoPE checkpoint, the
 * only method it takes: its bpc by context, reported beside RoPE's methods by `posenc report extension`). Methods: pi, ntk, dynamic, yarn, llama3, longrope (needs
 * --longrope-factors FILE, the format `posenc extend` reads), abf (--abf-base B, default the RoPE base bound for
 * the target), eabf, and Giraffe's bases without a Hugging Face block: giraffe-power (--giraffe-power K, default
 * 0.5) and giraffe-truncated (--giraffe-truncate-length N, default the trained context). Every flag is checked
 * before any work.
 */
import { existsSync, mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { CheckpointSidecar } from "../../lab/checkpoint.js";
import { encodingLabel } from "../../lab/config.js";
import { LAB_EXTENSION_METHODS, ropeOriginOf } from "../../lab/extension.js";
import {
  type ExtensionCurve,
  evaluateExtensions,
  methodChoice,
  searchLongropeFactors,
} from "../../lab/extension-eval.js";
import { checkOutputFolder, writeFileAtomic } from "../../lab/files.js";
import type { ContextGridOptions } from "../../lab/perplexity.js";
import {
  renderExtensionChart,
  renderExtensionHtml,
  renderExtensionMarkdown,
} from "../../lab/report/extension.js";
import { EXTENSION_FORMAT } from "../../lab/report/extension-seeds.js";
import { PosencConfigError } from "../../util/validation.js";
import { type FlagSpec, parseIntegerFlag, parseNumberFlag } from "../args.js";
import { UsageError } from "../errors.js";
import { checkOutputFile } from "../io.js";
import { readLongropeFactors } from "./extend.js";

export const EXTEND_FLAGS: FlagSpec = {
  extend: {
    type: "string",
    description: `With --bpc: context-extension methods to compare (rope = the checkpoint as trained, the one choice for a non-RoPE checkpoint; ${LAB_EXTENSION_METHODS.join(", ")})`,
    valueName: "M,M,...",
  },
  target: { type: "string", description: "Target context of --extend (tokens)", valueName: "N" },
  "finetune-steps": {
    type: "string",
    description:
      "Fine-tune each --extend method this many steps at the target (default 0: training-free only)",
    valueName: "N",
  },
  "finetune-segments": {
    type: "string",
    description:
      "Fine-tune on rows of the trained length, each N segments of a stretch of --target characters keeping their positions (arXiv:2310.14633)",
    valueName: "N",
  },
  "finetune-length": {
    type: "string",
    description:
      "Fine-tune on rows of N characters instead of --target, each method set up for the target (Giraffe: fine-tune at the trained length, read longer)",
    valueName: "N",
  },
  "longrope-factors": {
    type: "string",
    description: "LongRoPE's factors for --extend longrope (JSON with longFactor, shortFactor)",
    valueName: "FILE",
  },
  "abf-base": { type: "string", description: "New rope base for --extend abf", valueName: "B" },
  "giraffe-power": {
    type: "string",
    description: "Exponent k of --extend giraffe-power, theta_i (1 - 2i/d)^k (default 0.5)",
    valueName: "K",
  },
  "giraffe-truncate-length": {
    type: "string",
    description:
      "Length of --extend giraffe-truncated: pairs completing a cycle within it are kept (default the trained context)",
    valueName: "N",
  },
  "longrope-search": {
    type: "string",
    description:
      "With --bpc --target: search LongRoPE's factors on the validation split, write them to FILE (--force to overwrite); --extend longrope then uses them",
    valueName: "FILE",
  },
  report: {
    type: "string",
    description:
      "With --extend: write extension.json, .md, .svg and .html (bpc against context per method) to DIR (--force to replace)",
    valueName: "DIR",
  },
  "search-evaluations": {
    type: "string",
    description: "Scored candidates of --longrope-search (default 100)",
    valueName: "N",
  },
};

/** extension.json: the curves, and what `posenc report extension` needs to put seeds side by side. */
function extensionFileOf(
  dir: string,
  sidecar: CheckpointSidecar,
  values: Record<string, unknown>,
  cpuStart: NodeJS.CpuUsage,
  curves: readonly ExtensionCurve[],
) {
  const cpu = process.cpuUsage(cpuStart);
  return {
    format: EXTENSION_FORMAT,
    checkpoint: dir,
    encoding: encodingLabel(sidecar.encoding),
    seed: sidecar.seed,
    trainedContext: sidecar.config.train.length.max,
    split: values.split === "test" ? "test" : "validation",
    cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    curves,
  };
}

const usage = (message: string): never => {
  throw new UsageError(`posenc eval: ${message}`);
};

/** What `--bpc --extend` runs, validated; undefined without --extend (its flags alone are an error). */
export function prepareExtension(
  values: Record<string, unknown>,
  sidecar: CheckpointSidecar,
):
  | ((
      dir: string,
      score: { tokens: Int32Array; vocabSize: number; grid: ContextGridOptions },
    ) => Promise<ExtensionCurve[]>)
  | undefined {
  const searchPath = values["longrope-search"];
  if (values.extend === undefined && searchPath === undefined) {
    const stray = Object.keys(EXTEND_FLAGS).find((name) => values[name] !== undefined);
    if (stray) usage(`--${stray} needs --extend`);
    return undefined;
  }
  const what = values.extend !== undefined ? "--extend" : "--longrope-search";
  if (!values.bpc) usage(`${what} needs --bpc (bits per character under each method)`);
  const methods =
    values.extend === undefined
      ? []
      : String(values.extend)
          .split(",")
          .map((m) => m.trim());
  const known = ["rope", ...LAB_EXTENSION_METHODS] as string[];
  const bad = methods.find((m) => !known.includes(m));
  if (bad !== undefined) usage(`--extend must list methods of ${known.join(", ")}, received "${bad}"`);
  if (new Set(methods).size !== methods.length) usage(`--extend lists a method twice: "${values.extend}"`);
  if (methods.length === 0) {
    const stray = ["finetune-steps", "finetune-segments", "finetune-length"].find(
      (name) => values[name] !== undefined,
    );
    if (stray) usage(`--${stray} needs --extend (the methods to fine-tune)`);
  }
  const trained = sidecar.config.train.length.max;
  if (typeof values.target !== "string") usage(`${what} needs --target N (the context to extend to)`);
  const target = parseIntegerFlag("eval", "target", values.target as string, trained + 1, 1 << 20);
  const finetuneSteps =
    typeof values["finetune-steps"] === "string"
      ? parseIntegerFlag("eval", "finetune-steps", values["finetune-steps"], 0, 100_000)
      : 0;
  let finetuneSegments: number | undefined;
  if (typeof values["finetune-segments"] === "string") {
    if (finetuneSteps === 0) usage("--finetune-segments needs --finetune-steps N (> 0)");
    finetuneSegments = parseIntegerFlag("eval", "finetune-segments", values["finetune-segments"], 1, trained);
  }
  let finetuneLength: number | undefined;
  if (typeof values["finetune-length"] === "string") {
    if (finetuneSteps === 0) usage("--finetune-length needs --finetune-steps N (> 0)");
    if (finetuneSegments !== undefined) {
      usage("--finetune-length and --finetune-segments both set the fine-tune's rows: choose one");
    }
    finetuneLength = parseIntegerFlag("eval", "finetune-length", values["finetune-length"], 2, 1 << 20);
    // Rows of the target are the default fine-tune: recorded as such, so that its curves merge with those.
    if (finetuneLength === target) finetuneLength = undefined;
  }
  let abfBase: number | undefined;
  if (typeof values["abf-base"] === "string") {
    abfBase = parseNumberFlag("eval", "abf-base", values["abf-base"], { min: 1, exclusiveMin: true });
    if (!methods.includes("abf")) usage("--abf-base needs abf in --extend");
  }
  let giraffePower: number | undefined;
  if (typeof values["giraffe-power"] === "string") {
    giraffePower = parseNumberFlag("eval", "giraffe-power", values["giraffe-power"], { min: 0 });
    if (!methods.includes("giraffe-power")) usage("--giraffe-power needs giraffe-power in --extend");
  }
  let giraffeTruncateLength: number | undefined;
  if (typeof values["giraffe-truncate-length"] === "string") {
    giraffeTruncateLength = parseIntegerFlag(
      "eval",
      "giraffe-truncate-length",
      values["giraffe-truncate-length"],
      1,
      1 << 20,
    );
    if (!methods.includes("giraffe-truncated")) {
      usage("--giraffe-truncate-length needs giraffe-truncated in --extend");
    }
  }
  const longropePath = values["longrope-factors"];
  if (typeof longropePath === "string" && !methods.includes("longrope")) {
    usage("--longrope-factors needs longrope in --extend");
  }
  if (typeof longropePath === "string" && typeof searchPath === "string") {
    usage("--longrope-factors and --longrope-search both give LongRoPE's factors: choose one");
  }
  const evaluations =
    typeof values["search-evaluations"] === "string"
      ? parseIntegerFlag("eval", "search-evaluations", values["search-evaluations"], 3, 10_000)
      : 100;
  if (values["search-evaluations"] !== undefined && searchPath === undefined) {
    usage("--search-evaluations needs --longrope-search FILE");
  }
  if (typeof searchPath === "string") {
    if ((values.split ?? "validation") !== "validation") {
      usage("--longrope-search scores the validation split: leave --split at validation");
    }
    checkOutputFile("eval", "longrope-search", searchPath, values.force === true);
    ropeOriginOf(sidecar.encoding, 2, 1); // a plain-rope checkpoint, or one line
  }
  const reportDir = values.report;
  if (typeof reportDir === "string") {
    if (methods.length === 0) usage("--report needs --extend (the curves it reports)");
    checkOutputFolder("--report", reportDir);
    if (existsSync(join(reportDir, "extension.json")) && values.force !== true) {
      usage(`--report ${reportDir}: it holds an extension report; pass --force to replace it`);
    }
  }
  const longrope = typeof longropePath === "string" ? readLongropeFactors(longropePath) : undefined;
  const options = {
    ...(longrope ? { longrope } : {}),
    ...(abfBase !== undefined ? { abfBase } : {}),
    ...(giraffePower !== undefined ? { giraffePower } : {}),
    ...(giraffeTruncateLength !== undefined ? { giraffeTruncateLength } : {}),
  };
  // Every method's block now (a plain-rope checkpoint, longrope's factors, abf's base), before any work; with a
  // search, longrope's factors come from it (checked with PI's factors as a stand-in of the right length).
  for (const method of methods) {
    if (method === "longrope" && typeof searchPath === "string") continue;
    try {
      methodChoice(sidecar, method, target, options);
    } catch (error) {
      if (error instanceof PosencConfigError && error.key === "longrope") {
        usage("--extend longrope needs --longrope-factors FILE (a search result)");
      }
      throw error;
    }
  }
  return async (dir, score) => {
    const cpuStart = process.cpuUsage();
    let searched = options.longrope;
    if (typeof searchPath === "string") {
      const result = searchLongropeFactors(dir, sidecar, {
        target,
        evaluations,
        seed: sidecar.seed,
        tokens: score.tokens,
        vocabSize: score.vocabSize,
        maxChars: score.grid.maxChars ?? score.tokens.length - 1,
        onEvaluation: (i, bits) => {
          if (!values.json && (i + 1) % 10 === 0) {
            process.stdout.write(
              `longrope search: ${i + 1}/${evaluations} scored, last ${bits.toFixed(4)} bpc\n`,
            );
          }
        },
      });
      writeFileAtomic(searchPath, `${JSON.stringify(result, null, 1)}\n`);
      if (!values.json) {
        const seeds = result.seeds.map((s) => `${s.name} ${s.score.toFixed(4)}`).join(", ");
        process.stdout.write(
          `longrope search: best ${result.bestScore.toFixed(4)} bpc at ${target} after ${result.evaluations} (seeds: ${seeds}); written to ${searchPath}\n`,
        );
      }
      searched = { longFactor: result.longFactor, shortFactor: result.shortFactor };
    }
    const curves = await evaluateExtensions(dir, sidecar, {
      ...options,
      ...(searched ? { longrope: searched } : {}),
      methods,
      target,
      finetuneSteps,
      ...(finetuneSegments !== undefined ? { finetuneSegments } : {}),
      ...(finetuneLength !== undefined ? { finetuneLength } : {}),
      ...score,
      onCurve: (curve) => {
        if (values.json) return;
        const rows = curve.finetuneSegments
          ? ` at ${target} (${curve.finetuneSegments} segments)`
          : ` at ${curve.finetuneLength ?? target}`;
        const label = `${curve.method}${curve.finetuneSteps ? ` +${curve.finetuneSteps} steps${rows}` : ""}`;
        const cells = curve.rows.map((r) => `${r.window}: ${r.bitsPerChar.toFixed(4)}`).join("  ");
        const speed = curve.tokensPerSecond
          ? ` (fine-tune ${curve.finetuneSeconds!.toFixed(0)} s, ${(curve.tokensPerSecond / 1000).toFixed(1)}k tok/s)`
          : "";
        process.stdout.write(`${label.padEnd(28)} ${cells}${speed}\n`);
      },
    });
    if (typeof reportDir === "string") {
      const view = {
        title: `Context extension to ${target} of checkpoint ${basename(resolve(dir))}`,
        trainedContext: trained,
      };
      mkdirSync(reportDir, { recursive: true });
      const files: [string, string][] = [
        [
          "extension.json",
          `${JSON.stringify(extensionFileOf(dir, sidecar, values, cpuStart, curves), null, 1)}\n`,
        ],
        ["extension.md", renderExtensionMarkdown(curves, trained)],
        ["extension.svg", renderExtensionChart(curves, view)],
        ["extension.html", renderExtensionHtml(curves, view)],
      ];
      for (const [name, text] of files) writeFileAtomic(join(reportDir, name), text);
      if (!values.json) process.stdout.write(`report            ${join(reportDir, "extension.html")}\n`);
    }
    return curves;
  };
}
