import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../src/lab/files.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/lab/safetensors.js";

const ascii = (s: string) => Array.from(new TextEncoder().encode(s));
const le32 = (x: number) => Array.from(new Uint8Array(new Float32Array([x]).buffer));

describe("safetensors", () => {
  it("writes the exact bytes of the format: u64 LE header length, space-padded JSON, LE data", () => {
    const bytes = encodeSafetensors({ a: { shape: [2], data: new Float32Array([1, -2.5]) } });
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes, padded to 56
    const expected = [56, 0, 0, 0, 0, 0, 0, 0, ...ascii(header), 0x20, 0x20, ...le32(1), ...le32(-2.5)];
    expect(Array.from(bytes)).toEqual(expected);
    // 1.0f = 0x3f800000, little-endian: 00 00 80 3f.
    expect(Array.from(bytes.subarray(64, 68))).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });

  it("reads a hand-built file with metadata, tensors stored out of name order, and several dtypes", () => {
    const header = JSON.stringify({
      __metadata__: { format: "pt" },
      z: { dtype: "I32", shape: [1, 2], data_offsets: [0, 8] },
      b: { dtype: "F64", shape: [], data_offsets: [8, 16] },
      m: { dtype: "U8", shape: [3], data_offsets: [16, 19] },
    });
    const n = ascii(header).length;
    const data = [
      ...Array.from(new Uint8Array(new Int32Array([-7, 65536]).buffer)),
      ...Array.from(new Uint8Array(new Float64Array([Math.PI]).buffer)),
      1,
      2,
      255,
    ];
    const file = new Uint8Array([n, 0, 0, 0, 0, 0, 0, 0, ...ascii(header), ...data]);
    const parsed = decodeSafetensors(file);
    expect(parsed.metadata).toEqual({ format: "pt" });
    expect(parsed.tensors.get("z")).toEqual({
      dtype: "I32",
      shape: [1, 2],
      data: new Int32Array([-7, 65536]),
    });
    expect(parsed.tensors.get("b")?.data).toEqual(new Float64Array([Math.PI]));
    expect(Array.from(parsed.tensors.get("m")?.data ?? [])).toEqual([1, 2, 255]);
  });

  it("round-trips any float32 values bit for bit (NaN payloads, -0, subnormals included)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        (bits, cols) => {
          const rows = Math.floor(bits.length / cols);
          const raw = new Uint32Array(bits.slice(0, rows * cols));
          const values = new Float32Array(raw.buffer);
          const bytes = encodeSafetensors(new Map([["w", { shape: [rows, cols], data: values }]]), {
            step: "3",
          });
          const back = decodeSafetensors(bytes);
          expect(back.metadata).toEqual({ step: "3" });
          const t = back.tensors.get("w");
          expect(t?.shape).toEqual([rows, cols]);
          expect(Array.from(new Uint32Array((t as { data: Float32Array }).data.buffer))).toEqual(
            Array.from(raw),
          );
          expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
        },
      ),
    );
  });

  it("rejects malformed files with a message naming the problem", () => {
    expect(() => decodeSafetensors(new Uint8Array(4))).toThrow(/no header length/);
    const huge = new Uint8Array(16);
    huge[0] = 200;
    expect(() => decodeSafetensors(huge, "w.safetensors")).toThrow(
      /^Invalid w\.safetensors header length: expected at most the 8 bytes after it \(the header length exceeds the file\), received 200$/,
    );
    const hole = ascii('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}');
    expect(() =>
      decodeSafetensors(new Uint8Array([hole.length, 0, 0, 0, 0, 0, 0, 0, ...hole, 0, 0])),
    ).toThrow(/starts at 1, expected 0/);
    const dtype = ascii('{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}');
    expect(() =>
      decodeSafetensors(new Uint8Array([dtype.length, 0, 0, 0, 0, 0, 0, 0, ...dtype, 0, 0])),
    ).toThrow(
      /^Invalid safetensors tensor "a"\.dtype: expected a supported dtype: one of .*received "BF16"$/,
    );
    expect(() => encodeSafetensors({ a: { shape: [3], data: new Float32Array(2) } })).toThrow(
      /2 elements but shape \[3\]/,
    );
  });
});

describe("writeFileAtomic", () => {
  it("replaces the file whole and leaves no temporary file behind", () => {
    const dir = mkdtempSync(join(tmpdir(), "posenc-atomic-"));
    const path = join(dir, "sub", "results.json");
    writeFileAtomic(path, "old");
    writeFileAtomic(path, new Uint8Array([110, 101, 119]));
    expect(readFileSync(path, "utf8")).toBe("new");
    expect(readdirSync(join(dir, "sub"))).toEqual(["results.json"]);
  });

  it("keeps the old file when the write fails", () => {
    const dir = mkdtempSync(join(tmpdir(), "posenc-atomic-"));
    const path = join(dir, "a.txt");
    writeFileSync(path, "old");
    // A directory where the temporary file should go makes the write fail before the rename.
    const blocker = join(dir, `.a.txt.${process.pid}.tmp`);
    writeFileAtomic(join(blocker, "x"), "y"); // creates the directory
    expect(() => writeFileAtomic(path, "new")).toThrow();
    expect(readFileSync(path, "utf8")).toBe("old");
    expect(existsSync(blocker)).toBe(true);
  });
});
