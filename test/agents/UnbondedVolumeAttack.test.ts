/**
 * A known gap from the README: an agent's daily volume limit followed the volume it declared, not the volume its
 * stake backs. An agent that registered declaring 100,000 AITBC a day and staked nothing moved 100,000 AITBC a day;
 * an agent slashed to half its bond kept its whole limit. Now the constitution caps an agent's daily volume at the
 * volume its stake backs (all it declared once the bond is staked, (stake - minStake) / bondBps below it, nothing
 * under minStake), the registry reporting every change of stake; an agent that has exited has no protocol role left
 * to back and keeps only its operator's limit.
 */
import { expect } from "chai";
import { MaxUint256 } from "ethers";
import { network } from "hardhat";

import {
  AITBC,
  BOND_BPS,
  constraints,
  DECLARED_VOLUME,
  MIN_STAKE,
  mintAitbc,
  registration,
} from "../helpers/agents.js";
import { shouldBeRefusedWhileStopped } from "../helpers/behaviours.js";
import { deployCore } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;

const AGENT_ID = 1n;
/** The bond of DECLARED_VOLUME (100,000 AITBC a day): 1,000 + 10 % of it = 11,000 AITBC. */
const BOND = MIN_STAKE + (DECLARED_VOLUME * BOND_BPS) / 10_000n;

/** `agent` (id 1) registered declaring DECLARED_VOLUME, holding 2 x DECLARED_VOLUME, approved to the registry. */
async function unbondedFixture() {
  const core = await deployCore(connection);
  const { registry, token, agent, operator, deployer } = core;
  await registry.connect(agent).register(registration(operator.address, { expectedDailyVolume: DECLARED_VOLUME }));
  await mintAitbc(core, agent.address, (2n * DECLARED_VOLUME) / AITBC);
  await token.connect(agent).approve(await registry.getAddress(), MaxUint256);
  await registry.connect(deployer).grantRole(await registry.SLASHER_ROLE(), deployer.address);
  return core;
}

describe("attack: moving the declared daily volume without the bond that backs it", function () {
  it("an agent that staked nothing moves no value (it moved its whole declared volume)", async function () {
    const { token, constitution, agent, outsider } = await networkHelpers.loadFixture(unbondedFixture);
    await expect(token.connect(agent).transfer(outsider.address, DECLARED_VOLUME))
      .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
      .withArgs(agent.address, 0n, DECLARED_VOLUME, 0n);
    await expect(token.connect(agent).transfer(outsider.address, 1n)).to.be.revertedWithCustomError(
      constitution,
      "AgentConstitutionDailyVolumeExceeded",
    );
    expect(await constitution.bondedVolumeOf(agent.address)).to.equal(0n);
  });

  it("an agent staked below minStake moves no value", async function () {
    const { registry, token, constitution, agent, outsider } = await networkHelpers.loadFixture(unbondedFixture);
    await registry.connect(agent).stake(MIN_STAKE - 1n);
    await expect(token.connect(agent).transfer(outsider.address, 1n))
      .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
      .withArgs(agent.address, 0n, 1n, 0n);
  });

  it("a partial bond backs a proportional volume: (stake - minStake) / bondBps", async function () {
    const { registry, token, constitution, agent, outsider } = await networkHelpers.loadFixture(unbondedFixture);
    await registry.connect(agent).stake(MIN_STAKE + 2_500n * AITBC); // backs 25,000 AITBC a day
    const backed = 25_000n * AITBC;
    expect(await constitution.bondedVolumeOf(agent.address)).to.equal(backed);
    await expect(token.connect(agent).transfer(outsider.address, backed + 1n))
      .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
      .withArgs(agent.address, 0n, backed + 1n, backed);
    await token.connect(agent).transfer(outsider.address, backed);
  });

  it("the full bond backs all the agent declared, and the operator's own limit still applies", async function () {
    const { registry, token, constitution, agent, outsider } = await networkHelpers.loadFixture(unbondedFixture);
    await registry.connect(agent).stake(BOND);
    expect(await constitution.bondedVolumeOf(agent.address)).to.equal(DECLARED_VOLUME);
    await token.connect(agent).transfer(outsider.address, DECLARED_VOLUME);
  });

  it("a slash below the bond lowers the limit at once (it kept the whole declared volume)", async function () {
    const { registry, token, constitution, agent, outsider, deployer } =
      await networkHelpers.loadFixture(unbondedFixture);
    await registry.connect(agent).stake(BOND);
    await registry.connect(deployer).slash(AGENT_ID, BOND / 2n, "fault"); // 5,500 left: backs 45,000 AITBC
    const backed = ((BOND / 2n - MIN_STAKE) * 10_000n) / BOND_BPS;
    expect(await constitution.bondedVolumeOf(agent.address)).to.equal(backed);
    await expect(token.connect(agent).transfer(outsider.address, backed + 1n))
      .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
      .withArgs(agent.address, 0n, backed + 1n, backed);
    // a top-up restores it
    await registry.connect(agent).stake(BOND / 2n);
    expect(await constitution.bondedVolumeOf(agent.address)).to.equal(DECLARED_VOLUME);
    await token.connect(agent).transfer(outsider.address, DECLARED_VOLUME);
  });

  it("an exit leaves only the operator's limit", async function () {
    const { registry, token, constitution, agent, outsider } = await networkHelpers.loadFixture(unbondedFixture);
    await registry.connect(agent).stake(BOND);
    await registry.connect(agent).requestUnstake(AGENT_ID, BOND); // the exit
    expect(await constitution.bondedVolumeOf(agent.address)).to.equal(DECLARED_VOLUME);
    await token.connect(agent).transfer(outsider.address, DECLARED_VOLUME);
  });
});

