import { initEngine, kernels, setKernels, tidy } from "../src/engine/index.js";
import { REFERENCE_MODEL, ReferenceModel } from "../src/engine/testing/reference-model.js";
import { Adam } from "../src/engine/optim.js";
import { Rng } from "../src/util/rng.js";
await initEngine({ threads: Number(process.argv[2] ?? 1) });
const k = kernels();
const stats = new Map<string, { ms: number; n: number; flops: number }>();
const wrapped: Record<string, unknown> = {};
for (const name of Object.keys(k) as (keyof typeof k)[]) {
  const f = k[name] as unknown;
  if (typeof f !== "function") continue;
  wrapped[name] = (...a: any[]) => {
    let key = String(name);
    let flops = 0;
    if (name === "matmul") { const s = a[3]; key = `mm b${s.batch} ${s.m}x${s.n}x${s.k} ${s.transA?"T":"N"}${s.transB?"T":"N"}${s.accumulate?"+":""}`; flops = 2*s.batch*s.m*s.n*s.k; }
    const t = performance.now();
    (f as any)(...a);
    const e = stats.get(key) ?? { ms: 0, n: 0, flops: 0 };
    e.ms += performance.now() - t; e.n++; e.flops += flops; stats.set(key, e);
  };
}
setKernels(wrapped as any);
const c = REFERENCE_MODEL; const rng = new Rng(0);
const model = new ReferenceModel(c, rng); const opt = new Adam(model.params, { lr: 1e-3 });
const ids = Int32Array.from({ length: c.batch * c.seqLen }, () => rng.int(c.vocab));
let total = 0;
for (let s = 0; s < 6; s++) {
  if (s === 2) stats.clear();
  const t = performance.now();
  tidy(() => { opt.zeroGrad(); const l = model.loss(ids, ids, c.batch); l.backward(); return l.item(); });
  opt.step();
  if (s >= 2) total += performance.now() - t;
}
const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms);
let sum = 0;
for (const [key, e] of rows) { sum += e.ms; console.log(`${(e.ms / 4).toFixed(1).padStart(7)} ms/step  n=${e.n / 4}  ${e.flops ? (e.flops / e.ms / 1e6).toFixed(1) + " GF/s" : ""}  ${key}`); }
console.log("kernels ms/step", (sum / 4).toFixed(1), "step ms", (total / 4).toFixed(1));
import { engineInfo } from "../src/engine/index.js";
console.log(engineInfo().pool?.stats());
