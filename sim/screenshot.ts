/**
 * `npm run sim:screenshot -- [--scenario FILE] [--seed N] [--days D] [--agents N] [--out PNG]`: runs a scenario
 * (default: normal, seed 1, its 30 days), writes its report under sim/out/, opens report.html in Debian's Chromium
 * (sim/browser.ts) and saves a picture of the page's top (the run's line and its first charts) to --out (default
 * docs/img/sim-report.png, the README's picture). Exit 2 names a bad argument.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { ConfigError } from "../keepers/common/config.js";
import { launchChromium, openReport, renderedCharts } from "./browser.js";
import { runScenario } from "./engine.js";
import { writeReport } from "./report.js";
import { loadScenario } from "./scenario.js";

/** The picture's size: two charts a row (the page's width is at most 1500 pixels), three rows under the heading. */
const WIDTH = 1560;
const HEIGHT = 1200;

function intArg(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) === 0) throw new ConfigError(`--${name}: expected a positive whole number`);
  return Number(text);
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string", default: "sim/scenarios/normal.json" },
      seed: { type: "string" },
      days: { type: "string" },
      agents: { type: "string" },
      out: { type: "string", default: path.join("docs", "img", "sim-report.png") },
    },
    strict: true,
  });
  const scenario = loadScenario(values.scenario);
  const seed = intArg("seed", values.seed) ?? scenario.seed;
  const days = intArg("days", values.days) ?? scenario.days;
  const result = await runScenario(scenario, { seed, days, agents: intArg("agents", values.agents) });
  const files = writeReport(result, path.join("sim", "out", `${scenario.name}-${seed}`));
  const browser = await launchChromium();
  try {
    const page = await openReport(browser, files.html, { width: WIDTH, height: HEIGHT });
    const drawn = await renderedCharts(page);
    const empty = drawn.filter((c) => c.lines.every((l) => l.length === 0));
    if (empty.length > 0) throw new Error(`charts drawn without lines: ${empty.map((c) => c.title).join(", ")}`);
    mkdirSync(path.dirname(values.out), { recursive: true });
    await page.screenshot({ path: values.out, clip: { x: 0, y: 0, width: WIDTH, height: HEIGHT } });
  } finally {
    await browser.close();
  }
  console.log(
    `${values.out}: ${scenario.name}, seed ${seed}, ${days} days, ${result.agentCount} agents ` +
      `(report: ${files.html}; ${result.perf.transactions} transactions in ${result.perf.seconds.toFixed(1)} s)`,
  );
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof ConfigError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`aitbc sim:screenshot: ${(error as Error).message}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
