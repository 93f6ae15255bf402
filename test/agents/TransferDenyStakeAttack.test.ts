import { expect } from "chai";
import { MaxUint256 } from "ethers";
import { network } from "hardhat";

import { ACTION, AITBC, DAY, mintAitbc, registration } from "../helpers/agents.js";
import { deployCore } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;

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

describe("Transfer deny attacks", function () {
  describe("a guardian's TRANSFER deny sidestepped by staking, unstaking and withdrawing to the operator", function () {
    it("refuses the stake of an agent denied TRANSFER, so its tokens cannot reach the operator that way", async function () {
      const { registry, humanOverride, guardian, agent } = await networkHelpers.loadFixture(stakeGapsFixture);
      await humanOverride.connect(guardian).deny(agent.address, ACTION.TRANSFER, DAY);
      await expect(registry.connect(agent).stake(STAKE))
        .to.be.revertedWithCustomError(registry, "AgentRegistryTransferDenied")
        .withArgs(AGENT_ID);
      // stake already in the registry still leaves (exits are never trapped), to the operator
      await registry.connect(agent).requestUnstake(AGENT_ID, STAKE);
    });
  });
});
