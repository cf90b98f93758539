/**
 * passkey retrieval, after Mohtashami & Jaggi 2023, "Landmark Attention: Random-Access Infinite Context Length
 * for Transformers" (arXiv:2305.16300): a passkey hidden at a chosen depth in filler text must be returned.
 * Their prompt repeats one filler sentence ("The grass is green. The sky is blue. ...") around "The pass key
 * is 12345. Remember it." and ends with "What is the pass key?". Token-level form:
 *   filler_1..filler_p  KEY d_1..d_k  filler_{p+1}..filler_n  ASK  ->  d_1..d_k
 * with p = round(depth * n): depth 0 puts the needle first, depth 1 last. Without `depth`, p is uniform in
 * {0..n} per example. Filler: "repeat" cycles f0 f1 ... f{F-1} (the paper's repeated sentence); "random"
 * draws each filler token uniformly. Digits d_i are uniform in 0..9.
 *   Example (n = 6, depth 0.5, 3 digits, 3 repeating fillers): f0 f1 f2 KEY 4 0 7 f0 f1 f2 ASK -> 4 0 7.
 * length = n (filler tokens). Encoder slots: k. Vocabulary: "0".."9", "f0".."f{F-1}", "KEY", "ASK".
 */
import type { Rng } from "../../util/rng.js";
import { checkChoice, checkNumber } from "../../util/validation.js";
import { MOHTASHAMI_2023 } from "../papers.js";
import { digitSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export interface PasskeyParams {
  /** Needle depth in [0, 1] (fraction of the filler before it); default: uniform per example. */
  depth?: number;
  /** Digits of the passkey (default 5). */
  passkeyDigits?: number;
  /** Distinct filler tokens (default 8). */
  fillerSymbols?: number;
  /** "repeat" (default, the paper's repeated sentence) or "random". */
  filler?: "repeat" | "random";
}

export function passkeyTask(params: PasskeyParams = {}): TaskDefinition {
  const depth =
    params.depth === undefined ? undefined : checkNumber("passkey.depth", params.depth, { min: 0, max: 1 });
  const digits = checkNumber("passkey.passkeyDigits", params.passkeyDigits ?? 5, {
    integer: true,
    min: 1,
    max: 64,
  });
  const fillerSymbols = checkNumber("passkey.fillerSymbols", params.fillerSymbols ?? 8, {
    integer: true,
    min: 1,
    max: 1024,
  });
  const filler = checkChoice("passkey.filler", params.filler ?? "repeat", ["repeat", "random"] as const);
  const fillerIds = Array.from({ length: fillerSymbols }, (_, i) => 10 + i);
  const KEY = 10 + fillerSymbols;
  const ASK = KEY + 1;
  return {
    id: "passkey",
    level: "synthetic",
    paper: MOHTASHAMI_2023,
    description: "Return the passkey hidden in filler: f0 f1 KEY 4 0 7 f2 f3 ASK -> 4 0 7",
    lengthMeaning: "filler tokens n (the needle sits after round(depth * n) of them)",
    minLength: 0,
    symbols: [...digitSymbols(10), ...fillerIds.map((_, i) => `f${i}`), "KEY", "ASK"],
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => digits,
    sampleExample(rng: Rng, length: number): TaskExample {
      const before = depth === undefined ? rng.intBetween(0, length) : Math.round(depth * length);
      const passkey: number[] = [];
      for (let i = 0; i < digits; i++) passkey.push(rng.int(10));
      const fill: number[] = [];
      for (let i = 0; i < length; i++)
        fill.push(filler === "repeat" ? fillerIds[i % fillerSymbols] : fillerIds[rng.int(fillerSymbols)]);
      return {
        input: [...fill.slice(0, before), KEY, ...passkey, ...fill.slice(before), ASK],
        output: passkey,
      };
    },
  };
}
