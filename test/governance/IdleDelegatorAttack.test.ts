/**
 * Found in review after the idle-delegate rule: an agent slashed below its required stake was an idle delegate (its
 * own votes counted for nothing) but kept its power, and delegating it to an active agent made it count again. An
 * idle agent now has no power of its own, so there is nothing to hand over.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { AITBC, MIN_STAKE, registerAndStake } from "../helpers/agents.js";
import { addAgent, deployGovernance } from "../helpers/governance.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const AGENT2_ID = 2n;

async function fixture() {
  const f = await deployGovernance(connection);
  await addAgent(f, f.agent, MIN_STAKE);
  // agent2 declares 50,000 AITBC/day: it needs 1,000 + 10 % × 50,000 = 6,000 AITBC staked.
  await registerAndStake(f, f.agent2, f.operator, 10_000n * AITBC, { expectedDailyVolume: 50_000n * AITBC });
  return f;
}

describe("attack: an agent slashed below its required stake votes on by delegating to an active agent", function () {
  it("the idle agent's own power does not count once it delegates it to an active agent", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const { agentVotes, registry, slasher, agent, agent2 } = f;
    // agent2 is slashed below its required stake: as its own delegate it is idle, its votes count for nothing.
    await registry.connect(slasher).slash(AGENT2_ID, 5_000n * AITBC, "fraud"); // 5,000 < 6,000 required
    expect(await registry.isActive(AGENT2_ID)).to.equal(false);
    expect(await agentVotes.isIdle(agent2.address)).to.equal(true);
    expect(await agentVotes.getVotes(agent2.address)).to.equal(0n);

    // It hands the same power to an active friend (agent): now it counts, in full.
    const before = await agentVotes.getVotes(agent.address);
    await agentVotes.connect(agent2).delegate(agent.address);
    await networkHelpers.mine();
    const t = BigInt(await time.latest()) - 1n;
    const gained = (await agentVotes.getPastVotes(agent.address, t)) - before;
    expect(gained, "votes of an under-bonded agent revived through delegation").to.equal(0n);
    expect(await agentVotes.getVotes(agent.address)).to.equal(before);
    expect(await agentVotes.powerOf(agent2.address)).to.equal(0n); // an idle agent has no power of its own
  });
});
