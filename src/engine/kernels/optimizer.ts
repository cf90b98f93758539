/**
 * Parameter update kernels, one flat loop over a parameter's elements.
 */
type Floats = Float32Array;

/**
 * Adam (Kingma & Ba 2014, arXiv:1412.6980) with optional decoupled weight decay (AdamW, Loshchilov & Hutter 2017,
 * arXiv:1711.05101):
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)  +  lr * weightDecay * p
 * `l2` instead adds weightDecay * p to the gradient first (classic Adam with L2 regularisation).
 */
export function adamUpdate(
  param: Floats,
  grad: Floats,
  m: Floats,
  v: Floats,
  n: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  weightDecay: number,
  decoupled: boolean,
  step: number,
): void {
  const c1 = 1 - beta1 ** step;
  const c2 = 1 - beta2 ** step;
  for (let i = 0; i < n; i++) {
    const p = param[i];
    const g = decoupled ? grad[i] : grad[i] + weightDecay * p;
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const update = mi / c1 / (Math.sqrt(vi / c2) + eps);
    param[i] = p - lr * update - (decoupled ? lr * weightDecay * p : 0);
  }
}

/** SGD with momentum (PyTorch's form): buf = mu buf + g (+ wd p); p -= lr buf. */
export function sgdUpdate(
  param: Floats,
  grad: Floats,
  buf: Floats,
  n: number,
  lr: number,
  momentum: number,
  weightDecay: number,
): void {
  for (let i = 0; i < n; i++) {
    const g = grad[i] + weightDecay * param[i];
    const b = momentum * buf[i] + g;
    buf[i] = b;
    param[i] -= lr * b;
  }
}

/** Sum of squares of x (accumulated in float64), for global-norm clipping. */
export function sumOfSquares(x: Floats, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}

/** x *= factor. */
export function scaleInPlace(x: Floats, factor: number, n: number): void {
  for (let i = 0; i < n; i++) x[i] *= factor;
}
