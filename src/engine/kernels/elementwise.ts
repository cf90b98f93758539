/**
 * Elementwise kernels: unary maps (one table entry per function, forward above backward) and broadcast binary
 * arithmetic. Backward kernels accumulate (+=) into input gradients.
 *
 * Unary backward kernels receive both the input x and the output y and use whichever is cheaper
 * (exp and sigmoid use y; log and sin use x).
 */
import { type BroadcastPlan, forEachRun } from "./broadcast.js";

type Floats = Float32Array;

export interface UnaryKernel {
  /** y[i] = f(x[i]) for i < n. */
  forward(y: Floats, x: Floats, n: number): void;
  /** dx[i] += f'(x[i]) * dy[i]. */
  backward(dx: Floats, dy: Floats, x: Floats, y: Floats, n: number): void;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

export const unaryKernels = {
  neg: {
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) y[i] = -x[i];
    },
    backward: (dx, dy, _x, _y, n) => {
      for (let i = 0; i < n; i++) dx[i] -= dy[i];
    },
  },
  exp: {
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) y[i] = Math.exp(x[i]);
    },
    // d/dx e^x = e^x = y
    backward: (dx, dy, _x, y, n) => {
      for (let i = 0; i < n; i++) dx[i] += dy[i] * y[i];
    },
  },
  log: {
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) y[i] = Math.log(x[i]);
    },
    backward: (dx, dy, x, _y, n) => {
      for (let i = 0; i < n; i++) dx[i] += dy[i] / x[i];
    },
  },
  sigmoid: {
    forward: (y, x, n) => {
      // Written so exp never overflows: for x < 0, 1/(1+e^-x) = e^x/(1+e^x).
      for (let i = 0; i < n; i++) {
        const v = x[i];
        if (v >= 0) y[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          y[i] = e / (1 + e);
        }
      }
    },
    // s' = s (1 - s)
    backward: (dx, dy, _x, y, n) => {
      for (let i = 0; i < n; i++) dx[i] += dy[i] * y[i] * (1 - y[i]);
    },
  },
  softplus: {
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for large |x|.
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) {
        const v = x[i];
        y[i] = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
      }
    },
    // softplus' = sigmoid(x)
    backward: (dx, dy, x, _y, n) => {
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const s = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
        dx[i] += dy[i] * s;
      }
    },
  },
  tanh: {
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]);
    },
    // tanh' = 1 - tanh^2
    backward: (dx, dy, _x, y, n) => {
      for (let i = 0; i < n; i++) dx[i] += dy[i] * (1 - y[i] * y[i]);
    },
  },
  relu: {
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) y[i] = Math.max(x[i], 0);
    },
    // NOTE: the derivative at exactly 0 is taken as 0.
    backward: (dx, dy, x, _y, n) => {
      for (let i = 0; i < n; i++) if (x[i] > 0) dx[i] += dy[i];
    },
  },
  gelu: {
    // tanh approximation (Hendrycks & Gimpel 2016, as in GPT-2):
    //   gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) {
        const v = x[i];
        y[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v)));
      }
    },
    // d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2),  t = tanh(u)
    backward: (dx, dy, x, _y, n) => {
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const t = Math.tanh(SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v));
        const du = SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * v * v);
        dx[i] += dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
      }
    },
  },
  sin: {
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) y[i] = Math.sin(x[i]);
    },
    backward: (dx, dy, x, _y, n) => {
      for (let i = 0; i < n; i++) dx[i] += dy[i] * Math.cos(x[i]);
    },
  },
  cos: {
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) y[i] = Math.cos(x[i]);
    },
    backward: (dx, dy, x, _y, n) => {
      for (let i = 0; i < n; i++) dx[i] -= dy[i] * Math.sin(x[i]);
    },
  },
  sqrt: {
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) y[i] = Math.sqrt(x[i]);
    },
    // (sqrt x)' = 1 / (2 sqrt x)
    backward: (dx, dy, _x, y, n) => {
      for (let i = 0; i < n; i++) dx[i] += dy[i] / (2 * y[i]);
    },
  },
  abs: {
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) y[i] = Math.abs(x[i]);
    },
    // NOTE: sign(0) = 0, so no gradient flows at exactly 0.
    backward: (dx, dy, x, _y, n) => {
      for (let i = 0; i < n; i++) dx[i] += dy[i] * Math.sign(x[i]);
    },
  },
  sinSqrtAbs: {
    // SPDER's activation (Shah & Sitawarin, arXiv:2306.15242): y = sin(x) sqrt(|x|).
    forward: (y, x, n) => {
      for (let i = 0; i < n; i++) y[i] = Math.sin(x[i]) * Math.sqrt(Math.abs(x[i]));
    },
    // y' = cos(x) sqrt|x| + sin(x) sign(x) / (2 sqrt|x|). The second term tends to 0 at x = 0
    // (sin(x) / sqrt|x| ~ sqrt|x|), so the derivative there is taken as its limit 0, not 0 * Infinity.
    backward: (dx, dy, x, _y, n) => {
      for (let i = 0; i < n; i++) {
        const v = x[i];
        if (v === 0) continue;
        const r = Math.sqrt(Math.abs(v));
        dx[i] += dy[i] * (Math.cos(v) * r + (Math.sin(v) * Math.sign(v)) / (2 * r));
      }
    },
  },
} satisfies Record<string, UnaryKernel>;

