import { describe, expect, it } from "vitest";
import { analyzeBiasCommand } from "../../src/cli/commands/analyze-bias.js";
import { runCli, runCommand } from "../helpers/run-command.js";

describe("posenc analyze-bias", () => {
  it("ALiBi converges with the geometric receptive field per head (JSON)", async () => {
    const out = await runCommand(
      analyzeBiasCommand,
      "--encoding",
      "alibi",
      "--heads",
      "2",
      "--window",
      "512",
      "--json",
    );
    const parsed = JSON.parse(out) as { heads: { verdict: string; receptiveField: number }[] };
    // slopes 1/16 and 1/256 (official get_slopes for 2 heads): ceil(ln 100 / m) - 1 = 73 and 1178; the second lies
    // beyond the 512-distance window, so it is not reported.
    expect(parsed.heads.map((h) => h.verdict)).toEqual(["converges", "converges"]);
    expect(parsed.heads.map((h) => h.receptiveField)).toEqual([73, null]);
    const table = await runCommand(
      analyzeBiasCommand,
      "--encoding",
      "alibi",
      "--heads",
      "2",
      "--window",
      "512",
    );
    expect(table).toMatch(/converges .* 73 /);
    expect(table).toMatch(/> 512/);
  });

  it("prints one verdict line and a per-head table; NoPE and T5 diverge, Kerple-log with r1 = 2 converges", async () => {
    const nope = await runCommand(analyzeBiasCommand, "--encoding", "nope", "--heads", "1", "--window", "64");
    expect(nope.split("\n")[0]).toMatch(/^nope: sum_n exp\(b\(n\)\) diverges/);
    const t5 = await runCommand(analyzeBiasCommand, "--encoding", "t5", "--heads", "1", "--window", "64");
    expect(t5).toMatch(/t5-bias: sum_n exp\(b\(n\)\) diverges/);
    const kerple = await runCommand(
      analyzeBiasCommand,
      ...["--encoding", "kerple-log", "--params", '{"r1":[2]}', "--heads", "1", "--window", "4096"],
    );
    expect(kerple).toMatch(/kerple-log: sum_n exp\(b\(n\)\) converges/);
  });

  it.each([
    [["--encoding", "rope"], /--encoding "rope" adds no attention bias/],
    [["--encoding", "cope"], /--encoding "cope" adds no attention bias \(slots: contextual\)/],
    [["--encoding", "alibi", "--heads", "256", "--window", "1000000"], /at most 16777216/],
    [["--encoding", "nosuch"], /--encoding.*received "nosuch"/],
    [["--encoding", "alibi", "--coverage", "1.5"], /--coverage must be a number in \(0, 1\)/],
    [["--encoding", "alibi", "--window", "0"], /--window must be an integer from 1/],
    [["--encoding", "alibi", "--params", "{oops"], /--params must be a JSON object/],
    [["--encoding", "kerple-log", "--params", '{"r9":1}'], /--params/],
    [[], /missing --encoding/],
  ])("bad input %j: one line, exit code 2", async (argv, message) => {
    const { code, stderr, stdout } = await runCli(["analyze-bias", ...argv]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});
