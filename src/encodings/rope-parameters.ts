/**
 * `ropeParameters`: a Hugging Face `config.json` in, RoPE inverse frequencies and attention factor out, exactly
 * as transformers v5's rope initializers compute them (`ROPE_INIT_FUNCTIONS` in modeling_rope_utils.py, plus
 * `compute_default_rope_parameters` for "default"):
 *   default   theta_i = base^(-2i/d)                                        rope.ts
 *   linear    theta_i / s                                                   rope-linear.ts (PI, arXiv:2306.15595)
 *   dynamic   base' = base (s max(L, L0) / L0 - (s - 1))^(d/(d-2))          rope-dynamic-ntk.ts (arXiv:2309.00071)
 *   yarn      ramp between theta_i and theta_i / s; cos, sin *= mscale      yarn.ts (arXiv:2309.00071)
 *   longrope  1 / (lambda_i base^(2i/d)), short/long lambda by seq_len     longrope.ts (arXiv:2402.13753)
 *   llama3    wavelength bands: keep / blend / divide by s                  llama3-rope.ts (arXiv:2407.21783)
 * Config reading and validation (key locations, strict mode, warnings) are in rope-config.ts.
 *
 * `seqLen` is the current sequence length (max position id + 1) HF passes as `seq_len`: only dynamic and
 * longrope use it. dynamic: undefined means max_position_embeddings (plain RoPE), shorter lengths are raised to
 * it. longrope: long_factor when seqLen > original_max_position_embeddings, else (or undefined) short_factor.
 * During generation HF recomputes those two as the sequence grows: createRopeFrequencyCache replays that.
 */
import { checkNumber } from "../util/validation.js";
import {
  type ResolvedRopeConfig,
  type RopeConfigOptions,
  type RopeType,
  readRopeConfig,
  ropeTypeEntry,
} from "./rope-config.js";
import type { RopeFrequencies } from "./rope-config-types.js";
import type { RopeFrequencySchedule, RopeFrequencyUpdate } from "./rope-dynamic-ntk.js";

export {
  type ResolvedRopeConfig,
  ROPE_TYPES,
  type RopeConfigOptions,
  type RopeType,
  readRopeConfig,
} from "./rope-config.js";

export interface RopeParametersOptions extends RopeConfigOptions {
  /** Current sequence length (max position id + 1), HF's `seq_len`; used by dynamic and longrope. */
  seqLen?: number;
}

export interface RopeParameters {
  /** The resolved rope type ("default" when the config has no scaling). */
  ropeType: RopeType;
  /** Rotary dimension d = int(head_dim * partial_rotary_factor); invFreq has d / 2 entries. */
  dim: number;
  /** Inverse frequencies theta_i, i = 0 .. d/2 - 1 (float64; HF holds them in float32). */
  invFreq: Float64Array;
  /** Multiplies cos and sin (HF `attention_scaling`); 1 except for yarn and longrope. */
  attentionFactor: number;
  /** What HF would only warn about (lax mode); empty in strict mode, which throws them instead. */
  warnings: string[];
}

function checkSeqLen(seqLen: number | undefined): void {
  if (seqLen !== undefined) checkNumber("seqLen", seqLen, { min: 0 });
}

/** Frequencies and attention factor of an already validated config, for sequence length `seqLen`. */
export function ropeParametersFromResolved(resolved: ResolvedRopeConfig, seqLen?: number): RopeFrequencies {
  checkSeqLen(seqLen);
  return ropeTypeEntry(resolved).compute(resolved, seqLen);
}

/**
 * RoPE parameters of a Hugging Face config.json object (legacy `rope_scaling` or v5 `rope_parameters`).
 * Lax by default: what HF accepts with a warning is accepted, computed as HF does, and reported in `warnings`
 * (and to `onWarning`); `strict: true` throws those as PosencConfigError instead. Invalid input always throws
 * a PosencConfigError naming the dotted key, the value and what is valid.
 */
export function ropeParameters(config: object, options: RopeParametersOptions = {}): RopeParameters {
  checkSeqLen(options.seqLen);
  const { resolved, warnings } = readRopeConfig(config, options);
  const { invFreq, attentionFactor } = ropeParametersFromResolved(resolved, options.seqLen);
  return { ropeType: resolved.ropeType, dim: resolved.dim, invFreq, attentionFactor, warnings };
}

/** The frequencies of a model over generation steps: HF's `dynamic_rope_update`, per config. */
export interface RopeFrequencyCache extends RopeFrequencySchedule {
  readonly ropeType: RopeType;
  readonly dim: number;
  /** Validation warnings of the config (lax mode). */
  readonly warnings: string[];
}

/**
 * A stateful frequency source for generation, replaying HF's `dynamic_rope_update` decorator. It starts with
 * the frequencies HF computes at model initialisation (seq_len undefined); `update(seqLen)` is one forward pass
 * whose largest position id is seqLen - 1:
 *   dynamic   grows: seqLen > cached length -> recompute for seqLen; resets to the initial frequencies when
 *             seqLen < max_position_embeddings after a longer sequence (HF's `original_max_seq_len`);
 *   longrope  long_factor frequencies when seqLen > original_max_position_embeddings, short_factor otherwise;
 *   others    fixed (update never changes anything).
 */
export function createRopeFrequencyCache(
  config: object,
  options: RopeConfigOptions = {},
): RopeFrequencyCache {
  const { resolved, warnings } = readRopeConfig(config, options);
  const { ropeType, dim } = resolved;
  const entry = ropeTypeEntry(resolved);
  let schedule: RopeFrequencySchedule;
  if (entry.schedule) {
    schedule = entry.schedule(resolved);
  } else {
    const fixed = entry.compute(resolved, undefined);
    schedule = {
      invFreq: fixed.invFreq,
      attentionFactor: fixed.attentionFactor,
      update(seqLen: number): RopeFrequencyUpdate {
        checkNumber("seqLen", seqLen, { min: 0 });
        return { ...fixed, changed: false };
      },
    };
  }
  return {
    ropeType,
    dim,
    warnings,
    get invFreq() {
      return schedule.invFreq;
    },
    get attentionFactor() {
      return schedule.attentionFactor;
    },
    update: (seqLen: number) => schedule.update(seqLen),
  };
}
