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
 * The header is validated with a zod schema, like a config: one line naming the file, the key and what is valid.
 */
import { z } from "zod";
import { PosencConfigError } from "../util/validation.js";
import { zodIssueToConfigError } from "./zod-issues.js";

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

const tensorInfoSchema = z.object({
  dtype: z
    .enum(["F32", "F64", "I32", "U8"])
    .describe('a supported dtype: one of "F32", "F64", "I32", "U8" (the ones posenc stores)'),
  shape: z.array(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)).describe("a list of integers >= 0"),
  data_offsets: z
    .tuple([z.number().int().min(0), z.number().int().min(0)])
    .describe("two integers [begin, end] with 0 <= begin <= end"),
});
const metadataSchema = z.record(z.string(), z.string().describe("a string"));

/**
 * Parses a safetensors file. Anything malformed is one PosencConfigError whose key starts with `source` (the
 * file's name): truncated or empty files, a header length beyond the file, a header that is not a JSON object,
 * an unsupported dtype, offsets outside the buffer, holes, overlaps, shapes that disagree with the byte counts.
 */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors"): SafetensorsFile {
  const fail = (key: string, received: unknown, expected: string): never => {
    throw new PosencConfigError("invalid_value", `${source} ${key}`.trim(), received, expected);
  };
  if (bytes.byteLength < 8) {
    fail(
      "header length",
      `a file of ${bytes.byteLength} bytes`,
      "an 8-byte header length first (the file is truncated or empty: no header length)",
    );
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(bytes.byteLength - 8)) {
    fail(
      "header length",
      Number(headerLength),
      `at most the ${bytes.byteLength - 8} bytes after it (the header length exceeds the file)`,
    );
  }
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (error) {
    fail("header", `${n} bytes`, `UTF-8 JSON (${(error as Error).message.split("\n")[0]})`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) {
    fail("header", header, "a JSON object of tensors");
  }
  const data = bytes.subarray(8 + n);
  let metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  const spans: [number, number, string][] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      const parsed = metadataSchema.safeParse(value);
      if (!parsed.success)
        throw zodIssueToConfigError(metadataSchema, value, parsed.error.issues, `${source} __metadata__`);
      metadata = parsed.data;
      continue;
    }
    const prefix = `${source} tensor ${JSON.stringify(name)}`;
    const parsed = tensorInfoSchema.safeParse(value);
    if (!parsed.success) throw zodIssueToConfigError(tensorInfoSchema, value, parsed.error.issues, prefix);
    const { dtype, shape, data_offsets } = parsed.data;
    const [begin, end] = data_offsets;
    if (end < begin || end > data.byteLength) {
      fail(
        `tensor ${JSON.stringify(name)} data_offsets`,
        [begin, end],
        `offsets inside the ${data.byteLength}-byte data buffer`,
      );
    }
    if ((end - begin) % BYTES[dtype] !== 0) {
      fail(
        `tensor ${JSON.stringify(name)} data_offsets`,
        [begin, end],
        `a span that is a multiple of ${BYTES[dtype]} bytes (${dtype})`,
      );
    }
    const elements = (end - begin) / BYTES[dtype];
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== elements) {
      fail(
        `tensor ${JSON.stringify(name)} shape`,
        shape,
        `a shape of ${elements} elements (its data has ${elements})`,
      );
    }
    tensors.set(name, { dtype, shape, data: fromLittleEndianBytes(dtype, data.subarray(begin, end)) });
    spans.push([begin, end, name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let expected = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== expected) {
      fail(
        `tensor ${JSON.stringify(name)} data_offsets`,
        [begin, end],
        `tensors without holes or overlaps (it starts at ${begin}, expected ${expected})`,
      );
    }
    expected = end;
  }
  if (expected !== data.byteLength) {
    fail("data buffer", `${data.byteLength} bytes`, `exactly the ${expected} bytes the tensors cover`);
  }
  return { tensors, metadata };
}
