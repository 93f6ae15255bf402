import { expect } from "chai";
import { id, MaxUint256 } from "ethers";
import { network } from "hardhat";

import { AITBC, DAY, HOUR, MIN_STAKE, mintAitbc, registerAndStake, UNBONDING_DELAY } from "../helpers/agents.js";
import { offer, signResult, slashOf, WORKLOAD, workloadRequest } from "../helpers/market.js";
import { executionRequest } from "../helpers/workflows.js";
import { toWorkflowSpec } from "../../protocol/workflow-spec.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const PROVIDER_VOLUME = 1_000n * AITBC;
const PROVIDER_STAKE = 1_200n * AITBC;
const PROVIDER_ID = 1n;
const KEEPER_ID = 2n;
const SERVICE = id("service: provider");
const RESULT = id("result");
const PRICE = 8n * AITBC;
/** The default slash of a failed assignment of the fixture workload (10 units at most 10 AITBC). */
const SLASH = slashOf(10n, 10n * AITBC);

const SPEC = toWorkflowSpec(
  {
    name: "one-step",
    maxExecutionTime: "1h",
    maxBudget: "1000",
    verification: "basic",
    steps: [{ id: "load", type: "data-processing", output: "rows" }],
  },
  "one-step",
);

/**
 * The protocol, plus: `agent` (id 1), a provider staked 1,200 AITBC listing SERVICE; `agent2` (id 2), a keeper
 * staked MIN_STAKE; `client` funded and approving both the marketplace and Workflows; workflow 1 defined by
 * `client`; workload 1 posted by `client` and bid on by `agent`.
 */
async function obligationsFixture() {
  const core = await deployProtocol(connection);
  const { token, marketplace, workflows, agent, agent2, operator, client } = core;
  await registerAndStake(core, agent, operator, PROVIDER_STAKE, { expectedDailyVolume: PROVIDER_VOLUME });
  await registerAndStake(core, agent2, operator, MIN_STAKE);
  await mintAitbc(core, client.address, 100_000n);
  await token.connect(client).approve(await marketplace.getAddress(), MaxUint256);
  await token.connect(client).approve(await workflows.getAddress(), MaxUint256);
  await marketplace.connect(agent).listService(offer(SERVICE));
  await marketplace.connect(client).postWorkload(workloadRequest(BigInt(await time.latest())));
  await marketplace.connect(agent).bid(1n, SERVICE, PRICE, id("proposal"));
  await workflows.connect(client).defineWorkflow(SPEC);
  return core;
}

const load = () => networkHelpers.loadFixture(obligationsFixture);

