import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { id, MaxInt256, MaxUint256, MinInt256, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import {
  ACTION,
  AGENT_TYPE,
  AITBC,
  ALL_ACTIONS,
  bit,
  BOND_BPS,
  constraints,
  constraintsTuple,
  type Constraints,
  DAY,
  DEFAULT_BOUNDS,
  DEFAULT_CONSTRAINTS,
  enrolledConstraints,
  HOUR,
  MIN_STAKE,
  MIN_UNBONDING_DELAY,
  mintAitbc,
  registration,
  requiredStakeFor,
  STATUS,
  UNBONDING_DELAY,
} from "../helpers/agents.js";
import {
  shouldBeChargedAsAgentAction,
  shouldBeRefusedWhileStopped,
  shouldRevertForUnknownId,
} from "../helpers/behaviours.js";
import { deployCore } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

/** The fixture agent declares 10,000 AITBC a day: it needs 1,000 + 10% of 10,000 = 2,000 AITBC of stake. */
const VOLUME = 10_000n * AITBC;
const REQUIRED = requiredStakeFor(VOLUME);
const AGENT_ID = 1n;
const UNKNOWN_ID = 99n;
const MAX_STRING = 256;
const MAX_CAPABILITIES = 32;

/** Constraints the fixture agent's operator may set: the defaults with the daily volume at its declared VOLUME. */
function agentConstraints(overrides: Partial<Constraints> = {}): Constraints {
  return constraints({ maxDailyVolume: VOLUME, ...overrides });
}

/**
 * The core, plus: `agent` registered (id 1, operator `operator`, 10,000 AITBC expected daily volume) with no
 * stake; `agent` and `agent2` (unregistered) each hold 10,000 AITBC and have approved the registry; `slasher`
 * holds SLASHER_ROLE and `reputer` REPUTATION_ROLE.
 */
async function registryFixture() {
  const core = await deployCore(connection);
  const { registry, token, deployer, agent, agent2, operator } = core;
  const signers = await ethers.getSigners();
  const slasher = signers[9];
  const reputer = signers[10];
  if (!slasher || !reputer) throw new Error("the test network needs at least 11 accounts");
  await registry.connect(deployer).grantRole(await registry.SLASHER_ROLE(), slasher.address);
  await registry.connect(deployer).grantRole(await registry.REPUTATION_ROLE(), reputer.address);
  await registry.connect(agent).register(registration(operator.address, { expectedDailyVolume: VOLUME }));
  for (const signer of [agent, agent2]) {
    await mintAitbc(core, signer.address, 10_000n);
    await token.connect(signer).approve(await registry.getAddress(), MaxUint256);
  }
  return { ...core, slasher, reputer };
}

const load = () => networkHelpers.loadFixture(registryFixture);

/** Sets the next block's timestamp (a little after the latest) and returns it. */
async function atNextBlock(): Promise<bigint> {
  const t = BigInt(await time.latest()) + 10n;
  await time.setNextBlockTimestamp(t);
  return t;
}

async function stopped() {
  const f = await load();
  await f.humanOverride.connect(f.guardian).emergencyStop("exploit in progress");
  return f;
}

describe("AgentRegistry", function () {
  describe("constructor", function () {
    async function deployArgs() {
      const f = await load();
      return {
        f,
        args: [
          f.deployer.address,
          await f.token.getAddress(),
          await f.humanOverride.getAddress(),
          await f.constitution.getAddress(),
          f.treasury.address,
          MIN_STAKE,
          BOND_BPS,
          UNBONDING_DELAY,
        ] as const,
      };
    }

    it("stores the parameters, the wiring and the admin, and emits each parameter event", async function () {
      const { f, args } = await deployArgs();
      const registry = await ethers.deployContract("AgentRegistry", [...args]);
      const deployment = registry.deploymentTransaction();
      expect(deployment).to.not.equal(null);
      await expect(deployment).to.emit(registry, "MinStakeSet").withArgs(MIN_STAKE);
      await expect(deployment).to.emit(registry, "BondBpsSet").withArgs(BOND_BPS);
      await expect(deployment).to.emit(registry, "UnbondingDelaySet").withArgs(UNBONDING_DELAY);
      await expect(deployment).to.emit(registry, "TreasurySet").withArgs(f.treasury.address);
      expect(await registry.token()).to.equal(args[1]);
      expect(await registry.humanOverride()).to.equal(args[2]);
      expect(await registry.constitution()).to.equal(args[3]);
      expect(await registry.treasury()).to.equal(f.treasury.address);
      expect(await registry.minStake()).to.equal(MIN_STAKE);
      expect(await registry.bondBps()).to.equal(BOND_BPS);
      expect(await registry.unbondingDelay()).to.equal(UNBONDING_DELAY);
      expect(await registry.hasRole(ZeroHash, f.deployer.address)).to.be.true;
      expect(await registry.agentCount()).to.equal(0n);
    });

    it("accepts the largest bond (100%) and unbonding delay (90 days)", async function () {
      const { args } = await deployArgs();
      const registry = await ethers.deployContract("AgentRegistry", [...args.slice(0, 6), 10_000n, 90n * DAY]);
      expect(await registry.bondBps()).to.equal(10_000n);
      expect(await registry.unbondingDelay()).to.equal(90n * DAY);
    });

    for (const [index, name] of [
      [0, "admin"],
      [1, "token"],
      [2, "humanOverride"],
      [3, "constitution"],
      [4, "treasury"],
    ] as const) {
      it(`reverts AgentRegistryZeroAddress when ${name} is the zero address`, async function () {
        const { f, args } = await deployArgs();
        const bad = [...args] as unknown[];
        bad[index] = ZeroAddress;
        await expect(ethers.deployContract("AgentRegistry", bad)).to.be.revertedWithCustomError(
          f.registry,
          "AgentRegistryZeroAddress",
        );
      });
    }

    it("reverts AgentRegistryInvalidParameter when the bond is above 10,000 bps", async function () {
      const { f, args } = await deployArgs();
      await expect(ethers.deployContract("AgentRegistry", [...args.slice(0, 6), 10_001n, UNBONDING_DELAY]))
        .to.be.revertedWithCustomError(f.registry, "AgentRegistryInvalidParameter")
        .withArgs("bondBps", 10_001n);
    });

    it("accepts the shortest unbonding delay (MIN_UNBONDING_DELAY, 1 hour)", async function () {
      const { args } = await deployArgs();
      const registry = await ethers.deployContract("AgentRegistry", [...args.slice(0, 7), MIN_UNBONDING_DELAY]);
      expect(await registry.unbondingDelay()).to.equal(MIN_UNBONDING_DELAY);
      expect(await registry.MIN_UNBONDING_DELAY()).to.equal(HOUR);
    });

    for (const delay of [0n, 1n, MIN_UNBONDING_DELAY - 1n]) {
      it(`reverts AgentRegistryInvalidParameter when the unbonding delay is ${delay} s (below 1 hour)`, async function () {
        const { f, args } = await deployArgs();
        await expect(ethers.deployContract("AgentRegistry", [...args.slice(0, 7), delay]))
          .to.be.revertedWithCustomError(f.registry, "AgentRegistryInvalidParameter")
          .withArgs("unbondingDelay", delay);
      });
    }

    it("reverts AgentRegistryInvalidParameter when the unbonding delay is above 90 days", async function () {
      const { f, args } = await deployArgs();
      await expect(ethers.deployContract("AgentRegistry", [...args.slice(0, 6), BOND_BPS, 90n * DAY + 1n]))
        .to.be.revertedWithCustomError(f.registry, "AgentRegistryInvalidParameter")
        .withArgs("unbondingDelay", 90n * DAY + 1n);
    });
  });

  describe("register", function () {
    it("stores every field, starts Active with reputation 500 and zero stake", async function () {
      const { registry, agent2, operator } = await load();
      const caps = [id("a"), id("b"), id("c")];
      const reg = registration(operator.address, {
        agentType: AGENT_TYPE.validator,
        metadataURI: "ipfs://meta-2",
        endpoint: "https://two.example",
        version: "2.3.4",
        capabilities: caps,
        expectedDailyVolume: 50_000n * AITBC,
      });
      const registeredAt = await atNextBlock();
      await registry.connect(agent2).register(reg);

      expect(await registry.agentCount()).to.equal(2n);
      expect(await registry.getAgentId(agent2.address)).to.equal(2n);
      const a = await registry.getAgent(2n);
      expect(a.agentId).to.equal(2n);
      expect(a.agent).to.equal(agent2.address);
      expect(a.operator).to.equal(operator.address);
      expect(a.agentType).to.equal(AGENT_TYPE.validator);
      expect(a.status).to.equal(STATUS.active);
      expect(a.registeredAt).to.equal(registeredAt);
      expect(a.reputation).to.equal(500n);
      expect(a.stake).to.equal(0n);
      expect(a.requiredStake).to.equal(MIN_STAKE + 5_000n * AITBC);
      expect(a.pendingWithdrawal).to.equal(0n);
      expect(a.withdrawableAt).to.equal(0n);
      expect(a.expectedDailyVolume).to.equal(50_000n * AITBC);
      expect(a.metadataURI).to.equal("ipfs://meta-2");
      expect(a.endpoint).to.equal("https://two.example");
      expect(a.version).to.equal("2.3.4");
      expect([...a.capabilities]).to.deep.equal(caps);
      expect(await registry.isActive(2n)).to.be.false; // no stake yet
    });

    it("emits AgentRegistered with the id, agent, operator, type and expected volume", async function () {
      const { registry, agent2, operator } = await load();
      const reg = registration(operator.address, { agentType: AGENT_TYPE.marketMaker, expectedDailyVolume: 7n });
      await expect(registry.connect(agent2).register(reg))
        .to.emit(registry, "AgentRegistered")
        .withArgs(2n, agent2.address, operator.address, AGENT_TYPE.marketMaker, 7n);
    });

    it("enrolls the agent in the constitution with the defaults, its daily volume capped at the declared one", async function () {
      const { registry, constitution, agent2, operator } = await load();
      expect(await constitution.isEnrolled(agent2.address)).to.be.false;
      await expect(registry.connect(agent2).register(registration(operator.address, { expectedDailyVolume: VOLUME })))
        .to.emit(constitution, "AgentEnrolled")
        .withArgs(agent2.address, operator.address, VOLUME);
      expect(await constitution.isEnrolled(agent2.address)).to.be.true;
      expect(await constitution.operatorOf(agent2.address)).to.equal(operator.address);
      expect(await constitution.declaredVolumeOf(agent2.address)).to.equal(VOLUME);
      expect(constraintsTuple(await constitution.constraintsOf(agent2.address))).to.deep.equal(
        constraintsTuple(enrolledConstraints(VOLUME)),
      );
      expect((await constitution.constraintsOf(agent2.address)).maxDailyVolume).to.equal(VOLUME);
    });

    it("enrolls an agent declaring more than the default daily volume with the default limit", async function () {
      const { registry, constitution, agent2, operator } = await load();
      const declared = DEFAULT_CONSTRAINTS.maxDailyVolume * 3n;
      await registry.connect(agent2).register(registration(operator.address, { expectedDailyVolume: declared }));
      expect(constraintsTuple(await constitution.constraintsOf(agent2.address))).to.deep.equal(
        constraintsTuple(DEFAULT_CONSTRAINTS),
      );
      expect(await constitution.declaredVolumeOf(agent2.address)).to.equal(declared);
    });

    it("enrolls an agent declaring no daily volume with a zero daily volume limit", async function () {
      const { registry, constitution, agent2, operator } = await load();
      await registry.connect(agent2).register(registration(operator.address));
      expect((await constitution.constraintsOf(agent2.address)).maxDailyVolume).to.equal(0n);
    });

    it("accepts the constitution's maxDailyVolume bound as expected volume and reverts AgentConstitutionAboveBound above it", async function () {
      const { registry, constitution, agent2, outsider, operator } = await load();
      const bound = DEFAULT_BOUNDS.maxDailyVolume;
      await expect(
        registry.connect(agent2).register(registration(operator.address, { expectedDailyVolume: bound + 1n })),
      )
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("declaredDailyVolume", bound + 1n, bound);
      await expect(
        registry.connect(agent2).register(registration(operator.address, { expectedDailyVolume: MaxUint256 })),
      )
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("declaredDailyVolume", MaxUint256, bound);
      expect(await registry.agentCount()).to.equal(1n);
      await registry.connect(outsider).register(registration(operator.address, { expectedDailyVolume: bound }));
      expect(await registry.requiredStake(2n)).to.equal(requiredStakeFor(bound));
    });

    it("reverts AgentRegistryOperatorIsAgent when the caller names itself as operator", async function () {
      const { registry, agent2 } = await load();
      await expect(registry.connect(agent2).register(registration(agent2.address)))
        .to.be.revertedWithCustomError(registry, "AgentRegistryOperatorIsAgent")
        .withArgs(agent2.address);
      expect(await registry.agentCount()).to.equal(1n);
    });

    it("reverts AgentRegistryCallerFrozen for a frozen caller, and registers it once unfrozen", async function () {
      const { registry, constitution, humanOverride, guardian, agent2, operator } = await load();
      await humanOverride.connect(guardian).freeze(agent2.address, "known bad key");
      await expect(registry.connect(agent2).register(registration(operator.address)))
        .to.be.revertedWithCustomError(registry, "AgentRegistryCallerFrozen")
        .withArgs(agent2.address);
      expect(await constitution.isEnrolled(agent2.address)).to.be.false;
      await humanOverride.connect(guardian).unfreeze(agent2.address);
      await registry.connect(agent2).register(registration(operator.address));
      expect(await registry.getAgentId(agent2.address)).to.equal(2n);
    });

    it("reverts AgentRegistryOperatorFrozen when the named operator is frozen (a frozen key cannot custody an agent)", async function () {
      const { registry, humanOverride, guardian, agent2, outsider } = await load();
      await humanOverride.connect(guardian).freeze(outsider.address, "known bad key");
      await expect(registry.connect(agent2).register(registration(outsider.address)))
        .to.be.revertedWithCustomError(registry, "AgentRegistryOperatorFrozen")
        .withArgs(outsider.address);
    });

    it("accepts strings of exactly 256 bytes and exactly 32 capabilities", async function () {
      const { registry, agent2, operator } = await load();
      const s = "x".repeat(MAX_STRING);
      const caps = Array.from({ length: MAX_CAPABILITIES }, (_, i) => id(`cap-${i}`));
      await registry
        .connect(agent2)
        .register(registration(operator.address, { metadataURI: s, endpoint: s, version: s, capabilities: caps }));
      expect(await registry.getVersion(2n)).to.equal(s);
      expect(await registry.getCapabilities(2n)).to.have.length(MAX_CAPABILITIES);
    });

    it("reverts AgentRegistryAlreadyRegistered when the caller is already an agent", async function () {
      const { registry, agent, operator } = await load();
      await expect(registry.connect(agent).register(registration(operator.address)))
        .to.be.revertedWithCustomError(registry, "AgentRegistryAlreadyRegistered")
        .withArgs(agent.address, AGENT_ID);
    });

    it("reverts AgentRegistryZeroAddress when the operator is the zero address", async function () {
      const { registry, agent2 } = await load();
      await expect(registry.connect(agent2).register(registration(ZeroAddress))).to.be.revertedWithCustomError(
        registry,
        "AgentRegistryZeroAddress",
      );
    });

    for (const field of ["metadataURI", "endpoint", "version"] as const) {
      it(`reverts AgentRegistryStringTooLong when ${field} is 257 bytes`, async function () {
        const { registry, agent2, operator } = await load();
        const reg = registration(operator.address, { [field]: "y".repeat(MAX_STRING + 1) });
        await expect(registry.connect(agent2).register(reg))
          .to.be.revertedWithCustomError(registry, "AgentRegistryStringTooLong")
          .withArgs(field, MAX_STRING + 1, MAX_STRING);
      });
    }

    it("counts string length in bytes, not characters", async function () {
      const { registry, agent2, operator } = await load();
      const reg = registration(operator.address, { endpoint: "é".repeat(129) }); // 258 bytes
      await expect(registry.connect(agent2).register(reg))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStringTooLong")
        .withArgs("endpoint", 258, MAX_STRING);
    });

    it("reverts AgentRegistryTooManyCapabilities with 33 capabilities", async function () {
      const { registry, agent2, operator } = await load();
      const caps = Array.from({ length: MAX_CAPABILITIES + 1 }, (_, i) => id(`cap-${i}`));
      await expect(registry.connect(agent2).register(registration(operator.address, { capabilities: caps })))
        .to.be.revertedWithCustomError(registry, "AgentRegistryTooManyCapabilities")
        .withArgs(MAX_CAPABILITIES + 1, MAX_CAPABILITIES);
    });

    shouldBeRefusedWhileStopped({
      fn: "register",
      setup: load,
      call: (f) => f.registry.connect(f.agent2).register(registration(f.operator.address)),
    });
  });

  describe("updateProfile", function () {
    const caps = [id("new-capability")];

    it("replaces the profile and emits ProfileUpdated", async function () {
      const { registry, agent } = await load();
      await expect(registry.connect(agent).updateProfile("ipfs://v2", "https://v2.example", "2.0.0", caps))
        .to.emit(registry, "ProfileUpdated")
        .withArgs(AGENT_ID, "ipfs://v2", "https://v2.example", "2.0.0", caps);
      const a = await registry.getAgent(AGENT_ID);
      expect(a.metadataURI).to.equal("ipfs://v2");
      expect(a.endpoint).to.equal("https://v2.example");
      expect(a.version).to.equal("2.0.0");
      expect([...a.capabilities]).to.deep.equal(caps);
    });

    it("is an UPDATE_PROFILE action charged to the agent's daily gas, with no volume", async function () {
      const { registry, constitution, agent } = await load();
      await registry.connect(agent).updateProfile("u", "e", "v", []);
      const usage = await constitution.usageOf(agent.address);
      expect(usage.volume).to.equal(0n);
      expect(usage.gas).to.be.greaterThan(0n);
    });

    it("reverts AgentRegistryNotRegistered for a caller that is not an agent", async function () {
      const { registry, outsider } = await load();
      await expect(registry.connect(outsider).updateProfile("u", "e", "v", caps))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotRegistered")
        .withArgs(outsider.address);
    });

    it("reverts AgentRegistryNotActive (Frozen) for a frozen agent", async function () {
      const { registry, humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).freeze(agent.address, "suspicious");
      await expect(registry.connect(agent).updateProfile("u", "e", "v", caps))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotActive")
        .withArgs(AGENT_ID, STATUS.frozen);
    });

    it("reverts AgentRegistryNotActive (Exiting) for an exiting agent", async function () {
      const { registry, agent } = await load();
      await registry.connect(agent).stake(REQUIRED);
      await registry.connect(agent).requestUnstake(AGENT_ID, REQUIRED);
      await expect(registry.connect(agent).updateProfile("u", "e", "v", caps))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotActive")
        .withArgs(AGENT_ID, STATUS.exiting);
    });

    shouldBeChargedAsAgentAction({
      fn: "updateProfile",
      action: "update-profile",
      setup: load,
      agent: (f) => f.agent,
      call: (f) => f.registry.connect(f.agent).updateProfile("u", "e", "v", caps),
    });

    it("reverts AgentRegistryStringTooLong and AgentRegistryTooManyCapabilities like register", async function () {
      const { registry, agent } = await load();
      const long = "z".repeat(MAX_STRING + 1);
      await expect(registry.connect(agent).updateProfile("u", "e", long, caps))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStringTooLong")
        .withArgs("version", MAX_STRING + 1, MAX_STRING);
      const many = Array.from({ length: MAX_CAPABILITIES + 1 }, (_, i) => id(`c${i}`));
      await expect(registry.connect(agent).updateProfile("u", "e", "v", many))
        .to.be.revertedWithCustomError(registry, "AgentRegistryTooManyCapabilities")
        .withArgs(MAX_CAPABILITIES + 1, MAX_CAPABILITIES);
    });

    shouldBeRefusedWhileStopped({
      fn: "updateProfile",
      setup: load,
      call: (f) => f.registry.connect(f.agent).updateProfile("u", "e", "v", caps),
    });
  });

  describe("setEncryptionKey", function () {
    const KEY = `0x${"5a".repeat(32)}`;

    it("publishes the agent's X25519 key, set by the agent or its operator, with an event and a view", async function () {
      const f = await load();
      expect(await f.registry.encryptionKeyOf(AGENT_ID)).to.equal(ZeroHash);
      await expect(f.registry.connect(f.agent).setEncryptionKey(AGENT_ID, KEY))
        .to.emit(f.registry, "EncryptionKeySet")
        .withArgs(AGENT_ID, KEY, f.agent.address);
      expect(await f.registry.encryptionKeyOf(AGENT_ID)).to.equal(KEY);
      const rotated = `0x${"6b".repeat(32)}`;
      await expect(f.registry.connect(f.operator).setEncryptionKey(AGENT_ID, rotated))
        .to.emit(f.registry, "EncryptionKeySet")
        .withArgs(AGENT_ID, rotated, f.operator.address);
      expect(await f.registry.encryptionKeyOf(AGENT_ID)).to.equal(rotated);
    });

    it("attack: anyone else cannot replace an agent's key (to read what is sealed to it)", async function () {
      const f = await load();
      await f.registry.connect(f.agent).setEncryptionKey(AGENT_ID, KEY);
      await expect(f.registry.connect(f.agent2).setEncryptionKey(AGENT_ID, `0x${"77".repeat(32)}`))
        .to.be.revertedWithCustomError(f.registry, "AgentRegistryNotAgentOrOperator")
        .withArgs(AGENT_ID, f.agent2.address);
      expect(await f.registry.encryptionKeyOf(AGENT_ID)).to.equal(KEY);
    });

    it("refuses a zero key", async function () {
      const f = await load();
      await expect(f.registry.connect(f.agent).setEncryptionKey(AGENT_ID, ZeroHash))
        .to.be.revertedWithCustomError(f.registry, "AgentRegistryZeroEncryptionKey")
        .withArgs(AGENT_ID);
    });

    shouldRevertForUnknownId({
      fn: "setEncryptionKey",
      error: "AgentRegistryUnknownAgent",
      ids: [0n, UNKNOWN_ID],
      setup: load,
      contract: (f) => f.registry,
      call: (f, agentId) => f.registry.connect(f.agent).setEncryptionKey(agentId, KEY),
    });

    shouldBeRefusedWhileStopped({
      fn: "setEncryptionKey",
      setup: load,
      call: (f) => f.registry.connect(f.agent).setEncryptionKey(AGENT_ID, KEY),
    });
  });

  describe("declareDailyVolume", function () {
    const LOWER = 5_000n * AITBC;
    const HIGHER = 20_000n * AITBC;

    async function bonded() {
      const f = await load();
      await f.registry.connect(f.agent).stake(REQUIRED);
      return f;
    }

    it("records the volume, emits DailyVolumeDeclared, and lowers the constitution's limit to it", async function () {
      const { registry, constitution, agent } = await bonded();
      const tx = registry.connect(agent).declareDailyVolume(LOWER);
      await expect(tx).to.emit(registry, "DailyVolumeDeclared").withArgs(AGENT_ID, LOWER);
      await expect(tx).to.emit(constitution, "DeclaredVolumeSet").withArgs(agent.address, LOWER);
      const a = await registry.getAgent(AGENT_ID);
      expect(a.expectedDailyVolume).to.equal(LOWER);
      expect(a.requiredStake).to.equal(requiredStakeFor(LOWER));
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(LOWER);
      expect((await constitution.constraintsOf(agent.address)).maxDailyVolume).to.equal(LOWER);
    });

    it("reverts AgentRegistryStakeBelowRequired when the stake does not cover minStake + 10% of the new volume", async function () {
      const { registry, constitution, agent } = await bonded();
      const required = requiredStakeFor(HIGHER);
      await expect(registry.connect(agent).declareDailyVolume(HIGHER))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStakeBelowRequired")
        .withArgs(AGENT_ID, REQUIRED, required);
      expect((await registry.getAgent(AGENT_ID)).expectedDailyVolume).to.equal(VOLUME);
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(VOLUME);
      await registry.connect(agent).stake(required - REQUIRED - 1n);
      await expect(registry.connect(agent).declareDailyVolume(HIGHER))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStakeBelowRequired")
        .withArgs(AGENT_ID, required - 1n, required);
    });

    it("accepts a stake exactly at the new required stake; a higher volume leaves the limit for the operator to raise", async function () {
      const { registry, constitution, agent, operator } = await bonded();
      const required = requiredStakeFor(HIGHER);
      await registry.connect(agent).stake(required - REQUIRED);
      await expect(registry.connect(agent).declareDailyVolume(HIGHER))
        .to.emit(registry, "DailyVolumeDeclared")
        .withArgs(AGENT_ID, HIGHER);
      expect(await registry.isActive(AGENT_ID)).to.be.true;
      expect(await registry.requiredStake(AGENT_ID)).to.equal(required);
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(HIGHER);
      expect((await constitution.constraintsOf(agent.address)).maxDailyVolume).to.equal(VOLUME); // not raised
      await constitution.connect(operator).setConstraints(agent.address, agentConstraints({ maxDailyVolume: HIGHER }));
      expect((await constitution.constraintsOf(agent.address)).maxDailyVolume).to.equal(HIGHER);
    });

    it("lets an agent lower its volume and then unstake the bond it no longer needs", async function () {
      const { registry, constitution, agent } = await bonded();
      await expect(registry.connect(agent).requestUnstake(AGENT_ID, AITBC))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStakeBelowRequired")
        .withArgs(AGENT_ID, REQUIRED - AITBC, REQUIRED);
      await registry.connect(agent).declareDailyVolume(0n);
      expect(await registry.requiredStake(AGENT_ID)).to.equal(MIN_STAKE);
      expect((await constitution.constraintsOf(agent.address)).maxDailyVolume).to.equal(0n);
      await registry.connect(agent).requestUnstake(AGENT_ID, REQUIRED - MIN_STAKE);
      expect(await registry.isActive(AGENT_ID)).to.be.true;
    });

    it("reverts AgentRegistryStakeBelowRequired when raising without the bond, but always lets the volume fall", async function () {
      const { registry, constitution, agent } = await load();
      const declared = (await registry.getAgent(AGENT_ID)).expectedDailyVolume;
      await expect(registry.connect(agent).declareDailyVolume(declared + 1n))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStakeBelowRequired")
        .withArgs(AGENT_ID, 0n, requiredStakeFor(declared + 1n));
      await registry.connect(agent).declareDailyVolume(0n); // never staked, yet it may lower
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(0n);
    });

    it("reverts AgentConstitutionAboveBound above the constitution's maxDailyVolume bound, even when bonded", async function () {
      const { registry, constitution, deployer, agent } = await bonded();
      await registry.connect(deployer).setBondBps(0n); // any volume is now bonded by minStake
      const bound = DEFAULT_BOUNDS.maxDailyVolume;
      await expect(registry.connect(agent).declareDailyVolume(bound + 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("declaredDailyVolume", bound + 1n, bound);
      await registry.connect(agent).declareDailyVolume(bound);
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(bound);
    });

    it("is an UPDATE_PROFILE action charged to the agent's daily gas, with no volume", async function () {
      const { registry, constitution, agent } = await bonded();
      const before = await constitution.usageOf(agent.address);
      await registry.connect(agent).declareDailyVolume(LOWER);
      const after = await constitution.usageOf(agent.address);
      expect(after.volume).to.equal(before.volume);
      expect(after.gas).to.be.greaterThan(before.gas);
    });

    it("reverts AgentConstitutionActionDenied when a guardian denied UPDATE_PROFILE", async function () {
      const { registry, constitution, humanOverride, guardian, agent } = await bonded();
      await humanOverride.connect(guardian).deny(agent.address, ACTION.UPDATE_PROFILE, HOUR);
      await expect(registry.connect(agent).declareDailyVolume(LOWER))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionDenied")
        .withArgs(agent.address, ACTION.UPDATE_PROFILE);
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(VOLUME);
    });

    it("reverts AgentRegistryNotRegistered for a caller that is not an agent, the operator included", async function () {
      const { registry, operator, outsider } = await bonded();
      for (const caller of [operator, outsider]) {
        await expect(registry.connect(caller).declareDailyVolume(LOWER))
          .to.be.revertedWithCustomError(registry, "AgentRegistryNotRegistered")
          .withArgs(caller.address);
      }
    });

    it("reverts AgentRegistryNotActive (Frozen) for a frozen agent", async function () {
      const { registry, humanOverride, guardian, agent } = await bonded();
      await humanOverride.connect(guardian).freeze(agent.address, "suspicious");
      await expect(registry.connect(agent).declareDailyVolume(LOWER))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotActive")
        .withArgs(AGENT_ID, STATUS.frozen);
    });

    it("reverts AgentRegistryNotActive (Exiting) for an exiting agent", async function () {
      const { registry, agent } = await bonded();
      await registry.connect(agent).requestUnstake(AGENT_ID, REQUIRED);
      await expect(registry.connect(agent).declareDailyVolume(0n))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotActive")
        .withArgs(AGENT_ID, STATUS.exiting);
    });

    shouldBeRefusedWhileStopped({
      fn: "declareDailyVolume",
      setup: bonded,
      call: (f) => f.registry.connect(f.agent).declareDailyVolume(LOWER),
    });
  });

  describe("stake", function () {
    it("moves the tokens, updates the stake and the total, and emits Staked", async function () {
      const { registry, token, agent } = await load();
      const amount = 1_500n * AITBC;
      const tx = registry.connect(agent).stake(amount);
      await expect(tx).to.emit(registry, "Staked").withArgs(AGENT_ID, amount, amount);
      await expect(tx).to.changeTokenBalances(ethers, token, [agent, registry], [-amount, amount]);
      await expect(registry.connect(agent).stake(100n))
        .to.emit(registry, "Staked")
        .withArgs(AGENT_ID, 100n, amount + 100n);
      expect(await registry.stakeOf(AGENT_ID)).to.equal(amount + 100n);
      expect(await registry.totalStaked()).to.equal(amount + 100n);
      expect(await registry.totalPending()).to.equal(0n);
    });

    it("makes the agent active exactly when its stake reaches minStake + 10% of its expected daily volume", async function () {
      const { registry, agent } = await load();
      expect(await registry.requiredStake(AGENT_ID)).to.equal(2_000n * AITBC);
      await registry.connect(agent).stake(REQUIRED - 1n);
      expect(await registry.isActive(AGENT_ID)).to.be.false;
      await registry.connect(agent).stake(1n);
      expect(await registry.isActive(AGENT_ID)).to.be.true;
    });

    it("sums the stakes of several agents in totalStaked", async function () {
      const { registry, agent, agent2, operator } = await load();
      await registry.connect(agent2).register(registration(operator.address));
      await registry.connect(agent).stake(3_000n * AITBC);
      await registry.connect(agent2).stake(1_000n * AITBC);
      expect(await registry.totalStaked()).to.equal(4_000n * AITBC);
    });

    it("is a STAKE action of value 0: it uses daily gas but no daily volume, and the pull is not charged as a TRANSFER", async function () {
      const { registry, constitution, agent, operator } = await load();
      await constitution
        .connect(operator)
        .setConstraints(agent.address, agentConstraints({ allowedActions: ALL_ACTIONS & ~bit(ACTION.TRANSFER) }));
      await registry.connect(agent).stake(2_500n * AITBC);
      const usage = await constitution.usageOf(agent.address);
      expect(usage.volume).to.equal(0n);
      expect(usage.gas).to.be.greaterThan(0n);
    });

    it("does not count toward the daily volume: an agent with a tiny daily volume stakes far more than it", async function () {
      const { registry, constitution, token, agent, operator, client } = await load();
      await constitution.connect(operator).setConstraints(agent.address, agentConstraints({ maxDailyVolume: AITBC }));
      await registry.connect(agent).stake(5_000n * AITBC);
      expect(await registry.stakeOf(AGENT_ID)).to.equal(5_000n * AITBC);
      expect((await constitution.usageOf(agent.address)).volume).to.equal(0n);
      await token.connect(agent).transfer(client.address, AITBC); // its whole daily volume is left
    });

    it("lets an agent that declared no daily volume stake its bond and become active", async function () {
      const { registry, constitution, agent2, operator } = await load();
      await registry.connect(agent2).register(registration(operator.address));
      expect((await constitution.constraintsOf(agent2.address)).maxDailyVolume).to.equal(0n);
      await registry.connect(agent2).stake(MIN_STAKE);
      expect(await registry.isActive(2n)).to.be.true;
    });

    it("reverts AgentConstitutionActionDenied when a guardian denied STAKE", async function () {
      const { registry, constitution, humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).deny(agent.address, ACTION.STAKE, 3600n);
      await expect(registry.connect(agent).stake(AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionDenied")
        .withArgs(agent.address, ACTION.STAKE);
    });

    it("reverts AgentRegistryZeroAmount for zero", async function () {
      const { registry, agent } = await load();
      await expect(registry.connect(agent).stake(0n)).to.be.revertedWithCustomError(
        registry,
        "AgentRegistryZeroAmount",
      );
    });

    it("reverts AgentRegistryNotRegistered for a caller that is not an agent", async function () {
      const { registry, agent2 } = await load();
      await expect(registry.connect(agent2).stake(AITBC))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotRegistered")
        .withArgs(agent2.address);
    });

    it("reverts AgentRegistryNotActive (Frozen) for a frozen agent", async function () {
      const { registry, humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).freeze(agent.address, "suspicious");
      await expect(registry.connect(agent).stake(AITBC))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotActive")
        .withArgs(AGENT_ID, STATUS.frozen);
    });

    it("reverts AgentRegistryNotActive (Exiting) for an exiting agent", async function () {
      const { registry, agent } = await load();
      await registry.connect(agent).stake(REQUIRED);
      await registry.connect(agent).requestUnstake(AGENT_ID, REQUIRED);
      await expect(registry.connect(agent).stake(AITBC))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotActive")
        .withArgs(AGENT_ID, STATUS.exiting);
    });

    it("reverts AgentConstitutionMaxStakeExceeded one wei above the constitution's maxStake", async function () {
      const { registry, constitution, agent, operator } = await load();
      const maxStake = 3_000n * AITBC;
      await constitution.connect(operator).setConstraints(agent.address, agentConstraints({ maxStake }));
      await registry.connect(agent).stake(maxStake);
      await expect(registry.connect(agent).stake(1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionMaxStakeExceeded")
        .withArgs(agent.address, maxStake + 1n, maxStake);
    });

    shouldBeRefusedWhileStopped({ fn: "stake", setup: load, call: (f) => f.registry.connect(f.agent).stake(AITBC) });
  });

  describe("requestUnstake", function () {
    const STAKE = 5_000n * AITBC;

    async function staked() {
      const f = await load();
      await f.registry.connect(f.agent).stake(STAKE);
      return f;
    }

    it("moves a partial amount to pending, sets withdrawableAt, and emits UnstakeRequested (agent)", async function () {
      const { registry, agent } = await staked();
      const amount = STAKE - REQUIRED;
      const t = await atNextBlock();
      await expect(registry.connect(agent).requestUnstake(AGENT_ID, amount))
        .to.emit(registry, "UnstakeRequested")
        .withArgs(AGENT_ID, amount, amount, t + UNBONDING_DELAY);
      const a = await registry.getAgent(AGENT_ID);
      expect(a.stake).to.equal(REQUIRED);
      expect(a.pendingWithdrawal).to.equal(amount);
      expect(a.withdrawableAt).to.equal(t + UNBONDING_DELAY);
      expect(a.status).to.equal(STATUS.active);
      expect(await registry.isActive(AGENT_ID)).to.be.true;
      expect(await registry.totalStaked()).to.equal(REQUIRED);
      expect(await registry.totalPending()).to.equal(amount);
    });

    it("lets the operator request too; a second request before the first matured adds to pending and restarts the delay", async function () {
      const { registry, operator } = await staked();
      await registry.connect(operator).requestUnstake(AGENT_ID, 1_000n * AITBC);
      await time.increase(1_000);
      const t = await atNextBlock();
      await expect(registry.connect(operator).requestUnstake(AGENT_ID, 500n * AITBC))
        .to.emit(registry, "UnstakeRequested")
        .withArgs(AGENT_ID, 500n * AITBC, 1_500n * AITBC, t + UNBONDING_DELAY);
      expect((await registry.getAgent(AGENT_ID)).withdrawableAt).to.equal(t + UNBONDING_DELAY);
    });

    it("pays matured pending stake to the operator first (Withdrawn), then queues the new amount with a fresh delay", async function () {
      const { registry, token, agent, operator } = await staked();
      await registry.connect(agent).requestUnstake(AGENT_ID, 1_000n * AITBC);
      await time.increase(UNBONDING_DELAY);
      const t = await atNextBlock();
      const tx = registry.connect(agent).requestUnstake(AGENT_ID, 500n * AITBC);
      await expect(tx)
        .to.emit(registry, "Withdrawn")
        .withArgs(AGENT_ID, operator.address, 1_000n * AITBC);
      await expect(tx)
        .to.emit(registry, "UnstakeRequested")
        .withArgs(AGENT_ID, 500n * AITBC, 500n * AITBC, t + UNBONDING_DELAY);
      await expect(tx).to.changeTokenBalances(
        ethers,
        token,
        [operator, agent, registry],
        [1_000n * AITBC, 0n, -1_000n * AITBC],
      );
      const receipt = await (await tx).wait();
      const names = (receipt?.logs ?? [])
        .map((log) => registry.interface.parseLog(log)?.name)
        .filter((name) => name !== undefined);
      expect(names).to.deep.equal(["Withdrawn", "UnstakeRequested"]);
      const a = await registry.getAgent(AGENT_ID);
      expect(a.stake).to.equal(STAKE - 1_500n * AITBC);
      expect(a.pendingWithdrawal).to.equal(500n * AITBC);
      expect(a.withdrawableAt).to.equal(t + UNBONDING_DELAY);
      expect(await registry.totalStaked()).to.equal(STAKE - 1_500n * AITBC);
      expect(await registry.totalPending()).to.equal(500n * AITBC);
      expect(await token.balanceOf(await registry.getAddress())).to.equal(
        (await registry.totalStaked()) + (await registry.totalPending()),
      );
    });

    it("counts pending stake as matured from withdrawableAt exactly, and not one second before", async function () {
      const { registry, agent, operator } = await staked();
      const t0 = await atNextBlock();
      await registry.connect(agent).requestUnstake(AGENT_ID, 1_000n * AITBC);
      await time.setNextBlockTimestamp(t0 + UNBONDING_DELAY - 1n);
      const early = registry.connect(operator).requestUnstake(AGENT_ID, 100n * AITBC);
      await expect(early)
        .to.emit(registry, "UnstakeRequested")
        .withArgs(AGENT_ID, 100n * AITBC, 1_100n * AITBC, t0 + 2n * UNBONDING_DELAY - 1n);
      await expect(early).to.not.emit(registry, "Withdrawn");
      await time.setNextBlockTimestamp(t0 + 2n * UNBONDING_DELAY - 1n);
      await expect(registry.connect(operator).requestUnstake(AGENT_ID, 100n * AITBC))
        .to.emit(registry, "Withdrawn")
        .withArgs(AGENT_ID, operator.address, 1_100n * AITBC);
      expect((await registry.getAgent(AGENT_ID)).pendingWithdrawal).to.equal(100n * AITBC);
    });

    it("pays matured pending stake on a full exit too, and the rest waits its own delay", async function () {
      const { registry, token, operator } = await staked();
      await registry.connect(operator).requestUnstake(AGENT_ID, 1_000n * AITBC);
      await time.increase(UNBONDING_DELAY);
      const rest = STAKE - 1_000n * AITBC;
      await expect(registry.connect(operator).requestUnstake(AGENT_ID, rest)).to.changeTokenBalance(
        ethers,
        token,
        operator,
        1_000n * AITBC,
      );
      const a = await registry.getAgent(AGENT_ID);
      expect(a.status).to.equal(STATUS.exiting);
      expect(a.stake).to.equal(0n);
      expect(a.pendingWithdrawal).to.equal(rest);
      await expect(registry.connect(operator).withdraw(AGENT_ID))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStillUnbonding")
        .withArgs(AGENT_ID, a.withdrawableAt);
    });

    it("pays a matured, partly slashed pending amount: only what is left of it", async function () {
      const { registry, token, agent, operator, slasher } = await staked();
      await registry.connect(agent).requestUnstake(AGENT_ID, STAKE - REQUIRED); // pending 3,000, stake 2,000
      await registry.connect(slasher).slash(AGENT_ID, 2_500n * AITBC, "fraud"); // 2,000 from stake, 500 pending
      await time.increase(UNBONDING_DELAY);
      await registry.connect(agent).stake(REQUIRED + AITBC);
      await expect(registry.connect(agent).requestUnstake(AGENT_ID, AITBC)).to.changeTokenBalance(
        ethers,
        token,
        operator,
        2_500n * AITBC,
      );
      expect((await registry.getAgent(AGENT_ID)).pendingWithdrawal).to.equal(AITBC);
      expect(await token.balanceOf(await registry.getAddress())).to.equal(
        (await registry.totalStaked()) + (await registry.totalPending()),
      );
    });

    it("makes a full unstake an exit: status Exiting, not active, stake zero", async function () {
      const { registry, agent } = await staked();
      await registry.connect(agent).requestUnstake(AGENT_ID, STAKE);
      expect(await registry.statusOf(AGENT_ID)).to.equal(STATUS.exiting);
      expect(await registry.isActive(AGENT_ID)).to.be.false;
      expect(await registry.stakeOf(AGENT_ID)).to.equal(0n);
      expect(await registry.totalStaked()).to.equal(0n);
      expect(await registry.totalPending()).to.equal(STAKE);
    });

    it("lets a frozen agent exit with a full unstake; Exiting then wins over Frozen", async function () {
      const { registry, humanOverride, guardian, agent, operator } = await staked();
      await humanOverride.connect(guardian).freeze(agent.address, "compromised key");
      expect(await registry.statusOf(AGENT_ID)).to.equal(STATUS.frozen);
      await expect(registry.connect(operator).requestUnstake(AGENT_ID, STAKE)).to.emit(registry, "UnstakeRequested");
      expect(await registry.statusOf(AGENT_ID)).to.equal(STATUS.exiting);
      expect(await humanOverride.isFrozen(agent.address)).to.be.true;
    });

    it("reverts AgentRegistryFrozenPartialExit for a partial unstake of a frozen agent", async function () {
      const { registry, humanOverride, guardian, agent } = await staked();
      await humanOverride.connect(guardian).freeze(agent.address, "compromised key");
      await expect(registry.connect(agent).requestUnstake(AGENT_ID, AITBC))
        .to.be.revertedWithCustomError(registry, "AgentRegistryFrozenPartialExit")
        .withArgs(AGENT_ID, AITBC, STAKE);
    });

    it("reverts AgentRegistryNotAgentOrOperator for anyone else", async function () {
      const { registry, outsider, agent2 } = await staked();
      for (const caller of [outsider, agent2]) {
        await expect(registry.connect(caller).requestUnstake(AGENT_ID, AITBC))
          .to.be.revertedWithCustomError(registry, "AgentRegistryNotAgentOrOperator")
          .withArgs(AGENT_ID, caller.address);
      }
    });

    shouldRevertForUnknownId({
      fn: "requestUnstake",
      error: "AgentRegistryUnknownAgent",
      ids: [0n, UNKNOWN_ID],
      setup: staked,
      contract: (f) => f.registry,
      call: (f, agentId) => f.registry.connect(f.agent).requestUnstake(agentId, AITBC),
    });

    it("reverts AgentRegistryZeroAmount for zero", async function () {
      const { registry, agent } = await staked();
      await expect(registry.connect(agent).requestUnstake(AGENT_ID, 0n)).to.be.revertedWithCustomError(
        registry,
        "AgentRegistryZeroAmount",
      );
    });

    it("reverts AgentRegistryInsufficientStake above the stake", async function () {
      const { registry, agent } = await staked();
      await expect(registry.connect(agent).requestUnstake(AGENT_ID, STAKE + 1n))
        .to.be.revertedWithCustomError(registry, "AgentRegistryInsufficientStake")
        .withArgs(AGENT_ID, STAKE + 1n, STAKE);
    });

    it("reverts AgentRegistryStakeBelowRequired for a partial unstake that leaves less than the required stake", async function () {
      const { registry, agent } = await staked();
      const amount = STAKE - REQUIRED + 1n;
      await expect(registry.connect(agent).requestUnstake(AGENT_ID, amount))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStakeBelowRequired")
        .withArgs(AGENT_ID, REQUIRED - 1n, REQUIRED);
    });

    it("reverts AgentRegistryNotActive (Exiting) once the agent is exiting", async function () {
      const { registry, agent, operator } = await staked();
      await registry.connect(agent).requestUnstake(AGENT_ID, STAKE);
      await expect(registry.connect(operator).requestUnstake(AGENT_ID, AITBC))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotActive")
        .withArgs(AGENT_ID, STATUS.exiting);
    });

    shouldBeRefusedWhileStopped({
      fn: "requestUnstake",
      setup: staked,
      call: (f) => f.registry.connect(f.agent).requestUnstake(AGENT_ID, STAKE),
    });
  });

  describe("withdraw", function () {
    const STAKE = 5_000n * AITBC;

    async function exited() {
      const f = await load();
      await f.registry.connect(f.agent).stake(STAKE);
      const t = await atNextBlock();
      await f.registry.connect(f.agent).requestUnstake(AGENT_ID, STAKE);
      return { ...f, withdrawableAt: t + UNBONDING_DELAY };
    }

    it("pays the pending amount to the OPERATOR once the delay has passed, and emits Withdrawn", async function () {
      const { registry, token, agent, operator, withdrawableAt } = await exited();
      await time.increaseTo(withdrawableAt);
      const tx = registry.connect(operator).withdraw(AGENT_ID);
      await expect(tx).to.emit(registry, "Withdrawn").withArgs(AGENT_ID, operator.address, STAKE);
      await expect(tx).to.changeTokenBalances(ethers, token, [operator, agent, registry], [STAKE, 0n, -STAKE]);
      expect((await registry.getAgent(AGENT_ID)).pendingWithdrawal).to.equal(0n);
      expect(await registry.totalPending()).to.equal(0n);
      expect(await registry.totalStaked()).to.equal(0n);
    });

    it("pays the operator even when the agent calls it", async function () {
      const { registry, token, agent, operator, withdrawableAt } = await exited();
      await time.increaseTo(withdrawableAt);
      await expect(registry.connect(agent).withdraw(AGENT_ID)).to.changeTokenBalances(
        ethers,
        token,
        [operator, agent],
        [STAKE, 0n],
      );
    });

    it("withdraws a partial unstake while the agent stays active", async function () {
      const { registry, token, agent, operator } = await load();
      await registry.connect(agent).stake(STAKE);
      await registry.connect(agent).requestUnstake(AGENT_ID, 1_000n * AITBC);
      await time.increase(UNBONDING_DELAY);
      await expect(registry.connect(agent).withdraw(AGENT_ID)).to.changeTokenBalance(
        ethers,
        token,
        operator,
        1_000n * AITBC,
      );
      expect(await registry.statusOf(AGENT_ID)).to.equal(STATUS.active);
      expect(await registry.stakeOf(AGENT_ID)).to.equal(4_000n * AITBC);
    });

    it("works for a frozen agent that exited", async function () {
      const { registry, token, humanOverride, guardian, agent, operator } = await load();
      await registry.connect(agent).stake(STAKE);
      await humanOverride.connect(guardian).freeze(agent.address, "compromised key");
      await registry.connect(operator).requestUnstake(AGENT_ID, STAKE);
      await time.increase(UNBONDING_DELAY);
      const tx = registry.connect(operator).withdraw(AGENT_ID);
      await expect(tx).to.emit(registry, "Withdrawn").withArgs(AGENT_ID, operator.address, STAKE);
      await expect(tx).to.changeTokenBalance(ethers, token, operator, STAKE);
      expect(await humanOverride.isFrozen(agent.address)).to.be.true;
    });

    it("reverts AgentRegistryStillUnbonding one second before withdrawableAt", async function () {
      const { registry, operator, withdrawableAt } = await exited();
      await time.setNextBlockTimestamp(withdrawableAt - 1n);
      await expect(registry.connect(operator).withdraw(AGENT_ID))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStillUnbonding")
        .withArgs(AGENT_ID, withdrawableAt);
    });

    shouldRevertForUnknownId({
      fn: "withdraw",
      error: "AgentRegistryUnknownAgent",
      ids: [0n, UNKNOWN_ID],
      setup: exited,
      contract: (f) => f.registry,
      call: (f, agentId) => f.registry.connect(f.operator).withdraw(agentId),
    });

    it("reverts AgentRegistryNothingToWithdraw after the pending amount was withdrawn", async function () {
      const { registry, operator, withdrawableAt } = await exited();
      await time.increaseTo(withdrawableAt);
      await registry.connect(operator).withdraw(AGENT_ID);
      await expect(registry.connect(operator).withdraw(AGENT_ID))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNothingToWithdraw")
        .withArgs(AGENT_ID);
    });

    it("reverts AgentRegistryNothingToWithdraw for an agent that never unstaked", async function () {
      const { registry, agent } = await load();
      await expect(registry.connect(agent).withdraw(AGENT_ID))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNothingToWithdraw")
        .withArgs(AGENT_ID);
    });

    it("reverts AgentRegistryNotAgentOrOperator for anyone else", async function () {
      const { registry, outsider, withdrawableAt } = await exited();
      await time.increaseTo(withdrawableAt);
      await expect(registry.connect(outsider).withdraw(AGENT_ID))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotAgentOrOperator")
        .withArgs(AGENT_ID, outsider.address);
    });

    shouldBeRefusedWhileStopped({
      fn: "withdraw",
      setup: async () => {
        const f = await exited();
        await time.increaseTo(f.withdrawableAt);
        return f;
      },
      call: (f) => f.registry.connect(f.operator).withdraw(AGENT_ID),
    });
  });

  describe("slash", function () {
    const STAKE = 4_000n * AITBC;

    async function staked() {
      const f = await load();
      await f.registry.connect(f.agent).stake(STAKE);
      return f;
    }

    it("sends the amount to the treasury and emits Slashed with the reason", async function () {
      const { registry, token, slasher, treasury } = await staked();
      const amount = 600n * AITBC;
      const tx = registry.connect(slasher).slash(AGENT_ID, amount, "missed deadline");
      await expect(tx)
        .to.emit(registry, "Slashed")
        .withArgs(AGENT_ID, slasher.address, amount, 0n, treasury.address, "missed deadline");
      await expect(tx).to.changeTokenBalances(ethers, token, [treasury, registry], [amount, -amount]);
      expect(await registry.stakeOf(AGENT_ID)).to.equal(STAKE - amount);
      expect(await registry.totalStaked()).to.equal(STAKE - amount);
    });

    it("accepts exactly 50% of stake plus pending and reverts AgentRegistrySlashTooLarge at 50% + 1 wei", async function () {
      const { registry, slasher } = await staked();
      const max = STAKE / 2n;
      await expect(registry.connect(slasher).slash(AGENT_ID, max + 1n, "too much"))
        .to.be.revertedWithCustomError(registry, "AgentRegistrySlashTooLarge")
        .withArgs(AGENT_ID, max + 1n, max);
      await expect(registry.connect(slasher).slash(AGENT_ID, max, "half")).to.emit(registry, "Slashed");
      expect(await registry.stakeOf(AGENT_ID)).to.equal(STAKE - max);
    });

    it("counts pending withdrawals in the 50% cap, takes active stake first, then pending", async function () {
      const { registry, token, agent, slasher, treasury } = await load();
      await registry.connect(agent).stake(8_000n * AITBC);
      await registry.connect(agent).requestUnstake(AGENT_ID, 6_000n * AITBC); // stake 2,000, pending 6,000
      const max = 4_000n * AITBC;
      await expect(registry.connect(slasher).slash(AGENT_ID, max + 1n, "x"))
        .to.be.revertedWithCustomError(registry, "AgentRegistrySlashTooLarge")
        .withArgs(AGENT_ID, max + 1n, max);
      const tx = registry.connect(slasher).slash(AGENT_ID, 3_000n * AITBC, "fraud");
      await expect(tx)
        .to.emit(registry, "Slashed")
        .withArgs(AGENT_ID, slasher.address, 2_000n * AITBC, 1_000n * AITBC, treasury.address, "fraud");
      await expect(tx).to.changeTokenBalance(ethers, token, treasury, 3_000n * AITBC);
      const a = await registry.getAgent(AGENT_ID);
      expect(a.stake).to.equal(0n);
      expect(a.pendingWithdrawal).to.equal(5_000n * AITBC);
      expect(await registry.totalStaked()).to.equal(0n);
      expect(await registry.totalPending()).to.equal(5_000n * AITBC);
      expect(await registry.isActive(AGENT_ID)).to.be.false;
      expect(await token.balanceOf(await registry.getAddress())).to.equal(5_000n * AITBC);
    });

    it("sends slashed funds to the treasury set at the time of the slash", async function () {
      const { registry, token, deployer, slasher, outsider } = await staked();
      await registry.connect(deployer).setTreasury(outsider.address);
      await expect(registry.connect(slasher).slash(AGENT_ID, AITBC, "r")).to.changeTokenBalance(
        ethers,
        token,
        outsider,
        AITBC,
      );
    });

    it("slashes a frozen agent", async function () {
      const { registry, humanOverride, guardian, agent, slasher } = await staked();
      await humanOverride.connect(guardian).freeze(agent.address, "under investigation");
      await expect(registry.connect(slasher).slash(AGENT_ID, AITBC, "r")).to.emit(registry, "Slashed");
    });

    it("reverts AccessControlUnauthorizedAccount without SLASHER_ROLE", async function () {
      const { registry, outsider, deployer, operator } = await staked();
      const role = await registry.SLASHER_ROLE();
      for (const caller of [outsider, deployer, operator]) {
        await expect(registry.connect(caller).slash(AGENT_ID, AITBC, "r"))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
      }
    });

    it("reverts AgentRegistryZeroAmount for zero", async function () {
      const { registry, slasher } = await staked();
      await expect(registry.connect(slasher).slash(AGENT_ID, 0n, "r")).to.be.revertedWithCustomError(
        registry,
        "AgentRegistryZeroAmount",
      );
    });

    shouldRevertForUnknownId({
      fn: "slash",
      error: "AgentRegistryUnknownAgent",
      ids: [0n, UNKNOWN_ID],
      setup: staked,
      contract: (f) => f.registry,
      call: (f, agentId) => f.registry.connect(f.slasher).slash(agentId, AITBC, "r"),
    });

    shouldBeRefusedWhileStopped({
      fn: "slash",
      setup: staked,
      call: (f) => f.registry.connect(f.slasher).slash(AGENT_ID, AITBC, "r"),
    });
  });

  describe("updateReputation", function () {
    it("moves the score up and down and emits ReputationUpdated with old and new scores", async function () {
      const { registry, reputer } = await load();
      await expect(registry.connect(reputer).updateReputation(AGENT_ID, 120n, "good job"))
        .to.emit(registry, "ReputationUpdated")
        .withArgs(AGENT_ID, reputer.address, 500n, 620n, "good job");
      await expect(registry.connect(reputer).updateReputation(AGENT_ID, -300n, "late"))
        .to.emit(registry, "ReputationUpdated")
        .withArgs(AGENT_ID, reputer.address, 620n, 320n, "late");
      expect(await registry.reputationOf(AGENT_ID)).to.equal(320n);
    });

    it("clamps at 1000", async function () {
      const { registry, reputer } = await load();
      await expect(registry.connect(reputer).updateReputation(AGENT_ID, 501n, "r"))
        .to.emit(registry, "ReputationUpdated")
        .withArgs(AGENT_ID, reputer.address, 500n, 1_000n, "r");
      await registry.connect(reputer).updateReputation(AGENT_ID, 1n, "r");
      expect(await registry.reputationOf(AGENT_ID)).to.equal(1_000n);
    });

    it("clamps at 0", async function () {
      const { registry, reputer } = await load();
      await expect(registry.connect(reputer).updateReputation(AGENT_ID, -501n, "r"))
        .to.emit(registry, "ReputationUpdated")
        .withArgs(AGENT_ID, reputer.address, 500n, 0n, "r");
      await registry.connect(reputer).updateReputation(AGENT_ID, -1n, "r");
      expect(await registry.reputationOf(AGENT_ID)).to.equal(0n);
    });

    it("clamps the most negative int256 delta at 0", async function () {
      const { registry, reputer } = await load();
      await registry.connect(reputer).updateReputation(AGENT_ID, MinInt256, "r");
      expect(await registry.reputationOf(AGENT_ID)).to.equal(0n);
    });

    it("clamps the largest int256 delta at 1000 instead of overflowing", async function () {
      const { registry, reputer } = await load();
      await expect(registry.connect(reputer).updateReputation(AGENT_ID, MaxInt256, "r"))
        .to.emit(registry, "ReputationUpdated")
        .withArgs(AGENT_ID, reputer.address, 500n, 1_000n, "r");
    });

    it("reverts AccessControlUnauthorizedAccount without REPUTATION_ROLE", async function () {
      const { registry, slasher, outsider } = await load();
      const role = await registry.REPUTATION_ROLE();
      for (const caller of [slasher, outsider]) {
        await expect(registry.connect(caller).updateReputation(AGENT_ID, 1n, "r"))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
      }
    });

    shouldRevertForUnknownId({
      fn: "updateReputation",
      error: "AgentRegistryUnknownAgent",
      ids: [0n, UNKNOWN_ID],
      setup: load,
      contract: (f) => f.registry,
      call: (f, agentId) => f.registry.connect(f.reputer).updateReputation(agentId, 1n, "r"),
    });

    shouldBeRefusedWhileStopped({
      fn: "updateReputation",
      setup: load,
      call: (f) => f.registry.connect(f.reputer).updateReputation(AGENT_ID, 1n, "r"),
    });
  });

  describe("setMinStake", function () {
    it("sets the minimum stake, emits MinStakeSet, and moves every agent's required stake", async function () {
      const { registry, deployer, agent } = await load();
      await registry.connect(agent).stake(REQUIRED);
      expect(await registry.isActive(AGENT_ID)).to.be.true;
      await expect(registry.connect(deployer).setMinStake(MIN_STAKE + 1n))
        .to.emit(registry, "MinStakeSet")
        .withArgs(MIN_STAKE + 1n);
      expect(await registry.minStake()).to.equal(MIN_STAKE + 1n);
      expect(await registry.requiredStake(AGENT_ID)).to.equal(REQUIRED + 1n);
      expect(await registry.isActive(AGENT_ID)).to.be.false;
      await registry.connect(deployer).setMinStake(0n);
      expect(await registry.requiredStake(AGENT_ID)).to.equal(VOLUME / 10n);
    });

    it("reverts AccessControlUnauthorizedAccount for a non-admin", async function () {
      const { registry, outsider } = await load();
      await expect(registry.connect(outsider).setMinStake(1n))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ZeroHash);
    });
  });

  describe("setBondBps", function () {
    it("sets the bond, emits BondBpsSet, and accepts 10,000 bps", async function () {
      const { registry, deployer } = await load();
      await expect(registry.connect(deployer).setBondBps(10_000n)).to.emit(registry, "BondBpsSet").withArgs(10_000n);
      expect(await registry.bondBps()).to.equal(10_000n);
      expect(await registry.requiredStake(AGENT_ID)).to.equal(MIN_STAKE + VOLUME);
    });

    it("reverts AgentRegistryInvalidParameter above 10,000 bps", async function () {
      const { registry, deployer } = await load();
      await expect(registry.connect(deployer).setBondBps(10_001n))
        .to.be.revertedWithCustomError(registry, "AgentRegistryInvalidParameter")
        .withArgs("bondBps", 10_001n);
    });

    it("reverts AccessControlUnauthorizedAccount for a non-admin", async function () {
      const { registry, outsider } = await load();
      await expect(registry.connect(outsider).setBondBps(1n))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ZeroHash);
    });
  });

  describe("setUnbondingDelay", function () {
    it("sets the delay, emits UnbondingDelaySet, and applies it to later requests", async function () {
      const { registry, deployer, agent } = await load();
      await expect(registry.connect(deployer).setUnbondingDelay(90n * DAY))
        .to.emit(registry, "UnbondingDelaySet")
        .withArgs(90n * DAY);
      expect(await registry.unbondingDelay()).to.equal(90n * DAY);
      await registry.connect(agent).stake(REQUIRED);
      const t = await atNextBlock();
      await registry.connect(agent).requestUnstake(AGENT_ID, REQUIRED);
      expect((await registry.getAgent(AGENT_ID)).withdrawableAt).to.equal(t + 90n * DAY);
    });

    it("accepts the shortest delay, MIN_UNBONDING_DELAY (1 hour)", async function () {
      const { registry, deployer, agent, operator, token } = await load();
      expect(await registry.MIN_UNBONDING_DELAY()).to.equal(MIN_UNBONDING_DELAY);
      await registry.connect(deployer).setUnbondingDelay(90n * DAY);
      await expect(registry.connect(deployer).setUnbondingDelay(MIN_UNBONDING_DELAY))
        .to.emit(registry, "UnbondingDelaySet")
        .withArgs(MIN_UNBONDING_DELAY);
      await registry.connect(agent).stake(REQUIRED);
      const t = await atNextBlock();
      await registry.connect(agent).requestUnstake(AGENT_ID, REQUIRED);
      await time.setNextBlockTimestamp(t + MIN_UNBONDING_DELAY - 1n);
      await expect(registry.connect(agent).withdraw(AGENT_ID))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStillUnbonding")
        .withArgs(AGENT_ID, t + MIN_UNBONDING_DELAY);
      await time.setNextBlockTimestamp(t + MIN_UNBONDING_DELAY);
      await expect(registry.connect(agent).withdraw(AGENT_ID)).to.changeTokenBalance(ethers, token, operator, REQUIRED);
    });

    it("reverts AgentRegistryInvalidParameter below 1 hour: zero would let stake leave before any slasher can act", async function () {
      const { registry, deployer } = await load();
      for (const delay of [0n, 1n, MIN_UNBONDING_DELAY - 1n]) {
        await expect(registry.connect(deployer).setUnbondingDelay(delay))
          .to.be.revertedWithCustomError(registry, "AgentRegistryInvalidParameter")
          .withArgs("unbondingDelay", delay);
      }
      expect(await registry.unbondingDelay()).to.equal(UNBONDING_DELAY);
    });

    it("reverts AgentRegistryInvalidParameter above 90 days", async function () {
      const { registry, deployer } = await load();
      await expect(registry.connect(deployer).setUnbondingDelay(90n * DAY + 1n))
        .to.be.revertedWithCustomError(registry, "AgentRegistryInvalidParameter")
        .withArgs("unbondingDelay", 90n * DAY + 1n);
    });

    it("reverts AccessControlUnauthorizedAccount for a non-admin", async function () {
      const { registry, outsider } = await load();
      await expect(registry.connect(outsider).setUnbondingDelay(1n))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ZeroHash);
    });
  });

  describe("sweepExcess", function () {
    it("sends tokens sent directly to the registry to the treasury, restoring balance = staked + pending", async function () {
      const { registry, token, agent, agent2, treasury, outsider } = await load();
      await registry.connect(agent).stake(REQUIRED + 100n);
      await registry.connect(agent).requestUnstake(AGENT_ID, 100n);
      await token.connect(agent2).transfer(await registry.getAddress(), 7n * AITBC); // a stray transfer
      const before = await token.balanceOf(treasury.address);
      await expect(registry.connect(outsider).sweepExcess())
        .to.emit(registry, "ExcessSwept")
        .withArgs(treasury.address, 7n * AITBC);
      expect((await token.balanceOf(treasury.address)) - before).to.equal(7n * AITBC);
      expect(await token.balanceOf(await registry.getAddress())).to.equal(
        (await registry.totalStaked()) + (await registry.totalPending()),
      );
    });

    it("reverts AgentRegistryZeroAmount when there is no excess (stake is never swept)", async function () {
      const { registry, agent } = await load();
      await registry.connect(agent).stake(REQUIRED);
      await expect(registry.sweepExcess()).to.be.revertedWithCustomError(registry, "AgentRegistryZeroAmount");
    });

    shouldBeRefusedWhileStopped({
      fn: "sweepExcess",
      setup: async () => {
        const f = await load();
        await f.token.connect(f.agent2).transfer(await f.registry.getAddress(), AITBC);
        return f;
      },
      call: (f) => f.registry.sweepExcess(),
    });
  });

  describe("setTreasury", function () {
    it("sets the treasury and emits TreasurySet", async function () {
      const { registry, deployer, outsider } = await load();
      await expect(registry.connect(deployer).setTreasury(outsider.address))
        .to.emit(registry, "TreasurySet")
        .withArgs(outsider.address);
      expect(await registry.treasury()).to.equal(outsider.address);
    });

    it("reverts AgentRegistryZeroAddress for the zero address", async function () {
      const { registry, deployer } = await load();
      await expect(registry.connect(deployer).setTreasury(ZeroAddress)).to.be.revertedWithCustomError(
        registry,
        "AgentRegistryZeroAddress",
      );
    });

    it("reverts AgentRegistryInvalidParameter for the registry itself (slashed stake would never leave)", async function () {
      const { registry, deployer } = await load();
      const self = await registry.getAddress();
      await expect(registry.connect(deployer).setTreasury(self))
        .to.be.revertedWithCustomError(registry, "AgentRegistryInvalidParameter")
        .withArgs("treasury", BigInt(self));
    });

    it("reverts AccessControlUnauthorizedAccount for a non-admin", async function () {
      const { registry, outsider } = await load();
      await expect(registry.connect(outsider).setTreasury(outsider.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ZeroHash);
    });
  });

  describe("views", function () {
    it("getAgentId returns the id of a registered address and reverts AgentRegistryNotRegistered otherwise", async function () {
      const { registry, agent, outsider } = await load();
      expect(await registry.getAgentId(agent.address)).to.equal(AGENT_ID);
      await expect(registry.getAgentId(outsider.address))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotRegistered")
        .withArgs(outsider.address);
    });

    it("getCapabilities, getVersion, agentAddress, stakeOf, requiredStake and reputationOf read the agent", async function () {
      const { registry, agent } = await load();
      await registry.connect(agent).stake(123n);
      const reg = registration(agent.address);
      expect([...(await registry.getCapabilities(AGENT_ID))]).to.deep.equal(reg.capabilities);
      expect(await registry.getVersion(AGENT_ID)).to.equal(reg.version);
      expect(await registry.agentAddress(AGENT_ID)).to.equal(agent.address);
      expect(await registry.stakeOf(AGENT_ID)).to.equal(123n);
      expect(await registry.requiredStake(AGENT_ID)).to.equal(REQUIRED);
      expect(await registry.reputationOf(AGENT_ID)).to.equal(500n);
    });

    const views = [
      "getCapabilities",
      "getVersion",
      "getAgent",
      "summaryOf",
      "agentAddress",
      "statusOf",
      "stakeOf",
      "requiredStake",
      "bondedVolume",
      "reputationOf",
      "openObligations",
      "encryptionKeyOf",
    ] as const;

    it("every function that takes an agent id reverts AgentRegistryUnknownAgent for unknown ids (isActive: false)", async function () {
      const { registry } = await load();
      // requestUnstake, withdraw, slash, updateReputation and setEncryptionKey apply the behaviour in their own
      // describe blocks; openObligation and closeObligation below, called by a holder of OBLIGATION_ROLE.
      const covered = [
        "rotateKey",
        "setEncryptionKey",
        "requestUnstake",
        "withdraw",
        "slash",
        "updateReputation",
        "openObligation",
        "closeObligation",
        ...views,
      ];
      const takesId: string[] = [];
      registry.interface.forEachFunction((fn) => {
        if (fn.inputs.some((input) => input.name === "agentId") && fn.name !== "isActive") takesId.push(fn.name);
      });
      expect(takesId.sort()).to.deep.equal(covered.sort());
    });

    /** The core, with the deployer holding OBLIGATION_ROLE (the marketplace and Workflows hold it after a deploy). */
    const withObligationRole = async () => {
      const f = await load();
      await (await f.registry.grantRole(await f.registry.OBLIGATION_ROLE(), f.deployer.address)).wait();
      return f;
    };
    for (const fn of ["openObligation", "closeObligation"] as const) {
      shouldRevertForUnknownId({
        fn,
        error: "AgentRegistryUnknownAgent",
        ids: [0n, UNKNOWN_ID],
        setup: withObligationRole,
        contract: (f) => f.registry,
        call: (f, agentId) => f.registry.connect(f.deployer)[fn](agentId),
      });
    }

    shouldRevertForUnknownId({
      fn: "rotateKey",
      error: "AgentRegistryUnknownAgent",
      ids: [0n, UNKNOWN_ID],
      setup: load,
      contract: (f) => f.registry,
      call: (f, agentId) => f.registry.connect(f.operator).rotateKey(agentId, f.agent2.address),
    });

    for (const view of views) {
      shouldRevertForUnknownId({
        fn: view,
        error: "AgentRegistryUnknownAgent",
        ids: [0n, UNKNOWN_ID],
        setup: load,
        contract: (f) => f.registry,
        call: (f, agentId) => f.registry[view](agentId),
      });
    }

    it("statusOf and getAgent read Frozen from the HumanOverride, and Active again after unfreeze", async function () {
      const { registry, humanOverride, guardian, agent } = await load();
      expect(await registry.statusOf(AGENT_ID)).to.equal(STATUS.active);
      await humanOverride.connect(guardian).freeze(agent.address, "r");
      expect(await registry.statusOf(AGENT_ID)).to.equal(STATUS.frozen);
      expect((await registry.getAgent(AGENT_ID)).status).to.equal(STATUS.frozen);
      await humanOverride.connect(guardian).unfreeze(agent.address);
      expect(await registry.statusOf(AGENT_ID)).to.equal(STATUS.active);
    });

    it("isActive is false for unknown ids, unstaked, frozen and exiting agents, true otherwise", async function () {
      const { registry, humanOverride, guardian, agent } = await load();
      expect(await registry.isActive(0n)).to.be.false;
      expect(await registry.isActive(UNKNOWN_ID)).to.be.false;
      expect(await registry.isActive(AGENT_ID)).to.be.false;
      await registry.connect(agent).stake(REQUIRED);
      expect(await registry.isActive(AGENT_ID)).to.be.true;
      await humanOverride.connect(guardian).freeze(agent.address, "r");
      expect(await registry.isActive(AGENT_ID)).to.be.false;
      await humanOverride.connect(guardian).unfreeze(agent.address);
      await registry.connect(agent).requestUnstake(AGENT_ID, REQUIRED);
      expect(await registry.isActive(AGENT_ID)).to.be.false;
    });

    it("agentCount, totalStaked and totalPending track every agent", async function () {
      const { registry, agent, agent2, operator } = await load();
      expect(await registry.agentCount()).to.equal(1n);
      await registry.connect(agent2).register(registration(operator.address));
      expect(await registry.agentCount()).to.equal(2n);
      await registry.connect(agent).stake(3_000n * AITBC);
      await registry.connect(agent2).stake(2_000n * AITBC);
      await registry.connect(agent).requestUnstake(AGENT_ID, 500n * AITBC);
      await registry.connect(agent2).requestUnstake(2n, 2_000n * AITBC);
      expect(await registry.totalStaked()).to.equal(2_500n * AITBC);
      expect(await registry.totalPending()).to.equal(2_500n * AITBC);
    });

    it("exposes the staking token, the HumanOverride and the constitution", async function () {
      const { registry, token, humanOverride, constitution } = await load();
      expect(await registry.token()).to.equal(await token.getAddress());
      expect(await registry.humanOverride()).to.equal(await humanOverride.getAddress());
      expect(await registry.constitution()).to.equal(await constitution.getAddress());
    });
  });

  describe("emergency stop", function () {
    it("keeps the admin's parameter and role functions open while stopped (the recovery path)", async function () {
      const { registry, deployer, outsider, slasher } = await stopped();
      await expect(registry.connect(deployer).setMinStake(1n)).to.emit(registry, "MinStakeSet");
      await expect(registry.connect(deployer).setBondBps(1n)).to.emit(registry, "BondBpsSet");
      await expect(registry.connect(deployer).setUnbondingDelay(2n * MIN_UNBONDING_DELAY)).to.emit(
        registry,
        "UnbondingDelaySet",
      );
      await expect(registry.connect(deployer).setTreasury(outsider.address)).to.emit(registry, "TreasurySet");
      await registry.connect(deployer).revokeRole(await registry.SLASHER_ROLE(), slasher.address);
      expect(await registry.hasRole(await registry.SLASHER_ROLE(), slasher.address)).to.be.false;
    });

    it("stops every agent and module action, and everything works again after resume", async function () {
      const { registry, humanOverride, guardian, agent, agent2, operator, slasher, reputer } = await load();
      await registry.connect(agent).stake(REQUIRED + AITBC);
      await humanOverride.connect(guardian).emergencyStop("exploit");
      const stopError = "HumanOverrideEmergencyStopped";
      await expect(registry.connect(agent2).register(registration(operator.address))).to.be.revertedWithCustomError(
        humanOverride,
        stopError,
      );
      await expect(registry.connect(agent).updateProfile("u", "e", "v", [])).to.be.revertedWithCustomError(
        humanOverride,
        stopError,
      );
      await expect(registry.connect(agent).stake(1n)).to.be.revertedWithCustomError(humanOverride, stopError);
      await expect(registry.connect(agent).declareDailyVolume(VOLUME)).to.be.revertedWithCustomError(
        humanOverride,
        stopError,
      );
      await expect(registry.connect(agent).requestUnstake(AGENT_ID, AITBC)).to.be.revertedWithCustomError(
        humanOverride,
        stopError,
      );
      await expect(registry.connect(agent).withdraw(AGENT_ID)).to.be.revertedWithCustomError(humanOverride, stopError);
      await expect(registry.connect(slasher).slash(AGENT_ID, 1n, "r")).to.be.revertedWithCustomError(
        humanOverride,
        stopError,
      );
      await expect(registry.connect(reputer).updateReputation(AGENT_ID, 1n, "r")).to.be.revertedWithCustomError(
        humanOverride,
        stopError,
      );

      await humanOverride.connect(guardian).resume();
      await registry.connect(agent2).register(registration(operator.address));
      await registry.connect(agent).updateProfile("u", "e", "v", []);
      await registry.connect(agent).stake(1n);
      await registry.connect(agent).declareDailyVolume(VOLUME);
      await registry.connect(agent).requestUnstake(AGENT_ID, AITBC);
      await registry.connect(slasher).slash(AGENT_ID, 1n, "r");
      await registry.connect(reputer).updateReputation(AGENT_ID, 1n, "r");
      await time.increase(UNBONDING_DELAY);
      await expect(registry.connect(agent).withdraw(AGENT_ID))
        .to.emit(registry, "Withdrawn")
        .withArgs(AGENT_ID, operator.address, anyValue);
    });
  });
});
