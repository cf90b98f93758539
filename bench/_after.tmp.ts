import { setKernels, tidy } from "../src/engine/index.js";
import { REFERENCE_MODEL, ReferenceModel } from "../src/engine/testing/reference-model.js";
import { Adam } from "../src/engine/optim.js";
import { createWasmKernels, startThreadPool, wasmKernelTable } from "../src/engine/wasm/index.js";
import { Rng } from "../src/util/rng.js";
const threads = Number(process.argv[2] ?? 1);
const pool = threads > 1 ? await startThreadPool({ workers: threads - 1 }) : null;
setKernels(wasmKernelTable(createWasmKernels({ pool })));
const c = REFERENCE_MODEL; const rng = new Rng(0);
const model = new ReferenceModel(c, rng); const opt = new Adam(model.params, { lr: 1e-3 });
const ids = Int32Array.from({ length: c.batch * c.seqLen }, () => rng.int(c.vocab));
const targets = Int32Array.from({ length: c.batch * c.seqLen }, () => rng.int(c.vocab));
const ms: number[] = [];
for (let i = 0; i < 15; i++) {
  const t = performance.now();
  tidy(() => { opt.zeroGrad(); const l = model.loss(ids, targets, c.batch); l.backward(); return l.item(); });
  opt.step();
  if (i >= 3) ms.push(performance.now() - t);
}
ms.sort((a, b) => a - b);
const med = (ms[5] + ms[6]) / 2;
console.log(`${process.argv[3] ?? ""} threads ${threads}: ${(c.batch * c.seqLen / med * 1000).toFixed(0)} tokens/s (median step ${med.toFixed(1)} ms)`);
await pool?.close();