describe("Obligation attacks: exiting to dodge a slash", function () {
  it("an awarded provider that unstakes everything cannot withdraw before its timeout is claimed, and pays the full slash", async function () {
    const { registry, marketplace, agent, operator, client, treasury } = await load();
    await marketplace.connect(client).award(1n, 0n, PROVIDER_ID);
    expect(await registry.openObligations(PROVIDER_ID)).to.equal(1n);
    await registry.connect(agent).requestUnstake(PROVIDER_ID, PROVIDER_STAKE); // the exit, right after the award
    await time.increase(UNBONDING_DELAY);
    await expect(registry.connect(operator).withdraw(PROVIDER_ID))
      .to.be.revertedWithCustomError(registry, "AgentRegistryObligationsOpen")
      .withArgs(PROVIDER_ID, 1n);

    await time.increase(DAY + HOUR);
    await expect(marketplace.connect(client).claimTimeout(1n))
      .to.emit(registry, "Slashed")
      .withArgs(PROVIDER_ID, await marketplace.getAddress(), 0n, SLASH, treasury.address, "workload failed");
    expect(await registry.openObligations(PROVIDER_ID)).to.equal(0n);
    await registry.connect(operator).withdraw(PROVIDER_ID);
  });

  it("a provider whose result is disputed cannot withdraw until the dispute is resolved", async function () {
    const { registry, marketplace, humanOverride, agent, operator, client, guardian, treasury } = await load();
    await marketplace.connect(client).award(1n, 0n, PROVIDER_ID);
    await marketplace.connect(agent).submitResult(1n, RESULT, await signResult(agent, marketplace, 1n, 0n, RESULT));
    await marketplace.connect(client).reject(1n, id("wrong"));
    await registry.connect(agent).requestUnstake(PROVIDER_ID, PROVIDER_STAKE);
    await time.increase(10n * DAY);
    await expect(registry.connect(operator).withdraw(PROVIDER_ID))
      .to.be.revertedWithCustomError(registry, "AgentRegistryObligationsOpen")
      .withArgs(PROVIDER_ID, 1n);
    expect(await humanOverride.hasRole(await humanOverride.GUARDIAN_ROLE(), guardian.address)).to.equal(true);
    await expect(marketplace.connect(guardian).resolveDispute(1n, false))
      .to.emit(registry, "Slashed")
      .withArgs(PROVIDER_ID, await marketplace.getAddress(), 0n, SLASH, treasury.address, "workload failed");
    expect(await registry.openObligations(PROVIDER_ID)).to.equal(0n);
    await registry.connect(operator).withdraw(PROVIDER_ID);
  });

  it("closes the obligation at settlement, and a reopened workload's failed provider is released", async function () {
    const { registry, marketplace, agent, client } = await load();
    await marketplace.connect(client).award(1n, 0n, PROVIDER_ID);
    await marketplace.connect(agent).submitResult(1n, RESULT, await signResult(agent, marketplace, 1n, 0n, RESULT));
    expect(await registry.openObligations(PROVIDER_ID)).to.equal(1n);
    await marketplace.connect(client).accept(1n);
    expect((await marketplace.getWorkload(1n)).status).to.equal(WORKLOAD.settled);
    expect(await registry.openObligations(PROVIDER_ID)).to.equal(0n);
  });

  it("a keeper that claimed an execution cannot withdraw its exit until the execution ends", async function () {
    const { registry, workflows, agent2, operator, client } = await load();
    await workflows.connect(client).requestExecution(executionRequest(1n, id("inputs"), 10n * AITBC));
    await workflows.connect(agent2).claimExecution(1n);
    expect(await registry.openObligations(KEEPER_ID)).to.equal(1n);
    await registry.connect(agent2).requestUnstake(KEEPER_ID, MIN_STAKE);
    await time.increase(UNBONDING_DELAY);
    await expect(registry.connect(operator).withdraw(KEEPER_ID))
      .to.be.revertedWithCustomError(registry, "AgentRegistryObligationsOpen")
      .withArgs(KEEPER_ID, 1n);
    await workflows.connect(agent2).failExecution(1n, id("giving up"));
    expect(await registry.openObligations(KEEPER_ID)).to.equal(0n);
    await registry.connect(operator).withdraw(KEEPER_ID);
  });

  it("closes a keeper's obligation when its execution expires", async function () {
    const { registry, workflows, agent2, client } = await load();
    await workflows.connect(client).requestExecution(executionRequest(1n, id("inputs"), 10n * AITBC));
    await workflows.connect(agent2).claimExecution(1n);
    await time.increase(2n * HOUR);
    await workflows.connect(client).expireExecution(1n);
    expect(await registry.openObligations(KEEPER_ID)).to.equal(0n);
  });

  it("only holders of OBLIGATION_ROLE open or close obligations", async function () {
    const { registry, outsider } = await load();
    const role = await registry.OBLIGATION_ROLE();
    await expect(registry.connect(outsider).openObligation(PROVIDER_ID))
      .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
      .withArgs(outsider.address, role);
    await expect(registry.connect(outsider).closeObligation(PROVIDER_ID))
      .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
      .withArgs(outsider.address, role);
  });
});
