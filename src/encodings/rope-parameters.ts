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
 *
 * Every returned number is checked (HF checks none): each inverse frequency must be a normal float32 (HF holds
 * them in float32, as do the cos/sin tables) and the attention factor's square, the scale it puts on the logits,
 * too. Dynamic NTK with factor >= 1e16 cancels s - (s - 1) to 0 and gives Infinity; factor 1e308 gives denormal
 * frequencies; attention_factor 0 or 1e308 zeroes or overflows the logits. Strict: a PosencConfigError naming the
 * key that caused it; lax: a warning, and the values HF would compute.
 *
 * Per-layer-type rope parameters (transformers v5 hybrid models): pass `layerType`; ropeLayerTypes lists them.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { ropeInverseFrequencies } from "./rope.js";
import {
  type ReadRopeConfigOptions,
  type ReadRopeConfigResult,
  type ResolvedRopeConfig,
  type RopeType,
  readRopeConfig,
  ropeTypeEntry,
} from "./rope-config.js";
import type { RopeFrequencies } from "./rope-config-types.js";
import type { RopeFrequencySchedule, RopeFrequencyUpdate } from "./rope-dynamic-ntk.js";

export {
  type ReadRopeConfigOptions,
  type ResolvedRopeConfig,
  ROPE_TYPE_TABLE,
  ROPE_TYPES,
  type RopeConfigOptions,
  type RopeType,
  readRopeConfig,
  ropeLayerTypes,
} from "./rope-config.js";

export interface RopeParametersOptions extends ReadRopeConfigOptions {
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
  /** M-RoPE configs (Qwen2-VL family): mrope_section and mrope_interleaved (see mrope.ts). */
  mrope?: { section: [number, number, number]; interleaved: boolean };
}

function checkSeqLen(seqLen: number | undefined): void {
  if (seqLen !== undefined) checkNumber("seqLen", seqLen, { min: 0 });
}

/** Frequencies and attention factor of an already validated config, for sequence length `seqLen`. */
export function ropeParametersFromResolved(resolved: ResolvedRopeConfig, seqLen?: number): RopeFrequencies {
  checkSeqLen(seqLen);
  return ropeTypeEntry(resolved).compute(resolved, seqLen);
}

/** The smallest normal float32, 2^-126, and the largest float32. */
export const FLOAT32_MIN_NORMAL = 2 ** -126;
export const FLOAT32_MAX = 3.4028234663852886e38;
/** Attention factors whose square (the logit scale) is a normal float32: [2^-63, 2^63]. */
export const ATTENTION_FACTOR_RANGE = [2 ** -63, 2 ** 63] as const;

const isNormalFloat32 = (v: number) => v >= FLOAT32_MIN_NORMAL && v <= FLOAT32_MAX;

/**
 * The first returned number outside its range, as the error to throw (strict) or warn (lax), blaming the input
 * that caused it: rope_theta when plain RoPE of that base already fails, else the type's scale key (factor, the
 * LongRoPE list in use); factor for an inferred attention factor (an explicit one is checked when read).
 */
export function ropeFrequencyProblem(
  read: Pick<ReadRopeConfigResult, "resolved" | "path" | "baseKey">,
  frequencies: RopeFrequencies,
  seqLen?: number,
): PosencConfigError | undefined {
  const { resolved, path, baseKey } = read;
  const at = seqLen === undefined ? "" : ` at seq len ${seqLen}`;
  const { attentionFactor } = frequencies;
  const [lowest, highest] = ATTENTION_FACTOR_RANGE;
  // An explicit attention_factor out of this range is already an issue of the reader; an inferred one is blamed
  // on the factor it comes from.
  const explicit = "attentionFactor" in resolved && resolved.attentionFactor !== null;
  if (!explicit && !(attentionFactor >= lowest && attentionFactor <= highest)) {
    return new PosencConfigError(
      "out_of_range",
      `${path}.factor`,
      (resolved as { factor?: number }).factor,
      `a value giving an attention factor in [2^-63, 2^63] (it multiplies cos and sin, so the logits scale by its square, which must stay a normal float32); this gives ${attentionFactor}${at}`,
    );
  }
  const { invFreq } = frequencies;
  const i = invFreq.findIndex((v) => !isNormalFloat32(v));
  if (i < 0) return undefined;
  const range = `normal float32 numbers, ${FLOAT32_MIN_NORMAL.toPrecision(3)} .. ${FLOAT32_MAX.toPrecision(3)}, as HF holds them`;
  if (!ropeInverseFrequencies(resolved.dim, resolved.base).every(isNormalFloat32)) {
    return new PosencConfigError(
      "out_of_range",
      baseKey,
      resolved.base,
      `a base whose rotary dim ${resolved.dim} frequencies base^(-2i/d) are ${range}`,
    );
  }
  const entry = ropeTypeEntry(resolved);
  const blamed = entry.scaleInput?.(resolved, seqLen) ?? {
    key: "factor",
    value: (resolved as { factor?: number }).factor,
  };
  return new PosencConfigError(
    "out_of_range",
    `${path}.${blamed.key}`,
    blamed.value,
    `a value giving inverse frequencies that are ${range}; this gives inv_freq[${i}] = ${invFreq[i]}${at}`,
  );
}

/** Strict: throws the problem; lax: records it as a warning (and passes it to onWarning). */
function reportProblem(
  problem: PosencConfigError | undefined,
  options: ReadRopeConfigOptions,
  warnings: string[],
): void {
  if (!problem) return;
  if (options.strict) throw problem;
  warnings.push(problem.message);
  options.onWarning?.(problem);
}

/**
 * RoPE parameters of a Hugging Face config.json object (legacy `rope_scaling` or v5 `rope_parameters`).
 * Lax by default: what HF accepts with a warning is accepted, computed as HF does, and reported in `warnings`
 * (and to `onWarning`); `strict: true` throws those as PosencConfigError instead. Invalid input always throws
 * a PosencConfigError naming the dotted key, the value and what is valid.
 */
export function ropeParameters(config: object, options: RopeParametersOptions = {}): RopeParameters {
  checkSeqLen(options.seqLen);
  const read = readRopeConfig(config, options);
  const { resolved, warnings } = read;
  const frequencies = ropeParametersFromResolved(resolved, options.seqLen);
  reportProblem(ropeFrequencyProblem(read, frequencies, options.seqLen), options, warnings);
  const { invFreq, attentionFactor } = frequencies;
  const { ropeType, dim } = resolved;
  return { ropeType, dim, invFreq, attentionFactor, warnings, ...(read.mrope ? { mrope: read.mrope } : {}) };
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
  options: ReadRopeConfigOptions = {},
): RopeFrequencyCache {
  const read = readRopeConfig(config, options);
  const { resolved, warnings } = read;
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
  reportProblem(ropeFrequencyProblem(read, schedule), options, warnings);
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
    update(seqLen: number): RopeFrequencyUpdate {
      const next = schedule.update(seqLen);
      if (next.changed) reportProblem(ropeFrequencyProblem(read, next, seqLen), options, warnings);
      return next;
    },
  };
}
