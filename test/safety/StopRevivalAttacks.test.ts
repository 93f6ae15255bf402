import { expect } from "chai";
import { id, MaxUint256 } from "ethers";
import { network } from "hardhat";

import { AITBC, DAY, HOUR, MIN_STAKE, mintAitbc, registerAndStake } from "../helpers/agents.js";
import { AGENT_ID, CHALLENGE_WINDOW, offer, signResult, WORKLOAD, workloadRequest } from "../helpers/market.js";
import { executionRequest } from "../helpers/workflows.js";
import { toWorkflowSpec } from "../../protocol/workflow-spec.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const PROVIDER_VOLUME = 1_000n * AITBC;
const PROVIDER_STAKE = 1_200n * AITBC;
const SERVICE = id("service: provider");
const RESULT = id("result");
const GRACE = DAY;
const MINUTE = 60n;

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
 * The protocol, plus: `agent`, a provider listing SERVICE; `agent2`, a keeper; `client` funded, approving both
 * modules; workload 1 posted and bid on by `agent`, awarded; workflow 1 defined by `client`.
 */
async function stopsFixture() {
  const core = await deployProtocol(connection);
  const { token, marketplace, workflows, agent, agent2, operator, client } = core;
  await registerAndStake(core, agent, operator, PROVIDER_STAKE, { expectedDailyVolume: PROVIDER_VOLUME });
  await registerAndStake(core, agent2, operator, MIN_STAKE);
  await mintAitbc(core, client.address, 100_000n);
  await token.connect(client).approve(await marketplace.getAddress(), MaxUint256);
  await token.connect(client).approve(await workflows.getAddress(), MaxUint256);
  await marketplace.connect(agent).listService(offer(SERVICE));
  await marketplace.connect(client).postWorkload(workloadRequest(BigInt(await time.latest())));
  await marketplace.connect(agent).bid(1n, SERVICE, 8n * AITBC, id("proposal"));
  await marketplace.connect(client).award(1n, 0n, AGENT_ID);
  await workflows.connect(client).defineWorkflow(SPEC);
  return core;
}

const load = () => networkHelpers.loadFixture(stopsFixture);

type Fixture = Awaited<ReturnType<typeof stopsFixture>>;

/** A stop of `length` seconds, starting now. */
async function shortStop(f: Fixture, length = MINUTE) {
  await f.humanOverride.connect(f.guardian).emergencyStop("unrelated incident");
  await time.increase(length);
  await f.humanOverride.connect(f.guardian).resume();
}

describe("Stop revival attacks: an emergency stop reviving lapsed deadlines", function () {
  it("a client cannot reject a result whose challenge window closed ten days before a one-minute stop", async function () {
    const f = await load();
    const { marketplace, agent, client } = f;
    await marketplace.connect(agent).submitResult(1n, RESULT, await signResult(agent, marketplace, 1n, 0n, RESULT));
    const submittedAt = (await marketplace.getWorkload(1n)).submittedAt;
    await time.increase(CHALLENGE_WINDOW + 10n * DAY);
    await shortStop(f);
    await expect(marketplace.connect(client).reject(1n, id("late")))
      .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowClosed")
      .withArgs(1n, submittedAt + CHALLENGE_WINDOW);
    await marketplace.connect(client).finalize(1n);
    expect((await marketplace.getWorkload(1n)).status).to.equal(WORKLOAD.settled);
  });

  it("a provider that missed its deadline before a stop cannot submit after it, and its timeout can be claimed", async function () {
    const f = await load();
    const { marketplace, agent, client } = f;
    const deadline = (await marketplace.getWorkload(1n)).executionDeadline;
    await time.increaseTo(deadline + 2n * DAY);
    await shortStop(f);
    const signature = await signResult(agent, marketplace, 1n, 0n, RESULT);
    await expect(marketplace.connect(agent).submitResult(1n, RESULT, signature))
      .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlinePassed")
      .withArgs(1n, deadline);
    await marketplace.connect(client).claimTimeout(1n);
    expect((await marketplace.getWorkload(1n)).status).to.equal(WORKLOAD.refunded);
  });

  it("a running deadline is still extended: by the stop's length, and at least to a day after the resume", async function () {
    const f = await load();
    const { marketplace, client } = f;
    const deadline = (await marketplace.getWorkload(1n)).executionDeadline;
    await time.increaseTo(deadline - HOUR);
    await f.humanOverride.connect(f.guardian).emergencyStop("incident");
    await time.increase(2n * HOUR);
    await f.humanOverride.connect(f.guardian).resume();
    const resumedAt = BigInt(await time.latest());
    await expect(marketplace.connect(client).claimTimeout(1n))
      .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
      .withArgs(1n, resumedAt + GRACE);
  });

  it("a workflow execution that expired before a stop can be expired after it", async function () {
    const f = await load();
    const { workflows, agent2, client } = f;
    await workflows.connect(client).requestExecution(executionRequest(1n, id("inputs"), 10n * AITBC));
    await workflows.connect(agent2).claimExecution(1n);
    await time.increase(3n * HOUR);
    await shortStop(f);
    await workflows.connect(client).expireExecution(1n);
  });
});

describe("Stop revival attacks: repeated and overlapping stops", function () {
  it("each of two stops that hit a running execution deadline extends it", async function () {
    const f = await load();
    const { marketplace, humanOverride, guardian, client } = f;
    let deadline = (await marketplace.getWorkload(1n)).executionDeadline;
    for (let i = 0; i < 2; i++) {
      await humanOverride.connect(guardian).emergencyStop(`stop ${i}`);
      const stoppedAt = BigInt(await time.latest());
      await time.increase(2n * DAY);
      await humanOverride.connect(guardian).resume();
      const resumedAt = BigInt(await time.latest());
      const shifted = deadline + (resumedAt - stoppedAt);
      deadline = shifted > resumedAt + GRACE ? shifted : resumedAt + GRACE;
    }
    expect(await humanOverride.stopCount()).to.equal(2n);
    await expect(marketplace.connect(client).claimTimeout(1n))
      .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
      .withArgs(1n, deadline);
  });
});
