/**
 * The coordinate-encoding registry: one line per method. `posenc fields`, `posenc list` and the docs read it
 * (the main registry in ../registry.ts covers sequence encodings; this one covers neural-field inputs).
 */
import { PosencConfigError } from "../../util/validation.js";
import { frequencySpec } from "./frequency.js";
import { identitySpec } from "./identity.js";
import { learnableFourierSpec } from "./learnable-fourier.js";
import { neudaSpec } from "./neuda.js";
import { progressiveBandsSpec } from "./progressive-bands.js";
import { randomFourierSpec } from "./random-fourier.js";
import { shiftedBasisSpec } from "./shifted-basis.js";
import type { CoordinateEncodingSpec } from "./types.js";

export const coordinateEncodingRegistry: readonly CoordinateEncodingSpec[] = [
  identitySpec,
  frequencySpec,
  randomFourierSpec,
  learnableFourierSpec,
  shiftedBasisSpec,
  progressiveBandsSpec,
  neudaSpec,
];

export function getCoordinateEncoding(id: string): CoordinateEncodingSpec {
  const spec = coordinateEncodingRegistry.find((s) => s.id === id);
  if (!spec) {
    throw new PosencConfigError(
      "invalid_value",
      "coordinate encoding",
      id,
      `one of ${coordinateEncodingRegistry.map((s) => s.id).join(", ")}`,
    );
  }
  return spec;
}
