/**
 * The economy simulation (sim/): a scenario file with a bad field is refused naming it; a run is a function of its
 * seed (two runs with one seed give identical series, another seed differs); an attack's verdict comes from what
 * the chain moved; the report holds every series. Few agents, few days: each run deploys the whole protocol on a
 * fresh in-process chain.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { ConfigError } from "../../keepers/common/config.js";
import { runScenario } from "../../sim/engine.js";
import { FAMILIES, SERIES } from "../../sim/metrics.js";
import { writeReport } from "../../sim/report.js";
import { loadScenario } from "../../sim/scenario.js";

const SMOKE = "sim/scenarios/smoke.json";
const DODGE = "sim/scenarios/attack-exit-dodge.json";
const SELF_DEALING = "sim/scenarios/attack-self-dealing.json";

describe("sim: economy simulation on the real contracts", function () {
  this.timeout(600_000);

  it("refuses a scenario with a bad field, naming it", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "aitbc-sim-"));
    const read = () => JSON.parse(readFileSync(SMOKE, "utf8")) as { population: { strategy: { kind: string } }[] };
    const scenario = read();
    (scenario.population[0] as { strategy: { kind: string } }).strategy.kind = "martingale";
    const file = path.join(dir, "bad.json");
    writeFileSync(file, JSON.stringify(scenario));
    expect(() => loadScenario(file)).to.throw(ConfigError, /population\[0\]\.strategy\.kind/);
    writeFileSync(file, JSON.stringify({ ...read(), demand: [{ service: "nope", workloadsPerDay: 1 }] }));
    expect(() => loadScenario(file)).to.throw(ConfigError, /demand\[0\]\.service: unknown service "nope"/);
    expect(() => loadScenario(SMOKE, ["protocol.protocolFeeBps=5000"])).to.throw(
      ConfigError,
      /protocol\.protocolFeeBps/,
    );
  });

  it("is deterministic for a seed, and another seed gives another run", async function () {
    const scenario = loadScenario(SMOKE);
    const a = await runScenario(scenario, { seed: 7, days: 2 });
    const b = await runScenario(scenario, { seed: 7, days: 2 });
    const c = await runScenario(scenario, { seed: 8, days: 2 });
    expect(a.series.length).to.equal(2);
    expect(a.series).to.deep.equal(b.series);
    expect(a.agents).to.deep.equal(b.agents);
    expect(c.series).to.not.deep.equal(a.series);
    // Work was done, and the books balance.
    expect(a.series.reduce((s, r) => s + (r.settled ?? 0), 0)).to.be.greaterThan(0);
    expect(
      a.invariants.every((i) => i.ok),
      JSON.stringify(a.invariants),
    ).to.equal(true);

    // The report: every series in the CSV and the JSON, one SVG chart per figure in the HTML.
    const dir = mkdtempSync(path.join(tmpdir(), "aitbc-sim-report-"));
    const files = writeReport(a, dir);
    const header = (readFileSync(files.seriesCsv, "utf8").split("\n")[0] ?? "").split(",");
    for (const name of SERIES) expect(header).to.include(name);
    for (const family of FAMILIES)
      expect(
        header.some((h) => h.startsWith(`${family}.`)),
        family,
      ).to.equal(true);
    for (const agent of a.agents) expect(header).to.include(`pnl.${agent.name}`);
    const json = JSON.parse(readFileSync(files.json, "utf8")) as { series: unknown[] };
    expect(json.series).to.have.length(2);
    const html = readFileSync(files.html, "utf8");
    expect(html.match(/<svg/g)?.length).to.equal(9);
    expect(html).to.not.match(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it("exit to dodge a slash: the verdict is what the chain took from the attacker", async function () {
    const scenario = loadScenario(DODGE);
    const result = await runScenario(scenario, { seed: 1, days: 3 });
    const [verdict] = result.verdicts;
    const dodger = result.agents.find((a) => a.group === "dodger");
    if (verdict === undefined || dodger === undefined) throw new Error("no verdict");
    // The attacker earned nothing: what it lost is the slashes of its failed assignments, read from the chain's
    // AssignmentFailed events, as its wealth (balance + stake + pending withdrawal) shows.
    const slashed = result.series.reduce((s, r) => s + (r.slashed ?? 0), 0);
    expect(slashed).to.be.greaterThan(0);
    expect(Math.abs(dodger.wealthChange + slashed)).to.be.lessThan(1e-9);
    expect(Math.abs(verdict.attackerProfit - dodger.pnl)).to.be.lessThan(1e-9);
    expect(verdict.attackerProfit).to.be.lessThan(0);
    expect(verdict.line).to.match(
      /^verdict dodger \(exit-dodge\): attacker profit -\d+\.\d{3} AITBC \(the protocol held\)/,
    );
  });

  it("self-dealing: wash work mints no more than its fee, so the farmer ends poorer (it paid +197 AITBC before)", async function () {
    const scenario = loadScenario(SELF_DEALING);
    const result = await runScenario(scenario, { seed: 1, days: 2 });
    const [verdict] = result.verdicts;
    if (verdict === undefined) throw new Error("no verdict");
    // Nothing is minted after the genesis grants: every settlement's fee (1 % of at most 24 AITBC) is below one
    // unit's reward (1 AITBC), so no receipt has a unit to mint.
    const supplies = result.series.map((r) => r.tokenSupply);
    expect(new Set(supplies).size).to.equal(1);
    expect(verdict.attackerProfit).to.be.lessThan(0);
    expect(verdict.line).to.match(
      /^verdict farmer \(self-dealing\): attacker profit -\d+\.\d{3} AITBC \(the protocol held\)/,
    );
  });
});
