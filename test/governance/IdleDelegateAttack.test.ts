import { expect } from "chai";
import { network } from "hardhat";

import { AITBC, MIN_STAKE } from "../helpers/agents.js";
import { addAgent, deployGovernance, type Gov } from "../helpers/governance.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const AGENT2_ID = 2n;

/**
 * Governance with short parameters: `agent` (id 1) staked the minimum and delegated its votes to `agent2` (id 2),
 * staked 10,000 AITBC; `slasher` holds SLASHER_ROLE.
 */
async function idleDelegateFixture() {
  const f = await deployGovernance(connection);
  await addAgent(f, f.agent, MIN_STAKE);
  await addAgent(f, f.agent2, 10_000n * AITBC);
  await f.agentVotes.connect(f.agent).delegate(f.agent2.address);
  return f;
}

const load = () => networkHelpers.loadFixture(idleDelegateFixture);

/** The total that counts, and agent2's votes, at the last mined second (after mining one more block). */
async function counted(f: Gov): Promise<{ total: bigint; delegate: bigint; now: bigint }> {
  await networkHelpers.mine();
  const t = BigInt(await time.latest()) - 1n;
  return {
    total: await f.agentVotes.getPastTotalSupply(t),
    delegate: await f.agentVotes.getPastVotes(f.agent2.address, t),
    now: await f.agentVotes.getVotes(f.agent2.address),
  };
}

describe("Idle delegate attacks: votes delegated to a delegate slashed below its stake or exiting", function () {
  it("do not count, nor toward the quorum, once the delegate is slashed below its required stake", async function () {
    const f = await load();
    const before = await counted(f);
    expect(before.delegate).to.equal(before.total); // all votes sit with agent2
    expect(before.total).to.be.greaterThan(0n);
    // 10,000 -> 5,000 -> 2,500 -> 1,250 -> 625 AITBC: below the 1,000 it needs
    for (let i = 0; i < 4; i++) {
      const stake = await f.registry.stakeOf(AGENT2_ID);
      await f.registry.connect(f.slasher).slash(AGENT2_ID, stake / 2n, "fraud");
    }
    expect(await f.registry.isActive(AGENT2_ID)).to.equal(false);
    const after = await counted(f);
    expect(after.delegate).to.equal(0n);
    expect(after.now).to.equal(0n);
    expect(after.total).to.equal(0n);
    expect(await f.agentVotes.isIdle(f.agent2.address)).to.equal(true);
  });

  it("do not count once the delegate exits", async function () {
    const f = await load();
    await f.registry.connect(f.agent2).requestUnstake(AGENT2_ID, 10_000n * AITBC);
    const after = await counted(f);
    expect(after.delegate).to.equal(0n);
    expect(after.total).to.equal(0n);
  });

  it("count again when the delegator takes them back", async function () {
    const f = await load();
    for (let i = 0; i < 4; i++) {
      const stake = await f.registry.stakeOf(AGENT2_ID);
      await f.registry.connect(f.slasher).slash(AGENT2_ID, stake / 2n, "fraud");
    }
    await f.agentVotes.connect(f.agent).undelegate();
    const own = await f.agentVotes.powerOf(f.agent.address);
    expect(own).to.be.greaterThan(0n);
    expect((await counted(f)).total).to.equal(own);
    expect(await f.agentVotes.getVotes(f.agent.address)).to.equal(own);
  });
});
