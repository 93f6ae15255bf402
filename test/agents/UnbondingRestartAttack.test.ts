import { expect } from "chai";
import { MaxUint256 } from "ethers";
import { network } from "hardhat";

import { AITBC, mintAitbc, registration, UNBONDING_DELAY } from "../helpers/agents.js";
import { deployCore } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const STAKE = 4_000n * AITBC;
const AGENT_ID = 1n;

/** The core: `agent` (id 1, operator `operator`) staked 4,000 AITBC and holds 4,000 more, approved to the registry. */
async function stakeGapsFixture() {
  const core = await deployCore(connection);
  const { registry, token, agent, operator } = core;
  await registry.connect(agent).register(registration(operator.address));
  await mintAitbc(core, agent.address, (2n * STAKE) / AITBC);
  await token.connect(agent).approve(await registry.getAddress(), MaxUint256);
  await registry.connect(agent).stake(STAKE);
  return core;
}

describe("Unbonding restart attacks", function () {
  describe("the agent key restarting the unbonding delay with 1-wei requests", function () {
    it("cannot hold back the operator's unbonding stake", async function () {
      const { registry, token, agent, operator } = await networkHelpers.loadFixture(stakeGapsFixture);
      await registry.connect(operator).requestUnstake(AGENT_ID, 2_000n * AITBC);
      const withdrawableAt = (await registry.getAgent(AGENT_ID)).withdrawableAt;
      await time.increaseTo(withdrawableAt - 60n);
      await expect(registry.connect(agent).requestUnstake(AGENT_ID, 1n))
        .to.be.revertedWithCustomError(registry, "AgentRegistryUnbondingInProgress")
        .withArgs(AGENT_ID, withdrawableAt);
      expect((await registry.getAgent(AGENT_ID)).withdrawableAt).to.equal(withdrawableAt);
      await time.increaseTo(withdrawableAt);
      const before = await token.balanceOf(operator.address);
      await registry.connect(operator).withdraw(AGENT_ID);
      expect((await token.balanceOf(operator.address)) - before).to.equal(2_000n * AITBC);
    });

    it("still lets the operator add to its own unbonding stake, restarting the delay, and the agent key unstake once nothing waits", async function () {
      const { registry, agent, operator } = await networkHelpers.loadFixture(stakeGapsFixture);
      await registry.connect(operator).requestUnstake(AGENT_ID, 1_000n * AITBC);
      await registry.connect(operator).requestUnstake(AGENT_ID, 1_000n * AITBC);
      expect((await registry.getAgent(AGENT_ID)).pendingWithdrawal).to.equal(2_000n * AITBC);
      await time.increase(UNBONDING_DELAY);
      await registry.connect(agent).requestUnstake(AGENT_ID, 1n); // the matured stake is paid first
      expect((await registry.getAgent(AGENT_ID)).pendingWithdrawal).to.equal(1n);
    });
  });
});
