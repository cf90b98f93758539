/**
 * A small reader and writer of the safetensors format (huggingface/safetensors, the checkpoint format of the lab).
 *
 * Layout of a file:
 *   bytes 0..7        N, the header length, an unsigned 64-bit little-endian integer
 *   bytes 8..8+N-1    the header: UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}
 *                     (padded with spaces so the data starts 8-byte aligned, as the reference writer does)
 *   bytes 8+N..       the data buffer; each tensor's raw little-endian bytes at [begin, end) relative to it
 * Tensors are written in name order, contiguous, without gaps (the format forbids holes and overlaps).
 * `__metadata__` maps strings to strings only.
 *
 * Supported dtypes: F32, F64, I32 and U8, the ones the lab stores (parameters, optimizer moments, counters).
 */

export type SafetensorsDtype = "F32" | "F64" | "I32" | "U8";
export type TensorData = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  data: TensorData;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I32: 4, U8: 1 };
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function dtypeOf(data: TensorData): SafetensorsDtype {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Int32Array) return "I32";
  return "U8";
}

function checkShape(name: string, shape: readonly number[], elements: number): void {
  const size = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0) || size !== elements) {
    throw new RangeError(
      `safetensors: tensor "${name}" has ${elements} elements but shape [${shape.join(", ")}]`,
    );
  }
}

/** Little-endian bytes of a typed array (a copy). */
function toLittleEndianBytes(data: TensorData): Uint8Array {
  const bytes = new Uint8Array(data.byteLength);
  if (LITTLE_ENDIAN) {
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return bytes;
  }
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * 4, data[i], true);
    else if (data instanceof Float64Array) view.setFloat64(i * 8, data[i], true);
    else if (data instanceof Int32Array) view.setInt32(i * 4, data[i], true);
    else view.setUint8(i, data[i]);
  }
  return bytes;
}

function fromLittleEndianBytes(dtype: SafetensorsDtype, bytes: Uint8Array): TensorData {
  const copy = bytes.slice(); // aligned, owned
  const view = new DataView(copy.buffer);
  const n = copy.byteLength / BYTES[dtype];
  switch (dtype) {
    case "U8":
      return copy;
    case "F32": {
      if (LITTLE_ENDIAN) return new Float32Array(copy.buffer);
      return Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * 4, true));
    }
    case "F64": {
      if (LITTLE_ENDIAN) return new Float64Array(copy.buffer);
      return Float64Array.from({ length: n }, (_, i) => view.getFloat64(i * 8, true));
    }
    case "I32": {
      if (LITTLE_ENDIAN) return new Int32Array(copy.buffer);
      return Int32Array.from({ length: n }, (_, i) => view.getInt32(i * 4, true));
    }
  }
}

/** Serializes named tensors (written in name order) and string metadata into one safetensors file. */
export function encodeSafetensors(
  tensors:
    | ReadonlyMap<string, { shape: readonly number[]; data: TensorData }>
    | Record<string, { shape: readonly number[]; data: TensorData }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
  );
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new RangeError(`safetensors: metadata "${k}" must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new RangeError('safetensors: "__metadata__" is not a tensor name');
    checkShape(name, t.shape, t.data.length);
    const bytes = toLittleEndianBytes(t.data);
    header[name] = {
      dtype: dtypeOf(t.data),
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes.byteLength],
    };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let at = 8 + json.byteLength;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** Parses a safetensors file; throws a RangeError naming what is malformed. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.byteLength < 8)
    throw new RangeError(`safetensors: file of ${bytes.byteLength} bytes has no header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(bytes.byteLength - 8)) {
    throw new RangeError(
      `safetensors: header length ${headerLength} exceeds the file (${bytes.byteLength} bytes)`,
    );
  }
  const n = Number(headerLength);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (error) {
    throw new RangeError(`safetensors: header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) {
    throw new RangeError("safetensors: header is not a JSON object");
  }
  const data = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  const spans: [number, number, string][] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") throw new RangeError(`safetensors: metadata "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info.dtype as SafetensorsDtype;
    if (!(typeof dtype === "string" && dtype in BYTES)) {
      throw new RangeError(
        `safetensors: tensor "${name}" has unsupported dtype ${JSON.stringify(info.dtype)}`,
      );
    }
    const shape = info.shape as number[];
    const offsets = info.data_offsets as [number, number];
    if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) {
      throw new RangeError(`safetensors: tensor "${name}" needs a shape and two data_offsets`);
    }
    const [begin, end] = offsets;
    if (
      !Number.isSafeInteger(begin) ||
      !Number.isSafeInteger(end) ||
      begin < 0 ||
      end < begin ||
      end > data.byteLength
    ) {
      throw new RangeError(
        `safetensors: tensor "${name}" data_offsets [${begin}, ${end}] outside the ${data.byteLength}-byte buffer`,
      );
    }
    if ((end - begin) % BYTES[dtype] !== 0) {
      throw new RangeError(
        `safetensors: tensor "${name}" spans ${end - begin} bytes, not a multiple of ${dtype}`,
      );
    }
    const values = fromLittleEndianBytes(dtype, data.subarray(begin, end));
    checkShape(name, shape, values.length);
    tensors.set(name, { dtype, shape, data: values });
    spans.push([begin, end, name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let expected = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== expected)
      throw new RangeError(
        `safetensors: tensor "${name}" starts at ${begin}, expected ${expected} (holes or overlaps)`,
      );
    expected = end;
  }
  if (expected !== data.byteLength) {
    throw new RangeError(`safetensors: data buffer has ${data.byteLength} bytes, tensors cover ${expected}`);
  }
  return { tensors, metadata };
}