describe("the bond cap of the daily volume", function () {
  it("sits under the operator's limit: the lower of the two is in force, and each survives the other's change", async function () {
    const { registry, token, constitution, agent, operator, outsider, deployer } =
      await networkHelpers.loadFixture(unbondedFixture);
    await registry.connect(agent).stake(BOND);
    const own = 30_000n * AITBC;
    await constitution.connect(operator).setConstraints(agent.address, constraints({ maxDailyVolume: own }));
    await registry.connect(deployer).slash(AGENT_ID, BOND / 2n, "fault"); // backs 45,000: the operator's 30,000 rules
    expect((await constitution.constraintsOf(agent.address)).maxDailyVolume).to.equal(own);
    await expect(token.connect(agent).transfer(outsider.address, own + 1n)).to.be.revertedWithCustomError(
      constitution,
      "AgentConstitutionDailyVolumeExceeded",
    );
    await registry.connect(deployer).slash(AGENT_ID, 2_000n * AITBC, "fault"); // 3,500 left: backs 25,000
    await expect(token.connect(agent).transfer(outsider.address, 25_000n * AITBC + 1n))
      .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
      .withArgs(agent.address, 0n, 25_000n * AITBC + 1n, 25_000n * AITBC);
    // the operator's own limit was kept apart: a top-up brings it back, not the declared volume
    await registry.connect(agent).stake(BOND);
    expect((await constitution.constraintsOf(agent.address)).maxDailyVolume).to.equal(own);
    await expect(token.connect(agent).transfer(outsider.address, own + 1n)).to.be.revertedWithCustomError(
      constitution,
      "AgentConstitutionDailyVolumeExceeded",
    );
    await token.connect(agent).transfer(outsider.address, own);
  });

  it("follows a lowered declaration, and a raise needs the bond", async function () {
    const { registry, constitution, agent } = await networkHelpers.loadFixture(unbondedFixture);
    await registry.connect(agent).stake(BOND);
    await expect(registry.connect(agent).declareDailyVolume(DECLARED_VOLUME / 2n))
      .to.emit(constitution, "BondedVolumeSet")
      .withArgs(agent.address, DECLARED_VOLUME / 2n);
    expect(await registry.bondedVolume(AGENT_ID)).to.equal(DECLARED_VOLUME / 2n);
    await expect(registry.connect(agent).declareDailyVolume(DECLARED_VOLUME * 2n)).to.be.revertedWithCustomError(
      registry,
      "AgentRegistryStakeBelowRequired",
    );
    await registry.connect(agent).declareDailyVolume(DECLARED_VOLUME);
    expect(await constitution.bondedVolumeOf(agent.address)).to.equal(DECLARED_VOLUME);
  });

  it("a raised minStake reaches an agent through syncBonds (anyone), else on its next change of stake", async function () {
    const { registry, constitution, agent, outsider, deployer } = await networkHelpers.loadFixture(unbondedFixture);
    await registry.connect(agent).stake(BOND);
    await registry.connect(deployer).setMinStake(MIN_STAKE + 5_000n * AITBC); // 11,000 staked backs 50,000
    expect(await constitution.bondedVolumeOf(agent.address)).to.equal(DECLARED_VOLUME);
    expect(await registry.bondedVolume(AGENT_ID)).to.equal(50_000n * AITBC);
    await expect(registry.connect(outsider).syncBonds([AGENT_ID]))
      .to.emit(constitution, "BondedVolumeSet")
      .withArgs(agent.address, 50_000n * AITBC);
    expect(await constitution.bondedVolumeOf(agent.address)).to.equal(50_000n * AITBC);
    // nothing changed: no event
    await expect(registry.connect(outsider).syncBonds([AGENT_ID])).not.to.emit(constitution, "BondedVolumeSet");
    await expect(registry.syncBonds([9n]))
      .to.be.revertedWithCustomError(registry, "AgentRegistryUnknownAgent")
      .withArgs(9n);
  });

  it("only the registry reports a bonded volume, and only for an enrolled agent", async function () {
    const { constitution, deployer, agent, outsider } = await networkHelpers.loadFixture(unbondedFixture);
    const role = await constitution.REGISTRY_ROLE();
    await expect(constitution.connect(outsider).setBondedVolume(agent.address, DECLARED_VOLUME))
      .to.be.revertedWithCustomError(constitution, "AccessControlUnauthorizedAccount")
      .withArgs(outsider.address, role);
    await constitution.connect(deployer).grantRole(role, deployer.address);
    await expect(constitution.connect(deployer).setBondedVolume(outsider.address, 1n))
      .to.be.revertedWithCustomError(constitution, "AgentConstitutionNotEnrolled")
      .withArgs(outsider.address);
    // never more than declared
    await constitution.connect(deployer).setBondedVolume(agent.address, DECLARED_VOLUME * 2n);
    expect(await constitution.bondedVolumeOf(agent.address)).to.equal(DECLARED_VOLUME);
  });

  shouldBeRefusedWhileStopped({
    fn: "syncBonds",
    setup: unbondedFixture,
    call: (f) => f.registry.connect(f.outsider).syncBonds([AGENT_ID]),
  });
});
