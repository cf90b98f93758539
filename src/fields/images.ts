/**
 * Images the package generates (no files to ship): analytic RGB functions of (x, y) in [-1, 1]^2, sampled at pixel
 * centres, values in [0, 1]. Row r, column c sits at x = -1 + (2c + 1)/W, y = -1 + (2r + 1)/H (y down).
 *   square   a white square |x|, |y| < 0.5 on black (for tests: its fit and scores are known)
 *   pattern  a test card with every frequency a neural field must learn: a smooth colour gradient, a sharp-edged
 *            disc, a fine checkerboard, a zone plate sin(40 r^2) and thin lines
 */
export const IMAGE_NAMES = ["pattern", "square"] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

export interface FieldImage {
  width: number;
  height: number;
  channels: 3;
  /** [height, width, 3] row-major, in [0, 1]. */
  pixels: Float64Array;
}

/** Pixel-centre coordinates [H W, 2] as (x, y), row-major. */
export function pixelCoordinates(width: number, height: number): Float64Array {
  const out = new Float64Array(width * height * 2);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      out[(r * width + c) * 2] = -1 + (2 * c + 1) / width;
      out[(r * width + c) * 2 + 1] = -1 + (2 * r + 1) / height;
    }
  }
  return out;
}

function patternColour(x: number, y: number): [number, number, number] {
  // Background: a smooth gradient.
  let rgb: [number, number, number] = [0.25 + 0.2 * x, 0.3 + 0.2 * y, 0.55 - 0.15 * x * y];
  // Sharp-edged disc, upper left.
  if ((x + 0.5) ** 2 + (y + 0.5) ** 2 < 0.35 ** 2) rgb = [0.9, 0.25, 0.2];
  // Fine checkerboard, upper right (cells of 0.1).
  if (x > 0.1 && x < 0.9 && y > -0.9 && y < -0.1) {
    const v = (Math.floor(x * 10) + Math.floor(y * 10)) & 1 ? 0.95 : 0.1;
    rgb = [v, v, v];
  }
  // Zone plate, lower right: frequency grows with radius.
  const r2 = (x - 0.5) ** 2 + (y - 0.5) ** 2;
  if (r2 < 0.4 ** 2) {
    const v = 0.5 + 0.5 * Math.sin(40 * r2 * 4);
    rgb = [v, 0.6 * v + 0.2, 0.3];
  }
  // Thin lines (width 0.02), lower left.
  if (x < -0.1 && x > -0.9 && y > 0.1 && y < 0.9 && Math.abs(((x + 0.9) % 0.2) - 0.1) < 0.01)
    rgb = [1, 1, 0.6];
  return rgb;
}

export function generateImage(name: ImageName, width: number, height: number): FieldImage {
  const pixels = new Float64Array(width * height * 3);
  const coords = pixelCoordinates(width, height);
  for (let p = 0; p < width * height; p++) {
    const x = coords[2 * p];
    const y = coords[2 * p + 1];
    const rgb: [number, number, number] =
      name === "square"
        ? Math.abs(x) < 0.5 && Math.abs(y) < 0.5
          ? [1, 1, 1]
          : [0, 0, 0]
        : patternColour(x, y);
    for (let k = 0; k < 3; k++) pixels[p * 3 + k] = Math.min(1, Math.max(0, rgb[k]));
  }
  return { width, height, channels: 3, pixels };
}
