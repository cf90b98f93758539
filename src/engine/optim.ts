/**
 * Optimizers (SGD with momentum, Adam, AdamW), global-norm gradient clipping and the warmup + cosine learning-rate
 * schedule. Optimizer state buffers live in engine memory beside each parameter and are kept for the whole run.
 */

import { checkNumber } from "../util/validation.js";
import { kernels } from "./kernels/index.js";
import { allocStorage, freeStorage } from "./storage.js";
import type { Parameter } from "./tensor.js";

export interface Optimizer {
  /** Applies one update from the parameters' current gradients (parameters without a gradient are skipped). */
  step(lr?: number): void;
  /** Zeroes every parameter's gradient. */
  zeroGrad(): void;
  /** Frees optimizer state. */
  dispose(): void;
  readonly params: readonly Parameter[];
}

export interface SgdConfig {
  lr: number;
  momentum?: number;
  weightDecay?: number;
}

export class Sgd implements Optimizer {
  private readonly buffers: Float32Array[];
  private readonly lr: number;
  private readonly momentum: number;
  private readonly weightDecay: number;

  constructor(
    readonly params: readonly Parameter[],
    config: SgdConfig,
  ) {
    this.lr = checkNumber("sgd.lr", config.lr, { min: 0 });
    this.momentum = checkNumber("sgd.momentum", config.momentum ?? 0, { min: 0, max: 1 });
    this.weightDecay = checkNumber("sgd.weightDecay", config.weightDecay ?? 0, { min: 0 });
    this.buffers = params.map((p) => allocStorage(p.size));
  }

  step(lr = this.lr): void {
    const k = kernels();
    this.params.forEach((p, i) => {
      if (p.grad) k.sgdUpdate(p.data, p.grad, this.buffers[i], p.size, lr, this.momentum, this.weightDecay);
    });
  }

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  dispose(): void {
    for (const b of this.buffers) freeStorage(b);
    this.buffers.length = 0;
  }
}

export interface AdamConfig {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay p -= lr * weightDecay * p. */
  weightDecay?: number;
}

/** Adam (Kingma & Ba 2014, arXiv:1412.6980) with bias correction. */
export class Adam implements Optimizer {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  /** Number of steps taken (the t of the bias correction). */
  stepCount = 0;

  constructor(
    readonly params: readonly Parameter[],
    config: AdamConfig,
    private readonly decoupled = false,
  ) {
    const name = decoupled ? "adamw" : "adam";
    this.lr = checkNumber(`${name}.lr`, config.lr, { min: 0 });
    this.beta1 = checkNumber(`${name}.beta1`, config.beta1 ?? 0.9, { min: 0, max: 1, exclusiveMax: true });
    this.beta2 = checkNumber(`${name}.beta2`, config.beta2 ?? 0.999, { min: 0, max: 1, exclusiveMax: true });
    this.eps = checkNumber(`${name}.eps`, config.eps ?? 1e-8, { min: 0 });
    this.weightDecay = checkNumber(`${name}.weightDecay`, config.weightDecay ?? (decoupled ? 0.01 : 0), {
      min: 0,
    });
    this.m = params.map((p) => allocStorage(p.size));
    this.v = params.map((p) => allocStorage(p.size));
  }

  step(lr = this.lr): void {
    this.stepCount++;
    const k = kernels();
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      k.adamUpdate(
        p.data,
        p.grad,
        this.m[i],
        this.v[i],
        p.size,
        lr,
        this.beta1,
        this.beta2,
        this.eps,
        this.weightDecay,
        this.decoupled,
        this.stepCount,
      );
    });
  }

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  dispose(): void {
    for (const b of [...this.m, ...this.v]) freeStorage(b);
    this.m.length = 0;
    this.v.length = 0;
  }
}

/** AdamW (Loshchilov & Hutter 2017, arXiv:1711.05101): Adam with decoupled weight decay (default 0.01). */
export class AdamW extends Adam {
  constructor(params: readonly Parameter[], config: AdamConfig) {
    super(params, config, true);
  }
}

/**
 * Scales all gradients so their global L2 norm is at most maxNorm (as torch.nn.utils.clip_grad_norm_).
 * Returns the norm before clipping.
 */
export function clipGradNorm(params: readonly Parameter[], maxNorm: number): number {
  checkNumber("clipGradNorm.maxNorm", maxNorm, { min: 0, exclusiveMin: true });
  const k = kernels();
  let sq = 0;
  for (const p of params) if (p.grad) sq += k.sumOfSquares(p.grad, p.size);
  const norm = Math.sqrt(sq);
  if (norm > maxNorm) {
    const factor = maxNorm / (norm + 1e-6);
    for (const p of params) if (p.grad) k.scaleInPlace(p.grad, factor, p.size);
  }
  return norm;
}

export interface ScheduleConfig {
  /** Peak learning rate, reached at the end of warmup. */
  maxLr: number;
  /** Floor the cosine decays to. */
  minLr: number;
  warmupSteps: number;
  /** Step at which the decay reaches minLr (and stays there). */
  decaySteps: number;
}

/**
 * Warmup + cosine decay (nanoGPT's get_lr), a pure function of the step (0-based):
 *   1) linear warmup: maxLr * (step + 1) / warmupSteps for step < warmupSteps
 *   2) after decaySteps: minLr
 *   3) in between, cosine from maxLr down to minLr
 */
export function learningRateAt(step: number, config: ScheduleConfig): number {
  const { maxLr, minLr, warmupSteps, decaySteps } = config;
  if (step < warmupSteps) return (maxLr * (step + 1)) / warmupSteps;
  if (step >= decaySteps) return minLr;
  const ratio = (step - warmupSteps) / Math.max(decaySteps - warmupSteps, 1);
  const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio));
  return minLr + coeff * (maxLr - minLr);
}
