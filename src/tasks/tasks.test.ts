import { describe, expect, it } from "vitest";
import { CHECKERS, decodeExample } from "../../test/tasks/checkers.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { buildVocabulary, decoderSequence, formatBatch, sampleExamples } from "./format.js";
import { createTask, taskEntry, taskIds } from "./registry.js";
import type { Task } from "./types.js";

const DEEPMIND_IDS = [
  "even_pairs",
  "modular_arithmetic",
  "parity_check",
  "cycle_navigation",
  "stack_manipulation",
  "reverse_string",
  "modular_arithmetic_brackets",
  "solve_equation",
  "duplicate_string",
  "missing_duplicate_string",
  "odds_first",
  "binary_addition",
  "binary_multiplication",
  "compute_sqrt",
  "bucket_sort",
];

/** Lengths to validate: every small length from the minimum, plus a few long ones. */
function testLengths(task: Task): number[] {
  const small = Array.from({ length: 14 }, (_, i) => task.minLength + i);
  const long = [task.minLength + 31, task.minLength + 60];
  return [...small, ...long].filter((n) => n <= (task.maxLength ?? Number.POSITIVE_INFINITY));
}

/** Tasks of examples and answers (text tasks have their own tests: text/*.test.ts, test/lab/text-brown.test.ts). */
const EXAMPLE_TASK_IDS = taskIds().filter((id) => taskEntry(id).level !== "text");

/** Every task in its registry form, plus the parameter variants worth checking. */
const VARIANTS: { id: string; params?: Record<string, unknown> }[] = [
  ...EXAMPLE_TASK_IDS.map((id) => ({ id })),
  { id: "addition", params: { sameLength: true } },
  { id: "addition_coupled", params: { sameLength: true } },
  { id: "passkey", params: { depth: 0.25, filler: "random" } },
];

describe("registry", () => {
  it("holds the 15 DeepMind tasks with their levels, then the synthetic ones", () => {
    expect(taskIds().slice(0, 15)).toEqual(DEEPMIND_IDS);
    const levels = DEEPMIND_IDS.map((id) => createTask(id).level);
    expect(levels).toEqual([...Array(4).fill("regular"), ...Array(4).fill("dcf"), ...Array(7).fill("cs")]);
    for (const id of EXAMPLE_TASK_IDS.slice(15)) expect(createTask(id).level).toBe("synthetic");
    expect(taskIds().filter((id) => taskEntry(id).level === "text")).toEqual([
      "brown_chars",
      "brown_passkey",
    ]);
    expect(taskIds()).toEqual(
      expect.arrayContaining(["copy", "reverse", "sort", "addition", "addition_coupled"]),
    );
    for (const id of taskIds()) expect(taskEntry(id).paper.arxiv).toMatch(/^\d{4}\.\d{5}$/);
  });

  it("binds DeepMind's vocabularies and lets the calibration pass 16 symbols", () => {
    expect(createTask("reverse_string").symbols).toEqual(["0", "1"]);
    expect(createTask("reverse_string", { vocabSize: 16 }).symbols).toHaveLength(16);
    expect(createTask("reverse").symbols).toHaveLength(16);
    expect(createTask("copy").symbols).toHaveLength(16);
    expect(createTask("bucket_sort").symbols).toHaveLength(5);
    // DeepMind's input sizes: modulus + 4, modulus + 6, modulus + 6, 5 for the stack, 4 for missing duplicate.
    expect(createTask("modular_arithmetic").symbols).toHaveLength(9);
    expect(createTask("modular_arithmetic_brackets").symbols).toHaveLength(11);
    expect(createTask("solve_equation").symbols).toHaveLength(11);
    expect(createTask("stack_manipulation").symbols).toHaveLength(5);
    expect(createTask("missing_duplicate_string").symbols).toHaveLength(4);
  });

  it("rejects unknown tasks, unknown parameters and bad values, naming them", () => {
    expect(() => createTask("reverse_strings")).toThrow(
      /Invalid task: expected one of .*reverse_string, .*received "reverse_strings"/,
    );
    expect(() => createTask("reverse_string", { vocab: 3 })).toThrow(
      /tasks\.reverse_string\.vocab.*vocabSize/,
    );
    expect(() => createTask("reverse_string", { vocabSize: 1 })).toThrow(PosencConfigError);
    expect(() => createTask("passkey", { depth: 1.5 })).toThrow(/passkey\.depth.*1\.5/);
    const task = createTask("copy");
    expect(() => task.sample(new Rng(0), 2, 0)).toThrow(/length.*>= 1.*0/);
    expect(() => task.sample(new Rng(0), 2, { min: 5, max: 3 })).toThrow(/length\.max/);
    expect(() => task.sample(new Rng(0), 0, 3)).toThrow(/batchSize/);
    expect(() => createTask("selective_copy").sample(new Rng(0), 1, 15)).toThrow(/length.*>= 16/);
    expect(() => createTask("addition_coupled").sample(new Rng(0), 1, 61)).toThrow(/length.*<= 60.*61/);
  });
});

