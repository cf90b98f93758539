/** Option handling shared by the coordinate encodings: defaults, unknown keys and ranges in one clear error. */
import { checkNumber, type NumberRule, PosencConfigError } from "../../util/validation.js";
import type { CoordinateEncodingSpec, CoordinateOptions } from "./types.js";

/** Options merged over the spec's defaults; an unknown option name is an error naming the valid ones. */
export function resolveOptions(
  spec: CoordinateEncodingSpec,
  given: CoordinateOptions = {},
): CoordinateOptions {
  const out: CoordinateOptions = {};
  for (const [key, entry] of Object.entries(spec.defaults)) out[key] = entry.value;
  for (const [key, value] of Object.entries(given)) {
    if (!(key in spec.defaults)) {
      throw new PosencConfigError(
        "invalid_value",
        `${spec.id} option`,
        key,
        `one of ${Object.keys(spec.defaults).join(", ") || "(no options)"}`,
      );
    }
    out[key] = value;
  }
  return out;
}

/** A numeric option checked against `rule` (the error names the encoding and the option). */
export function numberOption(id: string, options: CoordinateOptions, key: string, rule: NumberRule): number {
  return checkNumber(`${id}.${key}`, options[key], rule);
}

/** The input dimension must be 2 or 3 (images and planar shapes, volumes). */
export function checkInputDim(id: string, inputDim: number): void {
  if (inputDim !== 2 && inputDim !== 3) {
    throw new PosencConfigError("out_of_range", `${id} input dimension`, inputDim, "2 or 3");
  }
}
