/**
 * The coordinate MLP of a neural field: encoder -> hidden layers -> linear output, with one of three activations:
 *   relu    max(0, z); PyTorch's default Linear init (W, b ~ U(-1/sqrt(n), 1/sqrt(n))), the Fourier-feature papers'
 *           network
 *   siren   sin(omega0 z), omega0 = 30 ("Implicit Neural Representations with Periodic Activation Functions",
 *           Sitzmann et al., NeurIPS 2020, arXiv:2006.09661): first layer W ~ U(-1/n, 1/n), later layers
 *           W ~ U(-sqrt(6/n)/omega0, sqrt(6/n)/omega0), biases PyTorch's default (vsitzmann/siren modules.py)
 *   spder   sin(omega0 z) sqrt(|omega0 z|) ("SPDER: Semiperiodic Damping-Enabled Object Representation", Shah and
 *           Sitawarin, ICLR 2024, arXiv:2306.15242): SIREN's init and omega0 (katop1234/SPDER's SPDERLayer)
 * Architectures:
 *   plain        h_0 = gamma(x), h_i = act(h_{i-1} W_i + b_i), out = h_L W_o + b_o
 *   progressive  PINs (arXiv:2202.04713): block l takes [h_{l-1}, gamma_l(x)] (band l of the encoder's
 *                `encodeLevels`), runs `layers` hidden layers, and has its own linear head; out = sum of the heads,
 *                so later blocks add detail on top of the coarse blocks' output.
 */

import type { CoordinateEncoder } from "../encodings/coordinate/types.js";
import {
  add,
  concat,
  linear,
  mul,
  type Parameter,
  relu,
  sin,
  sinSqrtAbs,
  type Tensor,
  uniformParameter,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";

export const ACTIVATIONS = ["relu", "siren", "spder"] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const ARCHITECTURES = ["plain", "progressive"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface MlpConfig {
  hidden: number;
  /** Hidden layers (per block for the progressive architecture). */
  layers: number;
  activation: Activation;
  architecture: Architecture;
  outputs: number;
  /** SIREN/SPDER frequency omega0 (30 in both papers). */
  omega0?: number;
}

interface Layer {
  w: Parameter;
  b: Parameter;
}

function makeLayer(
  rng: Rng,
  n: number,
  m: number,
  name: string,
  activation: Activation,
  first: boolean,
  omega0: number,
): Layer {
  const bias = 1 / Math.sqrt(n);
  let bound = 1 / Math.sqrt(n);
  if (activation !== "relu") bound = first ? 1 / n : Math.sqrt(6 / n) / omega0;
  return {
    w: uniformParameter(rng, [n, m], -bound, bound, `${name}.w`),
    b: uniformParameter(rng, [m], -bias, bias, `${name}.b`),
  };
}

function activate(activation: Activation, z: Tensor, omega0: number): Tensor {
  if (activation === "relu") return relu(z);
  const scaled = mul(z, omega0);
  return activation === "siren" ? sin(scaled) : sinSqrtAbs(scaled);
}

export class CoordinateMlp {
  readonly parameters: Parameter[];
  private readonly blocks: { layers: Layer[]; head: Layer }[] = [];
  private readonly omega0: number;

  constructor(
    readonly encoder: CoordinateEncoder,
    readonly config: MlpConfig,
    rng: Rng,
  ) {
    const { hidden, layers, activation, architecture, outputs } = config;
    this.omega0 = config.omega0 ?? 30;
    if (architecture === "progressive" && !encoder.encodeLevels) {
      throw new PosencConfigError(
        "invalid_value",
        "architecture",
        "progressive",
        `an encoder with frequency bands (pins), not "${encoder.id}"`,
      );
    }
    const bandWidths = architecture === "progressive" ? bandSizes(encoder) : [encoder.outputDim];
    bandWidths.forEach((width, l) => {
      const block: Layer[] = [];
      let n = width + (l > 0 ? hidden : 0);
      for (let i = 0; i < layers; i++) {
        block.push(
          makeLayer(rng, n, hidden, `block${l}.layer${i}`, activation, l === 0 && i === 0, this.omega0),
        );
        n = hidden;
      }
      this.blocks.push({
        layers: block,
        head: makeLayer(rng, hidden, outputs, `block${l}.head`, activation, false, this.omega0),
      });
    });
    this.parameters = [
      ...encoder.parameters,
      ...this.blocks.flatMap((b) => [...b.layers.flatMap((l) => [l.w, l.b]), b.head.w, b.head.b]),
    ];
  }

  /** Trainable values in all (encoder included). */
  get parameterCount(): number {
    return this.parameters.reduce((s, p) => s + p.size, 0);
  }

  /** x [N, d] -> [N, outputs]. */
  forward(x: Tensor): Tensor {
    const { activation } = this.config;
    const inputs =
      this.config.architecture === "progressive"
        ? (this.encoder.encodeLevels as (x: Tensor) => Tensor[])(x)
        : [this.encoder.encode(x)];
    let out: Tensor | null = null;
    let h: Tensor | null = null;
    this.blocks.forEach((block, l) => {
      h = h ? concat([h, inputs[l]], 1) : inputs[l];
      for (const layer of block.layers) h = activate(activation, linear(h, layer.w, layer.b), this.omega0);
      const y = linear(h, block.head.w, block.head.b);
      out = out ? add(out, y) : y;
    });
    return out as unknown as Tensor;
  }
}

/** Widths of a progressive encoder's bands: its outputs split evenly over its `levels` option. */
function bandSizes(encoder: CoordinateEncoder): number[] {
  const levels = Number(encoder.options.levels);
  const perBand = encoder.outputDim / levels;
  return Array.from({ length: levels }, () => perBand);
}
