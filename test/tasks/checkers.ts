/**
 * Brute-force checkers for the task tests: each recomputes the answer from the decoded input (strings of
 * symbol names) by an independent route (BigInt arithmetic, JS expression evaluation, plain string
 * manipulation) and returns an error message, or undefined when the example is valid.
 */
import type { Task, TaskExample } from "../../src/tasks/types.js";

type Checker = (input: string[], output: string[], length: number, task: Task) => string | undefined;

const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);
const expect = (ok: boolean, message: string) => (ok ? undefined : message);

/** Evaluates an integer expression (tokens: digits, + - * ( )) with JS BigInt semantics, then mod m. */
function evaluateMod(tokens: readonly string[], modulus: number): number {
  const source = tokens.map((t) => (/^\d+$/.test(t) ? `${t}n` : t)).join(" ");
  const value = new Function(`return (${source});`)() as bigint;
  const m = BigInt(modulus);
  return Number(((value % m) + m) % m);
}

const bitsLE = (bits: readonly string[]) =>
  bits.length === 0 ? 0n : BigInt(`0b${[...bits].reverse().join("")}`);
const minimalLE = (x: bigint) => x.toString(2).split("").reverse();

function binaryOperands(input: string[], op: string): { a: string[]; b: string[] } | string {
  const at = input.indexOf(op);
  if (at < 0 || input.lastIndexOf(op) !== at) return `expected exactly one ${op}`;
  const a = input.slice(0, at);
  const b = input.slice(at + 1);
  if (a.length === 0 || b.length === 0) return "empty operand";
  if (bitsLE(a) === 0n || bitsLE(b) === 0n) return "operands must be >= 1";
  return { a, b };
}

