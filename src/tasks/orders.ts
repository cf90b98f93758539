/**
 * Two-coordinate position ids built from a decoder batch ([BOS] input [SEP] answer [EOS], see format.ts), for the
 * id schemes whose ids depend on the task's structure rather than on the tokens alone:
 *
 *   randomOrderBatch     σ-GPT training (Pannatier et al. 2024, arXiv:2404.09562; idiap/sigma-gpt text/order.py):
 *                        the answer and its EOS are shuffled by a random permutation σ per example, the prompt
 *                        stays in order; inputs, targets and ids follow the shuffled order:
 *                          input_t = s_σ(t),  target_t = s_σ(t+1),  ids_t = (σ(t), σ(t+1)),  σ(N) = N
 *   leftToRightOrderBatch  σ = identity: the batch unchanged, ids (t, t + 1) (σ-GPT evaluation)
 *   countdownBatch       LDPE (Butcher et al. 2024, arXiv:2412.11937): ids (t, r_t), r_t = answer tokens still to
 *                        write after token t: the answer length A on the prompt, A at the token predicting the
 *                        first answer token, ..., 0 at the token predicting EOS and after it
 *
 * A row's real tokens are s_0..s_{N-1} (N = tokenCounts[b], the last one the EOS); its scored positions (mask) are
 * P-1 .. N-2 with P the prompt length. Padding keeps ids (t, t + 1) / (t, 0). Ids are row-major [B, T, 2].
 */
import type { Rng } from "../util/rng.js";
import type { TaskBatch } from "./types.js";

interface RowLayout {
  /** Real tokens N. */
  tokens: number;
  /** First scored position P - 1 (the token predicting the first answer token); N - 1 when nothing is scored. */
  firstScored: number;
}

function rowLayout(batch: TaskBatch, b: number): RowLayout {
  const T = batch.seqLen;
  const tokens = batch.tokenCounts ? batch.tokenCounts[b]! : T;
  let firstScored = tokens - 1;
  for (let t = 0; t < tokens; t++) {
    if (batch.mask[b * T + t]) {
      firstScored = t;
      break;
    }
  }
  return { tokens, firstScored };
}

function checkDecoder(batch: TaskBatch, what: string): void {
  if (batch.layout !== "decoder") {
    throw new RangeError(
      `${what}: needs the decoder layout ([BOS] input [SEP] answer [EOS]), received ${batch.layout}`,
    );
  }
}

/** ids (t, t + 1) for every token: the left-to-right order of a σ-GPT. The batch is otherwise unchanged. */
export function leftToRightOrderBatch(batch: TaskBatch): TaskBatch {
  checkDecoder(batch, "leftToRightOrderBatch");
  const { batchSize: B, seqLen: T } = batch;
  const ids = new Float64Array(B * T * 2);
  for (let i = 0; i < B * T; i++) {
    ids[2 * i] = i % T;
    ids[2 * i + 1] = (i % T) + 1;
  }
  return { ...batch, positionIds: ids };
}

/** The batch in a random order per example (answer + EOS shuffled, prompt kept), with σ-GPT's (own, next) ids. */
export function randomOrderBatch(batch: TaskBatch, rng: Rng): TaskBatch {
  checkDecoder(batch, "randomOrderBatch");
  const { batchSize: B, seqLen: T } = batch;
  const inputs = Int32Array.from(batch.inputs);
  const targets = Int32Array.from(batch.targets);
  const ids = leftToRightOrderBatch(batch).positionIds as Float64Array;
  for (let b = 0; b < B; b++) {
    const row = b * T;
    const { tokens: N, firstScored } = rowLayout(batch, b);
    const prompt = firstScored + 1; // P: positions 0..P-1 stay
    // sigma over 0..N: identity on the prompt and at N (past the end), a uniform shuffle of P..N-1 (Fisher-Yates).
    const sigma = Int32Array.from({ length: N + 1 }, (_, t) => t);
    for (let i = N - 1; i > prompt; i--) {
      const j = prompt + rng.int(i - prompt + 1);
      [sigma[i], sigma[j]] = [sigma[j]!, sigma[i]!];
    }
    // s_t = inputs[t] for t < N (targets[t] = s_{t+1}).
    const s = batch.inputs.subarray(row, row + N);
    for (let t = 0; t < N; t++) {
      inputs[row + t] = s[sigma[t]!]!;
      if (t + 1 < N) targets[row + t] = s[sigma[t + 1]!]!;
      ids[2 * (row + t)] = sigma[t]!;
      ids[2 * (row + t) + 1] = sigma[t + 1]!;
    }
  }
  return { ...batch, inputs, targets, positionIds: ids };
}

/** ids (t, r_t) with LDPE's countdown to each example's answer length (see the file comment). */
export function countdownBatch(batch: TaskBatch): TaskBatch {
  checkDecoder(batch, "countdownBatch");
  const { batchSize: B, seqLen: T } = batch;
  const ids = new Float64Array(B * T * 2);
  for (let b = 0; b < B; b++) {
    const { tokens: N, firstScored } = rowLayout(batch, b);
    // Scored positions firstScored..N-2 predict the A answer tokens then EOS: A = N - 2 - firstScored.
    const answer = Math.max(0, N - 2 - firstScored);
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      ids[2 * i] = t;
      ids[2 * i + 1] = t < firstScored ? answer : Math.max(0, N - 2 - t);
    }
  }
  return { ...batch, positionIds: ids };
}
