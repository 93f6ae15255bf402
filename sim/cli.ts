/**
 * `npm run sim -- --scenario <file> [--seed N] [--days D] [--agents N] [--out DIR] [--set path=value ...]
 *                [--sweep seeds=1,2,3 --sweep protocol.protocolFeeBps=50,100,200 ...] [--quiet]`
 *
 * One run: the day-by-day log, the report files under --out (default sim/out/<scenario>-<seed>), the terminal
 * summary, and a verdict line per attack. With --sweep: the grid of seeds × parameter values, one child process per
 * point, as many at once as the machine has cores, summarised as a table (sweep.ts). Exit 2 on a bad argument or
 * scenario field (the message names it), 1 when an invariant broke.
 */
import path from "node:path";
import { parseArgs } from "node:util";

import { ConfigError } from "../keepers/common/config.js";
import { runScenario } from "./engine.js";
import { summary, writeReport } from "./report.js";
import { loadScenario } from "./scenario.js";
import { parseSweep, runSweep, sweepTable } from "./sweep.js";

function intArg(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new ConfigError(`--${name}: expected a whole number, got "${text}"`);
  return Number(text);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string" },
      seed: { type: "string" },
      days: { type: "string" },
      agents: { type: "string" },
      out: { type: "string" },
      set: { type: "string", multiple: true, default: [] },
      sweep: { type: "string", multiple: true, default: [] },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.scenario === undefined) throw new ConfigError("--scenario: required (a file under sim/scenarios/)");
  const scenario = loadScenario(values.scenario, values.set);
  const seed = intArg("seed", values.seed) ?? scenario.seed;
  const days = intArg("days", values.days) ?? scenario.days;
  const agents = intArg("agents", values.agents);
  if (days === 0) throw new ConfigError("--days: at least 1");

  if (values.sweep.length > 0) {
    const grid = parseSweep(values.sweep, seed);
    const rows = await runSweep({ scenarioFile: values.scenario, days, agents, set: values.set, grid });
    console.log(sweepTable(rows));
    return 0;
  }

  const result = await runScenario(scenario, {
    seed,
    days,
    agents,
    log: values.quiet
      ? undefined
      : (line) => {
          console.log(line);
        },
  });
  const out = values.out ?? path.join("sim", "out", `${scenario.name}-${seed}`);
  const files = writeReport(result, out);
  if (values.json) console.log(JSON.stringify({ result: files.json, verdicts: result.verdicts, perf: result.perf }));
  else {
    console.log(summary(result));
    console.log(`report: ${files.html} (series: ${files.seriesCsv}, ${files.json})`);
  }
  return result.invariants.every((i) => i.ok) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`aitbc sim: ${(error as Error).message}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
