import { expect } from "chai";
import { network } from "hardhat";

import { registerAgent } from "../helpers/agents.js";
import { deployCore } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;

/** The core deployed with a minimum stake of 0. */
async function noMinStakeFixture() {
  return deployCore(connection, { minStake: 0n });
}

describe("Minimum stake 0 attacks", function () {
  it("an agent without stake, needing none, does not count as active (nor for the modules' summaries)", async function () {
    const core = await networkHelpers.loadFixture(noMinStakeFixture);
    const id = await registerAgent(core, core.agent, core.operator, { expectedDailyVolume: 0n });
    expect(await core.registry.requiredStake(id)).to.equal(0n);
    expect(await core.registry.isActive(id)).to.equal(false);
    expect((await core.registry.summaryOf(id)).active).to.equal(false);
  });
});
