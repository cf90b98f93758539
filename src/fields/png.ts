/** PNG output through pngjs (a maintained encoder; zlib comes from Node), and data URIs for the HTML report. */
import pngjs from "pngjs";

/** RGB values in [0, 1], [height, width, 3] row-major -> PNG bytes (8-bit RGBA, opaque). */
export function encodePng(pixels: ArrayLike<number>, width: number, height: number): Uint8Array {
  if (pixels.length !== width * height * 3) {
    throw new RangeError(`encodePng: ${pixels.length} values for a ${width} x ${height} RGB image`);
  }
  const png = new pngjs.PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++)
      png.data[4 * i + k] = Math.round(255 * Math.min(1, Math.max(0, pixels[3 * i + k])));
    png.data[4 * i + 3] = 255;
  }
  return new Uint8Array(pngjs.PNG.sync.write(png));
}

/** PNG bytes -> RGB values in [0, 1] (for tests and for reading back). */
export function decodePng(bytes: Uint8Array): { width: number; height: number; pixels: Float64Array } {
  const png = pngjs.PNG.sync.read(Buffer.from(bytes));
  const pixels = new Float64Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++)
    for (let k = 0; k < 3; k++) pixels[3 * i + k] = png.data[4 * i + k] / 255;
  return { width: png.width, height: png.height, pixels };
}

export function pngDataUri(bytes: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(bytes).toString("base64")}`;
}
