/**
 * The runnable examples: examples/library.mjs is the README's library snippet as a whole program. It imports
 * "posenc" by name (resolved through package.json "exports" to the built dist/), as an installed user does;
 * .ci/run also runs it in a fresh project against the packed tarball.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");

it("runs examples/library.mjs against the built package and prints the values the README promises", () => {
  const result = spawnSync(process.execPath, [join(root, "examples/library.mjs")], {
    cwd: root,
    encoding: "utf8",
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  expect(result.stdout.trimEnd().split("\n")).toEqual([
    "rope type llama3, rotary dim 128, 64 frequencies, attention factor 1",
    // Lowest frequency of Llama 3.1: 500000^(-126/128), beyond the low-frequency wavelength, divided by 8.
    `inv_freq[0] = 1, inv_freq[63] = ${(500000 ** (-126 / 128) / 8).toExponential(6)}`,
    expect.stringMatching(/^rotation keeps the norm of a head: (\d+\.\d{4}) -> \1$/),
    "alibi slopes for 6 heads: 0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125",
    // T5, bidirectional, 32 buckets: key 10 behind -> 8 (log range), 5 -> 5, 1 -> 1, same -> 0, one ahead -> 16 + 1,
    // far ahead -> the last bucket.
    "t5 buckets of keys 0, 5, 9, 10, 11, 200 for query 10: 8, 5, 1, 0, 17, 31",
  ]);
});

it("quotes only lines of the example file in the README's library snippet (no undefined names)", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const snippet = /## Library\n[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(snippet).toBeDefined();
  const example = readFileSync(join(root, "examples/library.mjs"), "utf8");
  const exampleLines = new Set(example.split("\n").map((l) => l.trim()));
  const quoted = (snippet as string)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && l !== "// ...");
  expect(quoted.length).toBeGreaterThan(5);
  for (const line of quoted) expect(exampleLines, line).toContain(line);
});