export type UnaryName = keyof typeof unaryKernels;

/** y = x^p for a constant exponent p. */
export function powForward(y: Floats, x: Floats, p: number, n: number): void {
  for (let i = 0; i < n; i++) y[i] = x[i] ** p;
}
/** dx += p x^(p-1) dy */
export function powBackward(dx: Floats, dy: Floats, x: Floats, p: number, n: number): void {
  for (let i = 0; i < n; i++) dx[i] += dy[i] * p * x[i] ** (p - 1);
}

export type BinaryName = "add" | "sub" | "mul" | "div";

/**
 * out = a (op) b over a plan with operands [out, a, b] (out contiguous).
 */
export function binaryForward(op: BinaryName, out: Floats, a: Floats, b: Floats, plan: BroadcastPlan): void {
  forEachRun(plan, (off, len, st) => {
    const o = off[0],
      ao = off[1],
      bo = off[2],
      sa = st[1],
      sb = st[2];
    switch (op) {
      case "add":
        for (let j = 0; j < len; j++) out[o + j] = a[ao + j * sa] + b[bo + j * sb];
        break;
      case "sub":
        for (let j = 0; j < len; j++) out[o + j] = a[ao + j * sa] - b[bo + j * sb];
        break;
      case "mul":
        for (let j = 0; j < len; j++) out[o + j] = a[ao + j * sa] * b[bo + j * sb];
        break;
      case "div":
        for (let j = 0; j < len; j++) out[o + j] = a[ao + j * sa] / b[bo + j * sb];
        break;
    }
  });
}

/**
 * Gradients of out = a (op) b, summed over broadcast dims (a stride of 0 accumulates the whole run into one slot).
 * da / db may be null when that input needs no gradient.
 */
export function binaryBackward(
  op: BinaryName,
  da: Floats | null,
  db: Floats | null,
  dout: Floats,
  a: Floats,
  b: Floats,
  plan: BroadcastPlan,
): void {
  // The odometer is inlined (no per-run callback) and each gradient gets its own tight loop per run: a bias
  // gradient (db summed over rows) was several times slower through forEachRun's closure.
  const { dims, strides, size } = plan;
  if (size === 0) return;
  const rank = dims.length;
  const len = rank > 0 ? dims[rank - 1] : 1;
  const sa = rank > 0 ? strides[1][rank - 1] : 0;
  const sb = rank > 0 ? strides[2][rank - 1] : 0;
  const counter = new Int32Array(Math.max(rank, 1));
  const runs = size / len;
  const sign = op === "sub" ? -1 : 1;
  let o = 0;
  let ao = 0;
  let bo = 0;
  for (let r = 0; r < runs; r++) {
    if (op === "add" || op === "sub") {
      if (da) binaryGradAdd(da, ao, sa, dout, o, len, 1);
      if (db) binaryGradAdd(db, bo, sb, dout, o, len, sign);
    } else if (op === "mul") {
      // in the forward pass this was: out = a * b
      if (da) binaryGradMul(da, ao, sa, dout, o, b, bo, sb, len);
      if (db) binaryGradMul(db, bo, sb, dout, o, a, ao, sa, len);
    } else {
      // out = a / b: da = g / b, db = -g a / b^2
      if (da) for (let j = 0; j < len; j++) da[ao + j * sa] += dout[o + j] / b[bo + j * sb];
      if (db) {
        for (let j = 0; j < len; j++) {
          const bv = b[bo + j * sb];
          db[bo + j * sb] -= (dout[o + j] * a[ao + j * sa]) / (bv * bv);
        }
      }
    }
    // Odometer over the outer dims (operand 0, the output, is contiguous).
    for (let d = rank - 2; d >= 0; d--) {
      counter[d]++;
      o += strides[0][d];
      ao += strides[1][d];
      bo += strides[2][d];
      if (counter[d] < dims[d]) break;
      o -= strides[0][d] * dims[d];
      ao -= strides[1][d] * dims[d];
      bo -= strides[2][d] * dims[d];
      counter[d] = 0;
    }
  }
}

