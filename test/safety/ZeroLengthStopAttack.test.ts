/**
 * Found in review after the stop-interval change: a stop begun and resumed in the same block is recorded with
 * end == start, and extendedDeadline stopped at it, ignoring every later stop. A later real stop that hit a running
 * execution deadline then extended nothing, and claimTimeout slashed an innocent provider right after the resume.
 */
import { expect } from "chai";
import { id, MaxUint256 } from "ethers";
import { network } from "hardhat";

import { AITBC, DAY, HOUR, mintAitbc, registerAndStake } from "../helpers/agents.js";
import { AGENT_ID, offer, workloadRequest, WORKLOAD } from "../helpers/market.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const SERVICE = id("service: provider");

async function fixture() {
  const core = await deployProtocol(connection);
  const { token, marketplace, agent, operator, client } = core;
  await registerAndStake(core, agent, operator, 1_200n * AITBC, { expectedDailyVolume: 1_000n * AITBC });
  await mintAitbc(core, client.address, 100_000n);
  await token.connect(client).approve(await marketplace.getAddress(), MaxUint256);
  await marketplace.connect(agent).listService(offer(SERVICE));
  await marketplace.connect(client).postWorkload(workloadRequest(BigInt(await time.latest())));
  await marketplace.connect(agent).bid(1n, SERVICE, 8n * AITBC, id("proposal"));
  await marketplace.connect(client).award(1n, 0n, AGENT_ID);
  return core;
}

describe("attack: a zero-length stop (stop and resume in one block) switching off every later stop's extension", function () {
  it("a stop that hits the running execution deadline still extends it after an earlier stop+resume in one block", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const { marketplace, humanOverride, guardian, client } = f;
    const deadline = (await marketplace.getWorkload(1n)).executionDeadline;

    // A guardian stops and resumes within one block (a mistaken stop undone at once, or a multisig batch).
    await connection.provider.request({ method: "evm_setAutomine", params: [false] });
    const s = await humanOverride.connect(guardian).emergencyStop("mistake");
    const r = await humanOverride.connect(guardian).resume();
    await networkHelpers.mine();
    await connection.provider.request({ method: "evm_setAutomine", params: [true] });
    await s.wait();
    await r.wait();
    const [zStart, zEnd] = await humanOverride.stopAt(0n);
    expect(zEnd).to.equal(zStart); // zero-length interval recorded

    // A real stop hits the running deadline: 2 days, from an hour before the deadline.
    await time.increaseTo(deadline - HOUR);
    await humanOverride.connect(guardian).emergencyStop("incident");
    const stoppedAt = BigInt(await time.latest());
    await time.increase(2n * DAY);
    await humanOverride.connect(guardian).resume();
    const resumedAt = BigInt(await time.latest());
    const shifted = deadline + (resumedAt - stoppedAt);
    const expected = shifted > resumedAt + DAY ? shifted : resumedAt + DAY;

    // Expected: the provider has until `expected`; actual: the deadline is not extended at all
    // (HumanOverride.extendedDeadline `break`s on the zero-length stop), so the provider is slashed at once.
    await expect(marketplace.connect(client).claimTimeout(1n)).to.be.revertedWithCustomError(
      marketplace,
      "MarketplaceDeadlineNotPassed",
    );
    expect((await marketplace.getWorkload(1n)).status).to.equal(WORKLOAD.awarded);
    expect(await humanOverride.extendedDeadline(stoppedAt - DAY, deadline)).to.equal(expected);
  });
});