describe.each(VARIANTS)("$id $params", ({ id, params }) => {
  const task = createTask(id, params ?? {});
  const check = CHECKERS[id];

  it("samples valid examples (brute-force checker) at every tested length", () => {
    const rng = new Rng(7);
    for (const n of testLengths(task)) {
      for (let trial = 0; trial < 12; trial++) {
        const { input, output } = decodeExample(task, task.sampleExample(rng, n));
        const problem = check(input, output, n, task);
        expect(problem, `${id} n=${n}: ${input.join(" ")} -> ${output.join(" ")}`).toBeUndefined();
      }
    }
  });

  it("the checker is not vacuous: it rejects every example whose answer was altered", () => {
    const rng = new Rng(8);
    let altered = 0;
    for (const n of testLengths(task).slice(0, 8)) {
      const example = task.sampleExample(rng, n);
      if (example.output.length === 0) continue;
      const wrong = [...example.output];
      wrong[wrong.length - 1] = (wrong[wrong.length - 1] + 1) % task.symbols.length;
      const { input, output } = decodeExample(task, { input: example.input, output: wrong });
      expect(check(input, output, n, task), `${id} n=${n} accepted a wrong answer`).toBeDefined();
      altered++;
    }
    expect(altered).toBeGreaterThan(5);
  });

  it("formats the decoder layout: [BOS] input [SEP] answer [EOS], shifted targets, mask = answer + EOS", () => {
    const vocab = buildVocabulary(task.symbols, "decoder");
    const { examples, lengths } = sampleExamples(task, new Rng(3), 6, {
      min: task.minLength,
      max: task.minLength + 9,
    });
    const batch = formatBatch(task, examples, lengths, "decoder");
    expect(batch.seqLen).toBe(Math.max(...examples.map((e) => decoderSequence(task, e, vocab).length)));
    examples.forEach((example, b) => {
      const seq = [
        vocab.bos,
        ...example.input,
        ...(task.decoderSeparator ? [vocab.sep] : []),
        ...example.output,
        vocab.eos,
      ];
      const row = (a: ArrayLike<number>) => Array.from(a).slice(b * batch.seqLen, (b + 1) * batch.seqLen);
      const inputs = row(batch.inputs);
      const targets = row(batch.targets);
      const mask = row(batch.mask);
      expect(inputs).toEqual([...seq, ...Array(batch.seqLen - seq.length).fill(vocab.pad)]);
      expect(targets).toEqual([...seq.slice(1), ...Array(batch.seqLen - seq.length + 1).fill(vocab.pad)]);
      const scored = targets.filter((_, t) => mask[t] === 1);
      expect(scored).toEqual([...example.output, vocab.eos]);
      // The scored positions are exactly the last |answer| + 1 positions before the end of the sequence.
      const first = seq.length - example.output.length - 2;
      expect(mask).toEqual(
        Array.from({ length: batch.seqLen }, (_, t) => (t >= first && t < seq.length - 1 ? 1 : 0)),
      );
    });
  });

  it("formats the encoder layout: input then encoderOutputLength(n) queries holding the answer", () => {
    if (task.id === "addition_coupled") {
      expect(() => task.sample(new Rng(1), 2, 3, "encoder")).toThrow(/layout/);
      return;
    }
    const vocab = buildVocabulary(task.symbols, "encoder");
    const { examples, lengths } = sampleExamples(task, new Rng(4), 6, {
      min: task.minLength,
      max: task.minLength + 9,
    });
    const batch = formatBatch(task, examples, lengths, "encoder");
    examples.forEach((example, b) => {
      const slots = task.encoderOutputLength(lengths[b]);
      const start = b * batch.seqLen;
      const answer = task.terminated ? [...example.output, vocab.eos] : example.output;
      const inputs = Array.from(batch.inputs.subarray(start, start + example.input.length + slots));
      expect(inputs).toEqual([...example.input, ...Array(slots).fill(vocab.query)]);
      const q = start + example.input.length;
      expect(Array.from(batch.targets.subarray(q, q + answer.length))).toEqual(answer);
      const maskRow = Array.from(batch.mask.subarray(start, start + batch.seqLen));
      expect(maskRow.reduce((s, m) => s + m, 0)).toBe(answer.length);
      expect(
        maskRow.slice(example.input.length, example.input.length + answer.length).every((m) => m === 1),
      ).toBe(true);
    });
  });

  it("is deterministic: same seed, same batch; another seed, another batch", () => {
    const a = task.sample(new Rng(11), 8, task.minLength + 6);
    const b = task.sample(new Rng(11), 8, task.minLength + 6);
    const c = task.sample(new Rng(12), 8, task.minLength + 6);
    expect(b.inputs).toEqual(a.inputs);
    expect(b.targets).toEqual(a.targets);
    expect(b.mask).toEqual(a.mask);
    expect(b.positionIds).toEqual(a.positionIds);
    expect(Array.from(c.inputs)).not.toEqual(Array.from(a.inputs));
  });

  it("records the requested lengths, fixed or drawn from a range", () => {
    const fixed = task.sample(new Rng(5), 4, task.minLength + 2);
    expect(Array.from(fixed.lengths)).toEqual(Array(4).fill(task.minLength + 2));
    const range = { min: task.minLength, max: task.minLength + 3 };
    const ranged = task.sample(new Rng(5), 200, range);
    const seen = new Set(ranged.lengths);
    expect([...seen].sort((x, y) => x - y)).toEqual([0, 1, 2, 3].map((k) => task.minLength + k));
  });
});