export const CHECKERS: Record<string, Checker> = {
  even_pairs: (i, o) => expect(same(o, [i[0] === i[i.length - 1] ? "0" : "1"]), "class != (x_1 != x_n)"),
  parity_check: (i, o) => expect(same(o, [String(i.filter((x) => x === "1").length % 2)]), "parity"),
  cycle_navigation: (i, o) => {
    const step = { L: -1, S: 0, R: 1 } as Record<string, number>;
    const total = i.reduce((s, a) => s + step[a], 0);
    return expect(same(o, [String(((total % 5) + 5) % 5)]), "final state");
  },
  modular_arithmetic: (i, o, n) => {
    if (i.length !== (n % 2 === 1 ? n : n - 1)) return `input length ${i.length} for n = ${n}`;
    if (i.some((t, k) => (k % 2 === 0) !== /^\d$/.test(t))) return "digits and operators must alternate";
    return expect(same(o, [String(evaluateMod(i, 5))]), `value of ${i.join("")}`);
  },
  modular_arithmetic_brackets: (i, o) =>
    expect(same(o, [String(evaluateMod(i, 5))]), `value of ${i.join("")}`),
  solve_equation: (i, o, n) => {
    if (n < 3) return expect(same(i, new Array(n).fill("0")) && same(o, ["0"]), "degenerate n < 3");
    const eq = i.indexOf("=");
    if (eq !== i.length - 2 || i.filter((t) => t === "x").length !== 1) return "expected E(x) = v";
    const solutions = [0, 1, 2, 3, 4].filter((x) => {
      const lhs = i.slice(0, eq).map((t) => (t === "x" ? String(x) : t));
      return evaluateMod(lhs, 5) === Number(i[eq + 1]);
    });
    return expect(same(solutions.map(String), o), `solutions ${solutions} vs ${o}`);
  },
  stack_manipulation: (i, o, n) => {
    if (n === 1) return expect(same(i, o), "n = 1 echoes the bit");
    const firstAction = i.findIndex((t) => t !== "0" && t !== "1");
    if (firstAction < 1 || i.slice(firstAction).some((t) => t === "0" || t === "1"))
      return "stack then actions";
    let stack = i.slice(0, firstAction).join(""); // bottom ... top
    for (const action of i.slice(firstAction)) {
      if (action === "POP") stack = stack.slice(0, -1);
      else stack += action === "PUSH0" ? "0" : "1";
    }
    return expect(same(o, stack.split("").reverse()), `final stack ${stack}`);
  },
  reverse_string: (i, o) => expect(same(o, [...i].reverse()), "reverse"),
  duplicate_string: (i, o) => expect(same(o, [...i, ...i]), "duplicate"),
  missing_duplicate_string: (i, o, n) => {
    if (n === 1) return expect(same(i, ["1"]) && same(o, ["1"]), "degenerate n = 1");
    const body = n % 2 === 1 ? i.slice(0, -1) : i;
    if (n % 2 === 1 && i[i.length - 1] !== ".") return "odd n ends with '.'";
    if (body.filter((t) => t === "?").length !== 1) return "exactly one ?";
    const filled = body.map((t) => (t === "?" ? o[0] : t));
    const half = n >> 1;
    return expect(same(filled.slice(0, half), filled.slice(half)), "filled string is ww");
  },
  odds_first: (i, o) => {
    const odd = i.filter((_, k) => k % 2 === 1);
    const even = i.filter((_, k) => k % 2 === 0);
    return expect(same(o, [...odd, ...even]), "odd indices then even");
  },
  binary_addition: (i, o, n) => {
    if (n <= 2) return expect(!i.includes("+") && same(o, minimalLE(bitsLE(i))), "degenerate n <= 2");
    const ops = binaryOperands(i, "+");
    if (typeof ops === "string") return ops;
    return expect(same(o, minimalLE(bitsLE(ops.a) + bitsLE(ops.b))), "sum");
  },
  binary_multiplication: (i, o, n) => {
    if (n <= 2) return expect(!i.includes("*") && same(o, new Array(n - 1).fill("0")), "degenerate n <= 2");
    const ops = binaryOperands(i, "*");
    if (typeof ops === "string") return ops;
    return expect(same(o, minimalLE(bitsLE(ops.a) * bitsLE(ops.b))), "product");
  },
  compute_sqrt: (i, o, n) => {
    const x = BigInt(`0b${i.join("")}`);
    const r = BigInt(`0b${o.join("")}`);
    if (x < 1n || o.length !== Math.ceil(n / 2)) return "x >= 1 and ceil(n/2) output bits";
    return expect(r * r <= x && x < (r + 1n) * (r + 1n), `isqrt(${x}) = ${r}?`);
  },
  bucket_sort: (i, o) =>
    expect(
      same(
        o,
        [...i].sort((a, b) => Number(a) - Number(b)),
      ),
      "sorted",
    ),
  copy: (i, o) => expect(same(o, i), "copy"),
  reverse: (i, o) => expect(same(o, [...i].reverse()), "reverse"),
  sort: (i, o) =>
    expect(
      same(
        o,
        [...i].sort((a, b) => Number(a) - Number(b)),
      ),
      "sorted",
    ),
  addition: checkAddition,
  addition_coupled: checkAddition,
  selective_copy: (i, o, n) =>
    expect(
      i.length === n &&
        same(
          o,
          i.filter((t) => t !== "_"),
        ) &&
        o.length === 16,
      "non-blank tokens in order",
    ),
  counting: (i, o, n) => {
    const values = new Map<string, number>();
    let statements = 0;
    let k = 0;
    while (k < i.length && i[k] !== "print") {
      if (i[k] === "pass;") k += 1;
      else if (i[k + 1] === "=" && i[k + 2] === "0" && i[k + 3] === ";") {
        values.set(i[k], 0);
        k += 4;
      } else if (i[k + 1] === "++;" && values.has(i[k])) {
        values.set(i[k], values.get(i[k])! + 1);
        k += 2;
      } else return `bad statement at ${k}: ${i.slice(k, k + 4).join(" ")}`;
      statements++;
    }
    if (statements !== n || k !== i.length - 2) return `${statements} statements, print at ${k}`;
    if ([...values.values()].some((v) => v > 10)) return "value above 10";
    return expect(same(o, [String(values.get(i[k + 1]))]), "printed value");
  },
  flip_flop: (i, o, n) => {
    if (i.length !== 2 * n - 1 || i[0] !== "w" || i[i.length - 1] !== "r") return "w ... r, 2n - 1 tokens";
    let memory = "";
    for (let k = 0; k + 1 < i.length; k += 2) {
      if (i[k] === "w") memory = i[k + 1];
      else if (i[k] === "r" && i[k + 1] !== memory) return `read at ${k} is not the last write`;
    }
    return expect(same(o, [memory]), "final read");
  },
  s5_composition: (i, o, n) => {
    // Permutation matrices: the state after the actions is M(g_n) ... M(g_1), applied to the identity.
    if (i.length !== n || i.some((p) => !/^[0-4]{5}$/.test(p) || new Set(p).size !== 5))
      return "n permutations of 01234";
    const matrix = (p: string) =>
      Array.from({ length: 5 }, (_, r) =>
        Array.from({ length: 5 }, (_, c) => (Number(p[c]) === r ? 1 : 0) as number),
      );
    let m = matrix("01234");
    for (const p of i) {
      const g = matrix(p);
      m = g.map((row) => m[0]!.map((_, c) => row.reduce((acc, v, k) => acc + v * m[k]![c]!, 0)));
    }
    const answer = Array.from({ length: 5 }, (_, c) => m.findIndex((row) => row[c] === 1)).join("");
    return expect(same(o, [answer]), `composition ${answer}`);
  },
  associative_recall: (i, o, n) => {
    const keys = i.filter((_, k) => k < 2 * n && k % 2 === 0);
    if (new Set(keys).size !== n || i[2 * n] !== "?" || i[2 * n + 1] !== "?")
      return "n distinct keys then ? ?";
    const at = keys.indexOf(i[2 * n + 2]);
    return expect(at >= 0 && same(o, [i[2 * at + 1]]), "value of the query");
  },
  passkey: (i, o, n) => {
    const at = i.indexOf("KEY");
    const digits = i.slice(at + 1, at + 1 + o.length);
    const fillers = i.filter((t) => t.startsWith("f")).length;
    return expect(same(digits, o) && fillers === n && i[i.length - 1] === "ASK", "passkey after KEY");
  },
};

function checkAddition(i: string[], o: string[], n: number, task: Task): string | undefined {
  const plus = i.indexOf("+");
  const a = i.slice(0, plus);
  const b = i.slice(plus + 1, -1);
  const L = a.length;
  if (i[i.length - 1] !== "=" || b.length !== L || o.length !== L + 1)
    return "A + B = with |A| = |B| = L, |C| = L + 1";
  if (L > n) return `L = ${L} > n = ${n}`;
  if (task.lengthMeaning.startsWith("digits") && (L !== n || (L > 1 && (a[0] === "0" || b[0] === "0")))) {
    return "sameLength: both operands exactly n digits";
  }
  const sum = BigInt(a.join("")) + BigInt(b.join(""));
  return expect(
    BigInt([...o].reverse().join("")) === sum,
    `${a.join("")} + ${b.join("")} != ${[...o].reverse().join("")}`,
  );
}

/** Decodes an example to symbol names. */
export function decodeExample(task: Task, example: TaskExample): { input: string[]; output: string[] } {
  return {
    input: example.input.map((s) => task.symbols[s]),
    output: example.output.map((s) => task.symbols[s]),
  };
}
