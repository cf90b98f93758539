/**
 * The methods `posenc fields --encodings` accepts: an encoding from the coordinate registry with its options, an
 * activation and an architecture for the coordinate MLP, and a learning rate. Presets follow each paper's setting
 * where it fits our domain ([-1, 1]^d, small networks); a config file may override any field.
 */
import type { CoordinateOptions } from "../encodings/coordinate/types.js";
import { PosencConfigError } from "../util/validation.js";
import type { Activation, Architecture } from "./mlp.js";

export type TaskName = "image" | "sdf2d" | "sdf3d";
export const TASK_NAMES: readonly TaskName[] = ["image", "sdf2d", "sdf3d"];

export interface MethodConfig {
  /** The name in tables and folders. */
  name: string;
  encoding: string;
  options: CoordinateOptions;
  activation: Activation;
  architecture: Architecture;
  hidden: number;
  layers: number;
  lr: number;
}

type Preset = Omit<MethodConfig, "name" | "hidden" | "layers"> & { hidden?: number };

/** Fourier scale per task: images carry higher frequencies than the SDFs (whose detail is geometric). */
const sigmaFor = (task: TaskName) => (task === "image" ? 10 : 3);

function presets(task: TaskName): Record<string, Preset> {
  const relu = { activation: "relu", architecture: "plain", lr: 1e-3 } as const;
  const sine = { architecture: "plain", lr: 1e-4, encoding: "identity", options: {} } as const;
  const s = sigmaFor(task);
  const shifted = (basis: string, sigma: number) => ({
    ...relu,
    encoding: "shifted-basis",
    options: { basis, count: 128, sigma },
  });
  return {
    relu: { ...relu, encoding: "identity", options: {} },
    frequency: { ...relu, encoding: "frequency", options: { levels: task === "image" ? 8 : 6 } },
    "gaussian-fourier": { ...relu, encoding: "gaussian-fourier", options: { features: 128, sigma: s } },
    "learnable-fourier": {
      ...relu,
      encoding: "learnable-fourier",
      options: { features: 128, gamma: 1 / (2 * Math.PI * s) },
    },
    "shifted-gaussian": shifted("gaussian", 0.01),
    "shifted-laplacian": shifted("laplacian", 0.01),
    "shifted-triangle": shifted("triangle", 0.015),
    "shifted-sinc": shifted("sinc", 0.01),
    pins: {
      ...relu,
      encoding: "pins",
      architecture: "progressive",
      options: { levels: 4, features: 32, sigmaMin: 1, sigmaMax: 4 * s },
    },
    "pins-fixed": {
      ...relu,
      encoding: "pins",
      options: { levels: 4, features: 32, sigmaMin: 1, sigmaMax: 4 * s },
    },
    siren: { ...sine, activation: "siren" },
    spder: { ...sine, activation: "spder" },
    neuda: {
      ...relu,
      encoding: "neuda",
      options: task === "sdf3d" ? { levels: 4, base: 4, growth: 1.5 } : { levels: 6, base: 8, growth: 1.38 },
    },
  };
}

export function methodNames(task: TaskName): string[] {
  return Object.keys(presets(task));
}

/** The preset of `name` for `task` at the given network size. */
export function methodPreset(task: TaskName, name: string, hidden: number, layers: number): MethodConfig {
  const preset = presets(task)[name];
  if (!preset) {
    throw new PosencConfigError(
      "invalid_value",
      "--encodings",
      name,
      `one of ${methodNames(task).join(", ")}`,
    );
  }
  return { name, hidden, layers, ...preset, options: { ...preset.options } };
}
