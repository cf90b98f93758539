/**
 * The "attend to the previous token" training check that position-bias tests share (CoPE, FIRE): with content-free
 * queries and keys only the positional bias can steer attention, so a falling loss shows the bias learns.
 */
import {
  attention,
  mean,
  mul,
  type Optimizer,
  slice,
  sub,
  type Tensor,
  tidy,
} from "../../src/engine/index.js";

export interface PreviousTokenTraining {
  /** Queries, used as the keys too: [1, 1, T, D]. */
  q: Tensor;
  /** Values: [1, 1, T, Dv]; the target at token t >= 1 is v[t - 1]. */
  v: Tensor;
  /** Steps the parameters the bias depends on; zeroed before each step's backward pass. */
  optimizer: Optimizer;
  steps: number;
  /** The attention bias for this step, built inside the step's tidy scope. */
  bias: () => Tensor;
}

/**
 * Runs `steps` optimizer steps on loss = mean((out[:, :, 1:] - v[:, :, :T-1])^2), out = causal attention(q, q, v,
 * bias()); returns the loss of each step, measured before that step's update.
 */
export function trainPreviousTokenAttention(options: PreviousTokenTraining): number[] {
  const { q, v, optimizer, steps, bias } = options;
  const T = v.shape[2];
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    losses.push(
      tidy(() => {
        optimizer.zeroGrad();
        const out = attention(q, q, v, { causal: true, bias: bias() });
        const d = sub(slice(out, 2, 1, T), slice(v, 2, 0, T - 1)); // target: the previous token's value
        const loss = mean(mul(d, d));
        loss.backward();
        return loss.item();
      }),
    );
    optimizer.step();
  }
  return losses;
}