/** grad[go + j * gs] += sign * dout[o + j] for j < len. */
function binaryGradAdd(
  grad: Floats,
  go: number,
  gs: number,
  dout: Floats,
  o: number,
  len: number,
  sign: number,
): void {
  if (gs === 1) {
    if (sign === 1) for (let j = 0; j < len; j++) grad[go + j] += dout[o + j];
    else for (let j = 0; j < len; j++) grad[go + j] -= dout[o + j];
  } else {
    for (let j = 0; j < len; j++) grad[go + j * gs] += sign * dout[o + j];
  }
}

/** grad[go + j * gs] += dout[o + j] * other[oo + j * os] for j < len. */
function binaryGradMul(
  grad: Floats,
  go: number,
  gs: number,
  dout: Floats,
  o: number,
  other: Floats,
  oo: number,
  os: number,
  len: number,
): void {
  if (gs === 1 && os === 1) for (let j = 0; j < len; j++) grad[go + j] += dout[o + j] * other[oo + j];
  else for (let j = 0; j < len; j++) grad[go + j * gs] += dout[o + j] * other[oo + j * os];
}

/** out = cond != 0 ? a : b over a plan with operands [out, cond, a, b]. */
export function whereForward(out: Floats, cond: Floats, a: Floats, b: Floats, plan: BroadcastPlan): void {
  forEachRun(plan, (off, len, st) => {
    for (let j = 0; j < len; j++) {
      out[off[0] + j] = cond[off[1] + j * st[1]] !== 0 ? a[off[2] + j * st[2]] : b[off[3] + j * st[3]];
    }
  });
}
/** da += dout where cond, db += dout elsewhere (summed over broadcast dims). */
export function whereBackward(
  da: Floats | null,
  db: Floats | null,
  dout: Floats,
  cond: Floats,
  plan: BroadcastPlan,
): void {
  forEachRun(plan, (off, len, st) => {
    for (let j = 0; j < len; j++) {
      const g = dout[off[0] + j];
      if (cond[off[1] + j * st[1]] !== 0) {
        if (da) da[off[2] + j * st[2]] += g;
      } else if (db) db[off[3] + j * st[3]] += g;
    }
  });
}

/**
 * Strided copy: dst[..] = src[..] over a plan with operands [dst, src] (either may be strided or broadcast). With
 * a plan from the output's side this is expand, permute, slice or one block of a concat.
 */
export function stridedCopy(dst: Floats, src: Floats, plan: BroadcastPlan): void {
  forEachRun(plan, (off, len, st) => {
    const d = off[0],
      s = off[1],
      sd = st[0],
      ss = st[1];
    for (let j = 0; j < len; j++) dst[d + j * sd] = src[s + j * ss];
  });
}
/** Strided accumulate: dst[..] += src[..]; a dst stride of 0 sums the run (the gradient of a broadcast). */
export function stridedAdd(dst: Floats, src: Floats, plan: BroadcastPlan): void {
  forEachRun(plan, (off, len, st) => {
    const d = off[0],
      s = off[1],
      sd = st[0],
      ss = st[1];
    for (let j = 0; j < len; j++) dst[d + j * sd] += src[s + j * ss];
  });
}

/** y = scale * x + shift (arithmetic with a constant). */
export function affineForward(y: Floats, x: Floats, scale: number, shift: number, n: number): void {
  for (let i = 0; i < n; i++) y[i] = scale * x[i] + shift;
}
/** dx += scale * dy */
export function affineBackward(dx: Floats, dy: Floats, scale: number, n: number): void {
  for (let i = 0; i < n; i++) dx[i] += scale * dy[i];
}

/** out[i] = atan2(y[i], x[i]) for i < n (same shapes; the angle of the point (x, y), in (-pi, pi]). */
export function atan2Forward(out: Floats, y: Floats, x: Floats, n: number): void {
  for (let i = 0; i < n; i++) out[i] = Math.atan2(y[i], x[i]);
}
/**
 * dy += dout * x / (x^2 + y^2), dx -= dout * y / (x^2 + y^2). At the origin (no defined angle) no gradient flows,
 * as abs at 0.
 */
export function atan2Backward(
  dy: Floats | null,
  dx: Floats | null,
  dout: Floats,
  y: Floats,
  x: Floats,
  n: number,
): void {
  for (let i = 0; i < n; i++) {
    const r2 = x[i] * x[i] + y[i] * y[i];
    if (r2 === 0) continue;
    const g = dout[i] / r2;
    if (dy) dy[i] += g * x[i];
    if (dx) dx[i] -= g * y[i];
  }
}
