/**
 * The side-by-side benches' command line (bench/lab.bench.ts, bench/vision.bench.ts): `--name value` options,
 * integer options checked in one line (exit 2), and `--json` (then the human lines go to stderr, the JSON to stdout).
 */
export function benchArgs(bench: string, argv: readonly string[] = process.argv.slice(2)) {
  const option = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const intOption = (name: string, fallback: number, min: number): number => {
    const raw = option(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min) {
      console.error(`${bench}: ${name} must be an integer >= ${min}, received ${raw}`);
      process.exit(2);
    }
    return value;
  };
  const flag = (name: string) => argv.includes(name);
  const json = flag("--json");
  const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  return { option, intOption, flag, json, log };
}
