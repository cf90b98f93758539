/**
 * `npx tsx bench/fields.bench.ts [--size 128] [--hidden 128] [--layers 3] [--activation siren|relu|spder]
 * [--steps 30] [--no-torch]`: the coordinate MLP's training step (src/fields/mlp.ts: full batch of size^2 pixel
 * coordinates, RGB output, MSE, Adam) in the engine (WASM kernels, one thread) and the same MLP in PyTorch CPU
 * (bench/fields_pytorch.py, one thread), side by side in one run. The engine runs twice: with the TypeScript sine
 * kernels (Math.sin loops) and with the WASM SIMD ones. Prints step times (mean, min, max) and the ratios.
 */
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getCoordinateEncoding } from "../src/encodings/coordinate/registry.js";
import {
  Adam,
  initEngineSync,
  kernels,
  mean,
  mul,
  referenceKernels,
  setKernels,
  sub,
  tensor,
  tidy,
} from "../src/engine/index.js";
import { pixelCoordinates } from "../src/fields/images.js";
import { type Activation, CoordinateMlp } from "../src/fields/mlp.js";
import { Rng } from "../src/util/rng.js";
import { findOpenBlasDir, findTorchPython, torchEnvironment } from "./torch-peer.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const size = Number(option("--size", "128"));
const hidden = Number(option("--hidden", "128"));
const layers = Number(option("--layers", "3"));
const activation = option("--activation", "siren") as Activation;
const steps = Number(option("--steps", "30"));
const warmup = 5;

initEngineSync({ threads: 1 });
const rng = new Rng(0);
const encoder = getCoordinateEncoding("identity").create(2, rng);
const mlp = new CoordinateMlp(
  encoder,
  { hidden, layers, activation, architecture: "plain", outputs: 3 },
  rng,
);
const n = size * size;
const x = tensor(pixelCoordinates(size, size), [n, 2]);
const y = tensor(
  Array.from({ length: n * 3 }, () => rng.next()),
  [n, 3],
);
interface StepTimes {
  meanMs: number;
  minMs: number;
  maxMs: number;
  /** Mean CPU ms (user + system of this process) per step: wall time on a quiet machine, fair on a shared one. */
  cpuMeanMs: number;
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Mean, min and max ms per training step over `steps` steps after `warmup` (a fresh Adam each time). */
function timeEngine(): StepTimes {
  const opt = new Adam(mlp.parameters, { lr: 1e-4 });
  const times: number[] = [];
  const cpu: number[] = [];
  for (let step = 0; step < warmup + steps; step++) {
    const start = performance.now();
    const startCpu = cpuMs();
    tidy(() => {
      opt.zeroGrad();
      const d = sub(mlp.forward(x), y);
      mean(mul(d, d)).backward();
      opt.step();
    });
    if (step >= warmup) {
      times.push(performance.now() - start);
      cpu.push(cpuMs() - startCpu);
    }
  }
  opt.dispose();
  return {
    meanMs: times.reduce((s, t) => s + t, 0) / times.length,
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    cpuMeanMs: cpu.reduce((s, t) => s + t, 0) / cpu.length,
  };
}
const show = (t: StepTimes) =>
  `mean ${t.meanMs.toFixed(1)} ms  (min ${t.minMs.toFixed(1)}, max ${t.maxMs.toFixed(1)}); CPU ${t.cpuMeanMs.toFixed(1)} ms`;

console.log(
  `coordinate MLP step: ${size}x${size} points, ${layers} x ${hidden} ${activation}, Adam, 1 thread, ${steps} steps`,
);
// The sine activations' kernels: the TypeScript references (Math.sin loops, the engine before the WASM sine
// kernels) against the WASM SIMD ones (src/engine/wasm/assembly/sine.ts), in the same run.
const wasmUnary = kernels().unary;
setKernels({
  unary: {
    ...wasmUnary,
    sin: referenceKernels.unary.sin,
    cos: referenceKernels.unary.cos,
    sinSqrtAbs: referenceKernels.unary.sinSqrtAbs,
  },
});
const before = timeEngine();
console.log(`engine, TypeScript sine kernels  ${show(before)}`);
setKernels({ unary: wasmUnary });
const engine = timeEngine();
console.log(`engine, WASM sine kernels        ${show(engine)}`);
console.log(
  `TypeScript / WASM sine step time: ${(before.meanMs / engine.meanMs).toFixed(2)} (CPU ${(before.cpuMeanMs / engine.cpuMeanMs).toFixed(2)})`,
);
if (!args.includes("--no-torch")) {
  try {
    const script = join(dirname(fileURLToPath(import.meta.url)), "fields_pytorch.py");
    const flags = [
      "--size",
      size,
      "--hidden",
      hidden,
      "--layers",
      layers,
      "--activation",
      activation,
      "--steps",
      steps,
    ].map(String);
    const python = findTorchPython();
    if (!python)
      throw new Error("no python3 here imports torch (apt-get install python3-torch libopenblas0-pthread)");
    const torch = JSON.parse(
      execFileSync(python, [script, ...flags], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        env: torchEnvironment(findOpenBlasDir(), 1),
      }).trim(),
    );
    console.log(`pytorch                          ${show(torch)}, torch ${torch.torch}`);
    console.log(
      `engine (WASM sine) / pytorch step time: ${(engine.meanMs / torch.meanMs).toFixed(2)} (CPU ${(engine.cpuMeanMs / torch.cpuMeanMs).toFixed(2)})`,
    );
  } catch (error) {
    console.log(`pytorch: not run (${(error as Error).message.split("\n")[0]})`);
  }
}
