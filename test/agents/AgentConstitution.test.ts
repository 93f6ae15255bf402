import { expect } from "chai";
import { MaxUint256, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import {
  ACTION,
  AITBC,
  ALL_ACTIONS,
  bit,
  constraints,
  type Constraints,
  constraintsTuple,
  DAY,
  DECLARED_VOLUME,
  DEFAULT_BOUNDS,
  DEFAULT_CONSTRAINTS,
  enrolledConstraints,
  HOUR,
  mintAitbc,
  nextUtcDay,
  registerAndStake,
  registration,
  requiredStakeFor,
} from "../helpers/agents.js";
import { shouldBeRefusedWhileStopped } from "../helpers/behaviours.js";
import { deployCore } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

/**
 * The core, plus: `agent` registered (so enrolled, operator `operator`) declaring DECLARED_VOLUME a day (so its
 * constraints are exactly the defaults) with the bond for it staked (its stake backs that volume) and `agent2` not
 * registered, each holding 10,000 AITBC, at the start of a UTC day (no usage yet); `enforcer` holds ENFORCER_ROLE and `registrar` REGISTRY_ROLE, to call
 * the constitution directly where a real action cannot give exact figures.
 */
async function constitutionFixture() {
  const core = await deployCore(connection);
  const { constitution, deployer, agent, agent2, operator } = core;
  const signers = await ethers.getSigners();
  const enforcer = signers[9];
  const registrar = signers[10];
  if (!enforcer || !registrar) throw new Error("the test network needs at least 11 accounts");
  await constitution.connect(deployer).grantRole(await constitution.ENFORCER_ROLE(), enforcer.address);
  await constitution.connect(deployer).grantRole(await constitution.REGISTRY_ROLE(), registrar.address);
  await registerAndStake(core, agent, operator, requiredStakeFor(DECLARED_VOLUME), {
    expectedDailyVolume: DECLARED_VOLUME,
  });
  await mintAitbc(core, agent.address, 10_000n);
  await mintAitbc(core, agent2.address, 10_000n);
  // A fresh day: the stake's gas stays in the day before, so tests start with no usage.
  await time.increaseTo(nextUtcDay(await time.latest()));
  return { ...core, enforcer, registrar };
}

const load = () => networkHelpers.loadFixture(constitutionFixture);

async function today(): Promise<bigint> {
  return BigInt(await time.latest()) / DAY;
}

describe("AgentConstitution", function () {
  describe("constructor", function () {
    it("stores bounds and defaults, grants the admin role, and emits BoundsSet and DefaultsSet", async function () {
      const { humanOverride, deployer } = await load();
      const constitution = await ethers.deployContract("AgentConstitution", [
        deployer.address,
        await humanOverride.getAddress(),
        DEFAULT_BOUNDS,
        DEFAULT_CONSTRAINTS,
      ]);
      const deployment = constitution.deploymentTransaction();
      await expect(deployment).to.emit(constitution, "BoundsSet").withArgs(constraintsTuple(DEFAULT_BOUNDS));
      await expect(deployment).to.emit(constitution, "DefaultsSet").withArgs(constraintsTuple(DEFAULT_CONSTRAINTS));
      expect(constraintsTuple(await constitution.bounds())).to.deep.equal(constraintsTuple(DEFAULT_BOUNDS));
      expect(constraintsTuple(await constitution.defaults())).to.deep.equal(constraintsTuple(DEFAULT_CONSTRAINTS));
      expect(await constitution.hasRole(ZeroHash, deployer.address)).to.be.true;
    });

    it("reverts AgentConstitutionZeroAddress for a zero admin or a zero HumanOverride", async function () {
      const { constitution, humanOverride, deployer } = await load();
      const ho = await humanOverride.getAddress();
      for (const [admin, override] of [
        [ZeroAddress, ho],
        [deployer.address, ZeroAddress],
      ]) {
        await expect(
          ethers.deployContract("AgentConstitution", [admin, override, DEFAULT_BOUNDS, DEFAULT_CONSTRAINTS]),
        ).to.be.revertedWithCustomError(constitution, "AgentConstitutionZeroAddress");
      }
    });

    it("reverts AgentConstitutionInvalidActionMask for bounds whose approval actions are not allowed actions", async function () {
      const { constitution, humanOverride, deployer } = await load();
      const bounds = { ...DEFAULT_BOUNDS, allowedActions: 1n, humanApprovalActions: 2n };
      await expect(
        ethers.deployContract("AgentConstitution", [
          deployer.address,
          await humanOverride.getAddress(),
          bounds,
          constraints({ allowedActions: 1n }),
        ]),
      )
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionInvalidActionMask")
        .withArgs(2n);
    });

    it("reverts AgentConstitutionAboveBound for defaults above the bounds", async function () {
      const { constitution, humanOverride, deployer } = await load();
      const defaults = constraints({ maxStake: DEFAULT_BOUNDS.maxStake + 1n });
      await expect(
        ethers.deployContract("AgentConstitution", [
          deployer.address,
          await humanOverride.getAddress(),
          DEFAULT_BOUNDS,
          defaults,
        ]),
      )
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("maxStake", DEFAULT_BOUNDS.maxStake + 1n, DEFAULT_BOUNDS.maxStake);
    });
  });

  describe("enroll", function () {
    it("stores the defaults, the operator and the declared volume, and emits AgentEnrolled", async function () {
      const { constitution, registrar, agent2, operator } = await load();
      await expect(constitution.connect(registrar).enroll(agent2.address, operator.address, DECLARED_VOLUME))
        .to.emit(constitution, "AgentEnrolled")
        .withArgs(agent2.address, operator.address, DECLARED_VOLUME);
      expect(await constitution.isEnrolled(agent2.address)).to.be.true;
      expect(await constitution.operatorOf(agent2.address)).to.equal(operator.address);
      expect(await constitution.declaredVolumeOf(agent2.address)).to.equal(DECLARED_VOLUME);
      expect(constraintsTuple(await constitution.constraintsOf(agent2.address))).to.deep.equal(
        constraintsTuple(DEFAULT_CONSTRAINTS),
      );
    });

    it("caps maxDailyVolume at the declared volume when it is below the default", async function () {
      const { constitution, registrar, agent2, operator } = await load();
      const declared = 1_234n * AITBC;
      await constitution.connect(registrar).enroll(agent2.address, operator.address, declared);
      expect(constraintsTuple(await constitution.constraintsOf(agent2.address))).to.deep.equal(
        constraintsTuple(constraints({ maxDailyVolume: declared })),
      );
      expect(await constitution.declaredVolumeOf(agent2.address)).to.equal(declared);
    });

    it("keeps the default maxDailyVolume when the declared volume is above it", async function () {
      const { constitution, registrar, agent2, operator } = await load();
      await constitution.connect(registrar).enroll(agent2.address, operator.address, DEFAULT_BOUNDS.maxDailyVolume);
      expect((await constitution.constraintsOf(agent2.address)).maxDailyVolume).to.equal(
        DEFAULT_CONSTRAINTS.maxDailyVolume,
      );
      expect(await constitution.declaredVolumeOf(agent2.address)).to.equal(DEFAULT_BOUNDS.maxDailyVolume);
    });

    it("gives an agent declaring no volume a zero daily volume: it can move no value at all", async function () {
      const { constitution, registrar, token, agent2, operator, client } = await load();
      await constitution.connect(registrar).enroll(agent2.address, operator.address, 0n);
      expect((await constitution.constraintsOf(agent2.address)).maxDailyVolume).to.equal(0n);
      await expect(token.connect(agent2).transfer(client.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(agent2.address, 0n, 1n, 0n);
      await token.connect(agent2).transfer(client.address, 0n);
    });

    it("accepts a declared volume exactly at the bound and reverts AgentConstitutionAboveBound one above", async function () {
      const { constitution, registrar, agent2, outsider, operator } = await load();
      const bound = DEFAULT_BOUNDS.maxDailyVolume;
      await expect(constitution.connect(registrar).enroll(agent2.address, operator.address, bound + 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("declaredDailyVolume", bound + 1n, bound);
      await expect(constitution.connect(registrar).enroll(agent2.address, operator.address, MaxUint256))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("declaredDailyVolume", MaxUint256, bound);
      expect(await constitution.isEnrolled(agent2.address)).to.be.false;
      await constitution.connect(registrar).enroll(outsider.address, operator.address, bound);
      expect(await constitution.declaredVolumeOf(outsider.address)).to.equal(bound);
    });

    it("reverts AccessControlUnauthorizedAccount without REGISTRY_ROLE", async function () {
      const { constitution, outsider, enforcer, agent2, operator } = await load();
      const role = await constitution.REGISTRY_ROLE();
      for (const caller of [outsider, enforcer]) {
        await expect(constitution.connect(caller).enroll(agent2.address, operator.address, 0n))
          .to.be.revertedWithCustomError(constitution, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
      }
    });

    it("reverts AgentConstitutionAlreadyEnrolled for an enrolled agent", async function () {
      const { constitution, registrar, agent, outsider } = await load();
      await expect(constitution.connect(registrar).enroll(agent.address, outsider.address, 0n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAlreadyEnrolled")
        .withArgs(agent.address);
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(DECLARED_VOLUME);
    });

    it("reverts AgentConstitutionZeroAddress for a zero agent or a zero operator", async function () {
      const { constitution, registrar, agent2, operator } = await load();
      await expect(
        constitution.connect(registrar).enroll(ZeroAddress, operator.address, 0n),
      ).to.be.revertedWithCustomError(constitution, "AgentConstitutionZeroAddress");
      await expect(
        constitution.connect(registrar).enroll(agent2.address, ZeroAddress, 0n),
      ).to.be.revertedWithCustomError(constitution, "AgentConstitutionZeroAddress");
    });
  });

  describe("setDeclaredVolume", function () {
    it("records the volume, emits DeclaredVolumeSet, and lowers maxDailyVolume when it is above", async function () {
      const { constitution, registrar, agent } = await load();
      const lower = 2_000n * AITBC;
      await expect(constitution.connect(registrar).setDeclaredVolume(agent.address, lower))
        .to.emit(constitution, "DeclaredVolumeSet")
        .withArgs(agent.address, lower);
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(lower);
      expect(constraintsTuple(await constitution.constraintsOf(agent.address))).to.deep.equal(
        constraintsTuple(constraints({ maxDailyVolume: lower })),
      );
    });

    it("never raises maxDailyVolume: a higher declared volume only makes room for the operator", async function () {
      const { constitution, registrar, agent, operator } = await load();
      await constitution.connect(registrar).setDeclaredVolume(agent.address, 2_000n * AITBC);
      await constitution.connect(registrar).setDeclaredVolume(agent.address, 5_000n * AITBC);
      expect((await constitution.constraintsOf(agent.address)).maxDailyVolume).to.equal(2_000n * AITBC);
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(5_000n * AITBC);
      await expect(
        constitution
          .connect(operator)
          .setConstraints(agent.address, constraints({ maxDailyVolume: 5_000n * AITBC + 1n })),
      )
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveDeclaredVolume")
        .withArgs(agent.address, 5_000n * AITBC + 1n, 5_000n * AITBC);
      await constitution
        .connect(operator)
        .setConstraints(agent.address, constraints({ maxDailyVolume: 5_000n * AITBC }));
      expect((await constitution.constraintsOf(agent.address)).maxDailyVolume).to.equal(5_000n * AITBC);
    });

    it("leaves maxDailyVolume alone when the declared volume equals it, and a lowered limit takes effect at once", async function () {
      const { constitution, registrar, token, agent, client } = await load();
      await constitution.connect(registrar).setDeclaredVolume(agent.address, DEFAULT_CONSTRAINTS.maxDailyVolume);
      expect((await constitution.constraintsOf(agent.address)).maxDailyVolume).to.equal(
        DEFAULT_CONSTRAINTS.maxDailyVolume,
      );
      await token.connect(agent).transfer(client.address, 5n * AITBC);
      await constitution.connect(registrar).setDeclaredVolume(agent.address, 6n * AITBC);
      await expect(token.connect(agent).transfer(client.address, 2n * AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(agent.address, 5n * AITBC, 2n * AITBC, 6n * AITBC);
    });

    it("accepts the bound and reverts AgentConstitutionAboveBound above it", async function () {
      const { constitution, registrar, agent } = await load();
      const bound = DEFAULT_BOUNDS.maxDailyVolume;
      await expect(constitution.connect(registrar).setDeclaredVolume(agent.address, bound + 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("declaredDailyVolume", bound + 1n, bound);
      await constitution.connect(registrar).setDeclaredVolume(agent.address, bound);
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(bound);
    });

    it("reverts AgentConstitutionNotEnrolled for an address that is not enrolled", async function () {
      const { constitution, registrar, agent2 } = await load();
      await expect(constitution.connect(registrar).setDeclaredVolume(agent2.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionNotEnrolled")
        .withArgs(agent2.address);
    });

    it("reverts AccessControlUnauthorizedAccount without REGISTRY_ROLE, the agent's operator included", async function () {
      const { constitution, enforcer, operator, agent, deployer } = await load();
      const role = await constitution.REGISTRY_ROLE();
      for (const caller of [enforcer, operator, agent, deployer]) {
        await expect(constitution.connect(caller).setDeclaredVolume(agent.address, 1n))
          .to.be.revertedWithCustomError(constitution, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
      }
    });
  });

  describe("setConstraints", function () {
    const tight = constraints({
      maxStake: 5_000n * AITBC,
      maxDailyVolume: 1_000n * AITBC,
      maxGasPerDay: 1_000_000n,
      allowedActions: bit(ACTION.TRANSFER) | bit(ACTION.STAKE),
      humanApprovalActions: bit(ACTION.STAKE),
    });

    it("replaces the constraints and emits ConstraintsSet with the setter", async function () {
      const { constitution, agent, operator } = await load();
      await expect(constitution.connect(operator).setConstraints(agent.address, tight))
        .to.emit(constitution, "ConstraintsSet")
        .withArgs(agent.address, operator.address, constraintsTuple(tight));
      expect(constraintsTuple(await constitution.constraintsOf(agent.address))).to.deep.equal(constraintsTuple(tight));
      expect(await constitution.requiresHumanApproval(agent.address)).to.be.true;
      expect(await constitution.operatorOf(agent.address)).to.equal(operator.address);
    });

    it("accepts every field exactly at its bound for an agent that declared the bound's volume", async function () {
      const { constitution, registrar, agent2, operator } = await load();
      await constitution.connect(registrar).enroll(agent2.address, operator.address, DEFAULT_BOUNDS.maxDailyVolume);
      await constitution.connect(operator).setConstraints(agent2.address, DEFAULT_BOUNDS);
      expect(constraintsTuple(await constitution.constraintsOf(agent2.address))).to.deep.equal(
        constraintsTuple(DEFAULT_BOUNDS),
      );
    });

    it("accepts maxDailyVolume exactly at the declared volume and reverts AgentConstitutionAboveDeclaredVolume one above", async function () {
      const { constitution, registrar, agent2, operator } = await load();
      const declared = 500n * AITBC;
      await constitution.connect(registrar).enroll(agent2.address, operator.address, declared);
      await expect(
        constitution.connect(operator).setConstraints(agent2.address, constraints({ maxDailyVolume: declared + 1n })),
      )
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveDeclaredVolume")
        .withArgs(agent2.address, declared + 1n, declared);
      await constitution.connect(operator).setConstraints(agent2.address, constraints({ maxDailyVolume: declared }));
      expect((await constitution.constraintsOf(agent2.address)).maxDailyVolume).to.equal(declared);
      await constitution.connect(operator).setConstraints(agent2.address, constraints({ maxDailyVolume: 0n }));
      expect((await constitution.constraintsOf(agent2.address)).maxDailyVolume).to.equal(0n);
    });

    it("reverts AgentConstitutionAboveDeclaredVolume for any volume when the agent declared none", async function () {
      const { constitution, registrar, agent2, operator } = await load();
      await constitution.connect(registrar).enroll(agent2.address, operator.address, 0n);
      await expect(constitution.connect(operator).setConstraints(agent2.address, constraints({ maxDailyVolume: 1n })))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveDeclaredVolume")
        .withArgs(agent2.address, 1n, 0n);
    });

    it("checks the protocol bound before the declared volume", async function () {
      const { constitution, registrar, agent2, operator } = await load();
      await constitution.connect(registrar).enroll(agent2.address, operator.address, 0n);
      const above = DEFAULT_BOUNDS.maxDailyVolume + 1n;
      await expect(
        constitution.connect(operator).setConstraints(agent2.address, constraints({ maxDailyVolume: above })),
      )
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("maxDailyVolume", above, DEFAULT_BOUNDS.maxDailyVolume);
    });

    it("lets an operator ask for more human oversight than the bounds' approval floor", async function () {
      const { constitution, agent, operator } = await load();
      expect((await constitution.bounds()).humanApprovalActions).to.equal(0n);
      await constitution
        .connect(operator)
        .setConstraints(agent.address, constraints({ humanApprovalActions: ALL_ACTIONS }));
      expect((await constitution.constraintsOf(agent.address)).humanApprovalActions).to.equal(ALL_ACTIONS);
    });

    it("reverts AgentConstitutionNotOperator for anyone but the operator, the agent included", async function () {
      const { constitution, agent, operator, outsider, deployer } = await load();
      for (const caller of [agent, outsider, deployer]) {
        await expect(constitution.connect(caller).setConstraints(agent.address, tight))
          .to.be.revertedWithCustomError(constitution, "AgentConstitutionNotOperator")
          .withArgs(agent.address, caller.address, operator.address);
      }
    });

    it("reverts AgentConstitutionNotEnrolled for an address that is not an enrolled agent", async function () {
      const { constitution, agent2, operator } = await load();
      await expect(constitution.connect(operator).setConstraints(agent2.address, tight))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionNotEnrolled")
        .withArgs(agent2.address);
    });

    for (const field of ["maxStake", "maxDailyVolume", "maxGasPerDay"] as const) {
      it(`reverts AgentConstitutionAboveBound when ${field} is one above its bound`, async function () {
        const { constitution, agent, operator } = await load();
        const bound = DEFAULT_BOUNDS[field];
        await expect(constitution.connect(operator).setConstraints(agent.address, constraints({ [field]: bound + 1n })))
          .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
          .withArgs(field, bound + 1n, bound);
      });
    }

    it("reverts AgentConstitutionAboveBound when allowedActions has a type outside the allowed bound", async function () {
      const { constitution, deployer, agent, operator } = await load();
      const three = bit(0) | bit(1) | bit(2);
      await constitution.connect(deployer).setDefaults(constraints({ allowedActions: three }));
      await constitution.connect(deployer).setBounds({ ...DEFAULT_BOUNDS, allowedActions: three });
      const four = three | bit(3);
      await expect(constitution.connect(operator).setConstraints(agent.address, constraints({ allowedActions: four })))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("allowedActions", four, three);
      await constitution.connect(operator).setConstraints(agent.address, constraints({ allowedActions: bit(1) }));
    });

    describe("with an approval floor in the bounds", function () {
      const FLOOR = bit(ACTION.STAKE) | bit(ACTION.UPDATE_PROFILE);

      /** The bounds require human approval for STAKE and UPDATE_PROFILE (the defaults first take the floor in). */
      async function withFloor() {
        const f = await load();
        await f.constitution.connect(f.deployer).setDefaults(constraints({ humanApprovalActions: FLOOR }));
        await f.constitution.connect(f.deployer).setBounds({ ...DEFAULT_BOUNDS, humanApprovalActions: FLOOR });
        return f;
      }

      it("reverts AgentConstitutionBelowApprovalFloor when an allowed floor action lacks approval", async function () {
        const { constitution, agent, operator } = await withFloor();
        for (const approval of [0n, bit(ACTION.STAKE), bit(ACTION.UPDATE_PROFILE) | bit(ACTION.TRANSFER)]) {
          await expect(
            constitution
              .connect(operator)
              .setConstraints(agent.address, constraints({ humanApprovalActions: approval })),
          )
            .to.be.revertedWithCustomError(constitution, "AgentConstitutionBelowApprovalFloor")
            .withArgs(approval, FLOOR);
        }
      });

      it("accepts the floor exactly, and more oversight than the floor", async function () {
        const { constitution, agent, operator } = await withFloor();
        await constitution
          .connect(operator)
          .setConstraints(agent.address, constraints({ humanApprovalActions: FLOOR }));
        expect((await constitution.constraintsOf(agent.address)).humanApprovalActions).to.equal(FLOOR);
        await constitution
          .connect(operator)
          .setConstraints(agent.address, constraints({ humanApprovalActions: ALL_ACTIONS }));
        expect((await constitution.constraintsOf(agent.address)).humanApprovalActions).to.equal(ALL_ACTIONS);
      });

      it("only asks approval for the floor actions the agent is allowed: forbidding one drops it from the floor", async function () {
        const { constitution, agent, operator } = await withFloor();
        const allowed = ALL_ACTIONS & ~bit(ACTION.STAKE);
        await constitution
          .connect(operator)
          .setConstraints(
            agent.address,
            constraints({ allowedActions: allowed, humanApprovalActions: bit(ACTION.UPDATE_PROFILE) }),
          );
        await expect(
          constitution
            .connect(operator)
            .setConstraints(agent.address, constraints({ allowedActions: allowed, humanApprovalActions: 0n })),
        )
          .to.be.revertedWithCustomError(constitution, "AgentConstitutionBelowApprovalFloor")
          .withArgs(0n, bit(ACTION.UPDATE_PROFILE));
        await constitution
          .connect(operator)
          .setConstraints(
            agent.address,
            constraints({ allowedActions: bit(ACTION.TRANSFER), humanApprovalActions: 0n }),
          );
      });

      it("is enforced: a floor action then needs a live human grant", async function () {
        const { constitution, registry, humanOverride, guardian, agent, operator } = await withFloor();
        await constitution
          .connect(operator)
          .setConstraints(agent.address, constraints({ humanApprovalActions: FLOOR }));
        await expect(registry.connect(agent).updateProfile("u", "e", "v", []))
          .to.be.revertedWithCustomError(constitution, "AgentConstitutionHumanApprovalRequired")
          .withArgs(agent.address, ACTION.UPDATE_PROFILE);
        await humanOverride.connect(guardian).grant(agent.address, ACTION.UPDATE_PROFILE, HOUR);
        await registry.connect(agent).updateProfile("u", "e", "v", []);
      });
    });

    it("reverts AgentConstitutionInvalidActionMask when humanApprovalActions is not a subset of allowedActions", async function () {
      const { constitution, agent, operator } = await load();
      const c = constraints({ allowedActions: bit(0), humanApprovalActions: bit(0) | bit(5) });
      await expect(constitution.connect(operator).setConstraints(agent.address, c))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionInvalidActionMask")
        .withArgs(bit(0) | bit(5));
    });

    shouldBeRefusedWhileStopped({
      fn: "setConstraints",
      setup: load,
      call: (f) => f.constitution.connect(f.operator).setConstraints(f.agent.address, tight),
    });
  });

  describe("enforce", function () {
    it("charges an agent's transfer to its day bucket", async function () {
      const { constitution, token, agent, client } = await load();
      await token.connect(agent).transfer(client.address, 7n * AITBC);
      const usage = await constitution.usageOf(agent.address);
      expect(usage.day).to.equal(await today());
      expect(usage.volume).to.equal(7n * AITBC);
      expect(usage.gas).to.be.greaterThan(0n);
    });

    it("reverts AccessControlUnauthorizedAccount when called directly without ENFORCER_ROLE", async function () {
      const { constitution, agent, outsider } = await load();
      const role = await constitution.ENFORCER_ROLE();
      for (const caller of [outsider, agent]) {
        await expect(constitution.connect(caller).enforce(agent.address, ACTION.TRANSFER, 0n, 0n))
          .to.be.revertedWithCustomError(constitution, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, role);
      }
    });

    it("reverts HumanOverrideEmergencyStopped for an enrolled agent while stopped, before any other check", async function () {
      const { constitution, humanOverride, enforcer, guardian, agent, operator } = await load();
      await constitution.connect(operator).setConstraints(agent.address, constraints({ allowedActions: 0n }));
      await humanOverride.connect(guardian).freeze(agent.address, "compromised");
      await humanOverride.connect(guardian).emergencyStop("exploit");
      await expect(
        constitution.connect(enforcer).enforce(agent.address, ACTION.TRANSFER, 0n, 0n),
      ).to.be.revertedWithCustomError(humanOverride, "HumanOverrideEmergencyStopped");
      await humanOverride.connect(guardian).resume();
      await expect(constitution.connect(enforcer).enforce(agent.address, ACTION.TRANSFER, 0n, 0n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAgentFrozen")
        .withArgs(agent.address);
    });

    it("checks the stop itself (defence in depth): a module that forgot the stop is still blocked", async function () {
      const { constitution, humanOverride, enforcer, guardian, agent, agent2 } = await load();
      await humanOverride.connect(guardian).emergencyStop("exploit");
      // `enforcer` stands for a module that does not check the stop before enforcing
      await expect(
        constitution.connect(enforcer).enforce(agent.address, ACTION.TRANSFER, AITBC, 1_000n),
      ).to.be.revertedWithCustomError(humanOverride, "HumanOverrideEmergencyStopped");
      expect((await constitution.usageOf(agent.address)).volume).to.equal(0n);
      // addresses that are not enrolled still pass untouched
      await constitution.connect(enforcer).enforce(agent2.address, ACTION.TRANSFER, AITBC, 1_000n);
      await humanOverride.connect(guardian).resume();
      await constitution.connect(enforcer).enforce(agent.address, ACTION.TRANSFER, AITBC, 1_000n);
      expect((await constitution.usageOf(agent.address)).volume).to.equal(AITBC);
    });

    it("reverts AgentConstitutionAgentFrozen for a frozen agent, before any other check", async function () {
      const { constitution, humanOverride, token, guardian, agent, operator, client } = await load();
      await constitution.connect(operator).setConstraints(agent.address, constraints({ allowedActions: 0n }));
      await humanOverride.connect(guardian).freeze(agent.address, "compromised");
      await expect(token.connect(agent).transfer(client.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAgentFrozen")
        .withArgs(agent.address);
    });

    it("charges a transferFrom by a non-module spender to the owner agent: the value, not the gas", async function () {
      const { constitution, humanOverride, token, guardian, agent, client } = await load();
      await token.connect(agent).approve(client.address, MaxUint256);
      await token.connect(client).transferFrom(agent.address, client.address, 3n * AITBC);
      const usage = await constitution.usageOf(agent.address);
      expect(usage.volume).to.equal(3n * AITBC);
      expect(usage.gas).to.equal(0n);
      await humanOverride.connect(guardian).freeze(agent.address, "compromised");
      await expect(token.connect(client).transferFrom(agent.address, client.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAgentFrozen")
        .withArgs(agent.address);
    });

    it("reverts AgentConstitutionActionNotAllowed for an action type the constitution does not allow", async function () {
      const { constitution, token, agent, operator, client } = await load();
      await constitution
        .connect(operator)
        .setConstraints(agent.address, constraints({ allowedActions: ALL_ACTIONS & ~bit(ACTION.TRANSFER) }));
      await expect(token.connect(agent).transfer(client.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionNotAllowed")
        .withArgs(agent.address, ACTION.TRANSFER);
    });

    it("never allows an action type of 48 or more", async function () {
      const { constitution, enforcer, agent } = await load();
      for (const actionType of [48, 255]) {
        await expect(constitution.connect(enforcer).enforce(agent.address, actionType, 0n, 0n))
          .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionNotAllowed")
          .withArgs(agent.address, actionType);
      }
    });

    it("reverts AgentConstitutionActionDenied while a guardian's denial is live, and passes once it expires", async function () {
      const { constitution, humanOverride, token, guardian, agent, client } = await load();
      await humanOverride.connect(guardian).deny(agent.address, ACTION.TRANSFER, HOUR);
      await expect(token.connect(agent).transfer(client.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionDenied")
        .withArgs(agent.address, ACTION.TRANSFER);
      await time.increase(HOUR);
      await token.connect(agent).transfer(client.address, 1n);
    });

    it("passes again once a guardian revokes the denial", async function () {
      const { humanOverride, token, guardian, agent, client } = await load();
      await humanOverride.connect(guardian).deny(agent.address, ACTION.TRANSFER, HOUR);
      await humanOverride.connect(guardian).revoke(agent.address, ACTION.TRANSFER);
      await token.connect(agent).transfer(client.address, 1n);
    });

    it("requires a live human grant for an approval action: none fails, live passes, expired fails again", async function () {
      const { constitution, humanOverride, token, guardian, agent, operator, client } = await load();
      await constitution
        .connect(operator)
        .setConstraints(agent.address, constraints({ humanApprovalActions: bit(ACTION.TRANSFER) }));
      await expect(token.connect(agent).transfer(client.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionHumanApprovalRequired")
        .withArgs(agent.address, ACTION.TRANSFER);

      await humanOverride.connect(guardian).grant(agent.address, ACTION.STAKE, HOUR); // another type: no help
      await expect(token.connect(agent).transfer(client.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionHumanApprovalRequired")
        .withArgs(agent.address, ACTION.TRANSFER);

      await humanOverride.connect(guardian).grant(agent.address, ACTION.TRANSFER, HOUR);
      await token.connect(agent).transfer(client.address, 1n);
      await token.connect(agent).transfer(client.address, 1n); // the grant is not used up

      await time.increase(HOUR);
      await expect(token.connect(agent).transfer(client.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionHumanApprovalRequired")
        .withArgs(agent.address, ACTION.TRANSFER);
    });

    it("reports a denial before a missing approval", async function () {
      const { constitution, humanOverride, token, guardian, agent, operator, client } = await load();
      await constitution
        .connect(operator)
        .setConstraints(agent.address, constraints({ humanApprovalActions: bit(ACTION.TRANSFER) }));
      await humanOverride.connect(guardian).deny(agent.address, ACTION.TRANSFER, HOUR);
      await expect(token.connect(agent).transfer(client.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionActionDenied")
        .withArgs(agent.address, ACTION.TRANSFER);
    });

    it("reverts AgentConstitutionDailyVolumeExceeded with the figures, up to the exact limit", async function () {
      const { constitution, token, agent, operator, client } = await load();
      const max = 100n * AITBC;
      await constitution.connect(operator).setConstraints(agent.address, constraints({ maxDailyVolume: max }));
      await token.connect(agent).transfer(client.address, 60n * AITBC);
      await expect(token.connect(agent).transfer(client.address, 50n * AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(agent.address, 60n * AITBC, 50n * AITBC, max);
      await token.connect(agent).transfer(client.address, 40n * AITBC); // exactly the limit
      await expect(token.connect(agent).transfer(client.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(agent.address, max, 1n, max);
      expect((await constitution.usageOf(agent.address)).volume).to.equal(max);
    });

    it("counts every action type in the same daily volume", async function () {
      const { constitution, enforcer, token, agent, operator, client } = await load();
      const max = 100n * AITBC;
      await constitution.connect(operator).setConstraints(agent.address, constraints({ maxDailyVolume: max }));
      await constitution.connect(enforcer).enforce(agent.address, 40, 60n * AITBC, 0n); // some later action type
      await expect(token.connect(agent).transfer(client.address, 41n * AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyVolumeExceeded")
        .withArgs(agent.address, 60n * AITBC, 41n * AITBC, max);
      await token.connect(agent).transfer(client.address, 40n * AITBC);
    });

    it("does not count staking in the daily volume (value 0; maxStake bounds it), only its gas", async function () {
      const { constitution, registry, token, agent, operator, client } = await load();
      const max = 10n * AITBC;
      await constitution.connect(operator).setConstraints(agent.address, constraints({ maxDailyVolume: max }));
      await token.connect(agent).approve(await registry.getAddress(), MaxUint256);
      await registry.connect(agent).stake(5_000n * AITBC);
      const usage = await constitution.usageOf(agent.address);
      expect(usage.volume).to.equal(0n);
      expect(usage.gas).to.be.greaterThan(0n);
      await token.connect(agent).transfer(client.address, max); // the whole daily volume is still there
    });

    it("resets the volume at the next UTC day (fixed buckets, so the limit can be used twice across midnight)", async function () {
      const { constitution, token, agent, operator, client } = await load();
      const max = 100n * AITBC;
      await constitution.connect(operator).setConstraints(agent.address, constraints({ maxDailyVolume: max }));
      const midnight = nextUtcDay(await time.latest());
      await time.setNextBlockTimestamp(midnight - 10n);
      await token.connect(agent).transfer(client.address, max);
      await expect(token.connect(agent).transfer(client.address, 1n)).to.be.revertedWithCustomError(
        constitution,
        "AgentConstitutionDailyVolumeExceeded",
      );
      await time.setNextBlockTimestamp(midnight);
      await token.connect(agent).transfer(client.address, max);
      const usage = await constitution.usageOf(agent.address);
      expect(usage.day).to.equal(midnight / DAY);
      expect(usage.volume).to.equal(max);
    });

    it("reverts AgentConstitutionDailyGasExceeded for a real action above a tiny maxGasPerDay", async function () {
      const { constitution, token, agent, operator, client } = await load();
      await constitution.connect(operator).setConstraints(agent.address, constraints({ maxGasPerDay: 1_000n }));
      await expect(token.connect(agent).transfer(client.address, 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyGasExceeded")
        .withArgs(agent.address, 0n, (gasUsed: bigint) => gasUsed > 1_000n, 1_000n);
    });

    it("adds up gas within the day, with the figures, and resets it the next day", async function () {
      const { constitution, enforcer, agent, operator } = await load();
      await constitution.connect(operator).setConstraints(agent.address, constraints({ maxGasPerDay: 1_000n }));
      await constitution.connect(enforcer).enforce(agent.address, ACTION.TRANSFER, 0n, 600n);
      await expect(constitution.connect(enforcer).enforce(agent.address, ACTION.TRANSFER, 0n, 401n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionDailyGasExceeded")
        .withArgs(agent.address, 600n, 401n, 1_000n);
      await constitution.connect(enforcer).enforce(agent.address, ACTION.TRANSFER, 0n, 400n);
      expect((await constitution.usageOf(agent.address)).gas).to.equal(1_000n);
      await time.increaseTo(nextUtcDay(await time.latest()));
      await constitution.connect(enforcer).enforce(agent.address, ACTION.TRANSFER, 0n, 1_000n);
    });

    it("lets addresses that are not enrolled pass untouched, even frozen or denied", async function () {
      const { constitution, humanOverride, token, enforcer, guardian, agent2, client } = await load();
      await humanOverride.connect(guardian).freeze(agent2.address, "not an agent");
      await humanOverride.connect(guardian).deny(agent2.address, ACTION.TRANSFER, HOUR);
      await token.connect(agent2).transfer(client.address, 5_000n * AITBC);
      await constitution.connect(enforcer).enforce(agent2.address, 255, MaxUint256, MaxUint256);
      const usage = await constitution.usageOf(agent2.address);
      expect(usage.volume).to.equal(0n);
      expect(usage.gas).to.equal(0n);
    });
  });

  describe("checkStake", function () {
    it("passes up to maxStake and reverts AgentConstitutionMaxStakeExceeded above it", async function () {
      const { constitution, agent } = await load();
      const max = DEFAULT_CONSTRAINTS.maxStake;
      await constitution.checkStake(agent.address, max);
      await expect(constitution.checkStake(agent.address, max + 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionMaxStakeExceeded")
        .withArgs(agent.address, max + 1n, max);
    });

    it("passes any amount for an address that is not enrolled", async function () {
      const { constitution, agent2 } = await load();
      await constitution.checkStake(agent2.address, MaxUint256);
    });
  });

  describe("setBounds", function () {
    const raised = { ...DEFAULT_BOUNDS, maxStake: DEFAULT_BOUNDS.maxStake * 2n };

    it("sets the bounds, emits BoundsSet, and lets operators use the new room", async function () {
      const { constitution, deployer, agent, operator } = await load();
      await expect(constitution.connect(deployer).setBounds(raised))
        .to.emit(constitution, "BoundsSet")
        .withArgs(constraintsTuple(raised));
      expect(constraintsTuple(await constitution.bounds())).to.deep.equal(constraintsTuple(raised));
      await constitution.connect(operator).setConstraints(agent.address, constraints({ maxStake: raised.maxStake }));
    });

    it("reverts AgentConstitutionInvalidActionMask when approval actions are not allowed actions", async function () {
      const { constitution, deployer } = await load();
      await expect(
        constitution.connect(deployer).setBounds({ ...DEFAULT_BOUNDS, allowedActions: 1n, humanApprovalActions: 3n }),
      )
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionInvalidActionMask")
        .withArgs(3n);
    });

    it("reverts AgentConstitutionAboveBound when the new bounds are below the current defaults", async function () {
      // Defaults must stay within the bounds (setDefaults and the constructor enforce it); otherwise every agent
      // enrolled afterwards starts above the protocol bounds.
      const { constitution, deployer } = await load();
      const lowered = { ...DEFAULT_BOUNDS, maxStake: DEFAULT_CONSTRAINTS.maxStake - 1n };
      await expect(constitution.connect(deployer).setBounds(lowered))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("maxStake", DEFAULT_CONSTRAINTS.maxStake, lowered.maxStake);
    });

    it("reverts AgentConstitutionBelowApprovalFloor when the new approval floor is not in the current defaults", async function () {
      const { constitution, deployer, agent } = await load();
      const floor = bit(ACTION.STAKE);
      await expect(constitution.connect(deployer).setBounds({ ...DEFAULT_BOUNDS, humanApprovalActions: floor }))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionBelowApprovalFloor")
        .withArgs(0n, floor);
      await constitution.connect(deployer).setDefaults(constraints({ humanApprovalActions: floor }));
      await expect(constitution.connect(deployer).setBounds({ ...DEFAULT_BOUNDS, humanApprovalActions: floor }))
        .to.emit(constitution, "BoundsSet")
        .withArgs(constraintsTuple({ ...DEFAULT_BOUNDS, humanApprovalActions: floor }));
      // new bounds do not rewrite enrolled agents (see clampToBounds)
      expect((await constitution.constraintsOf(agent.address)).humanApprovalActions).to.equal(0n);
    });

    it("reverts AccessControlUnauthorizedAccount for a non-admin", async function () {
      const { constitution, operator } = await load();
      await expect(constitution.connect(operator).setBounds(raised))
        .to.be.revertedWithCustomError(constitution, "AccessControlUnauthorizedAccount")
        .withArgs(operator.address, ZeroHash);
    });
  });

  describe("setDefaults", function () {
    const fresh = constraints({ maxStake: 2_000n * AITBC, maxDailyVolume: 500n * AITBC, humanApprovalActions: 1n });

    it("sets the defaults, emits DefaultsSet, and applies them to newly enrolled agents only", async function () {
      const { constitution, registry, deployer, agent, agent2, operator } = await load();
      await expect(constitution.connect(deployer).setDefaults(fresh))
        .to.emit(constitution, "DefaultsSet")
        .withArgs(constraintsTuple(fresh));
      expect(constraintsTuple(await constitution.defaults())).to.deep.equal(constraintsTuple(fresh));
      await registry.connect(agent2).register(registration(operator.address, { expectedDailyVolume: DECLARED_VOLUME }));
      expect(constraintsTuple(await constitution.constraintsOf(agent2.address))).to.deep.equal(constraintsTuple(fresh));
      expect(constraintsTuple(await constitution.constraintsOf(agent.address))).to.deep.equal(
        constraintsTuple(DEFAULT_CONSTRAINTS),
      );
    });

    it("caps a new agent's default maxDailyVolume at the volume it declares", async function () {
      const { constitution, registry, deployer, agent2, operator } = await load();
      await constitution.connect(deployer).setDefaults(fresh);
      await registry.connect(agent2).register(registration(operator.address, { expectedDailyVolume: 200n * AITBC }));
      expect(constraintsTuple(await constitution.constraintsOf(agent2.address))).to.deep.equal(
        constraintsTuple(enrolledConstraints(200n * AITBC, fresh)),
      );
      expect((await constitution.constraintsOf(agent2.address)).maxDailyVolume).to.equal(200n * AITBC);
    });

    it("reverts AgentConstitutionBelowApprovalFloor when the defaults drop an allowed action of the bounds' floor", async function () {
      const { constitution, deployer } = await load();
      const floor = bit(ACTION.TRANSFER) | bit(ACTION.STAKE);
      await constitution.connect(deployer).setDefaults(constraints({ humanApprovalActions: floor }));
      await constitution.connect(deployer).setBounds({ ...DEFAULT_BOUNDS, humanApprovalActions: floor });
      await expect(constitution.connect(deployer).setDefaults(constraints({ humanApprovalActions: bit(ACTION.STAKE) })))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionBelowApprovalFloor")
        .withArgs(bit(ACTION.STAKE), floor);
      // allowing no TRANSFER at all also satisfies the floor
      const noTransfer = ALL_ACTIONS & ~bit(ACTION.TRANSFER);
      await constitution
        .connect(deployer)
        .setDefaults(constraints({ allowedActions: noTransfer, humanApprovalActions: bit(ACTION.STAKE) }));
    });

    for (const field of ["maxStake", "maxDailyVolume", "maxGasPerDay"] as const) {
      it(`reverts AgentConstitutionAboveBound when ${field} is above its bound`, async function () {
        const { constitution, deployer } = await load();
        const bound = DEFAULT_BOUNDS[field];
        await expect(constitution.connect(deployer).setDefaults(constraints({ [field]: bound + 1n })))
          .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
          .withArgs(field, bound + 1n, bound);
      });
    }

    it("reverts AgentConstitutionAboveBound when allowedActions exceeds the allowed bound", async function () {
      const { constitution, deployer } = await load();
      await constitution.connect(deployer).setDefaults(constraints({ allowedActions: 1n }));
      await constitution.connect(deployer).setBounds({ ...DEFAULT_BOUNDS, allowedActions: 1n });
      await expect(constitution.connect(deployer).setDefaults(constraints({ allowedActions: 3n })))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("allowedActions", 3n, 1n);
    });

    it("reverts AgentConstitutionInvalidActionMask when approval actions are not allowed actions", async function () {
      const { constitution, deployer } = await load();
      await expect(
        constitution.connect(deployer).setDefaults(constraints({ allowedActions: 1n, humanApprovalActions: 2n })),
      )
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionInvalidActionMask")
        .withArgs(2n);
    });

    it("stays open to the admin while stopped, like setBounds (the recovery path)", async function () {
      const { constitution, humanOverride, guardian, deployer } = await load();
      await humanOverride.connect(guardian).emergencyStop("exploit");
      await expect(constitution.connect(deployer).setDefaults(fresh)).to.emit(constitution, "DefaultsSet");
      await expect(constitution.connect(deployer).setBounds(DEFAULT_BOUNDS)).to.emit(constitution, "BoundsSet");
    });

    it("reverts AccessControlUnauthorizedAccount for a non-admin", async function () {
      const { constitution, operator } = await load();
      await expect(constitution.connect(operator).setDefaults(fresh))
        .to.be.revertedWithCustomError(constitution, "AccessControlUnauthorizedAccount")
        .withArgs(operator.address, ZeroHash);
    });
  });

  describe("clampToBounds", function () {
    /** Bounds lowered on every field, with an approval floor (STAKE), and bit 40 no longer allowed. */
    const BIT_40 = bit(40);
    const LOWER_BOUNDS = {
      maxStake: 500_000n * AITBC,
      maxDailyVolume: 50_000n * AITBC,
      maxGasPerDay: 5_000_000n,
      allowedActions: ALL_ACTIONS & ~BIT_40,
      humanApprovalActions: bit(ACTION.STAKE),
    };

    /**
     * `agent` keeps DEFAULT_CONSTRAINTS (each limit above the lowered bounds); `agent2` is enrolled with the bounds'
     * volume and tightened by its operator (below the lowered bounds on stake and gas, approval on TRANSFER and
     * bit 40, STAKE not allowed). Then the admin lowers the defaults and the bounds.
     */
    async function lowered() {
      const f = await load();
      const { constitution, deployer, registrar, agent2, operator } = f;
      await constitution.connect(registrar).enroll(agent2.address, operator.address, DEFAULT_BOUNDS.maxDailyVolume);
      const tightened = constraints({
        maxStake: 100_000n * AITBC,
        maxDailyVolume: 1_000_000n * AITBC,
        maxGasPerDay: 1_000_000n,
        allowedActions: ALL_ACTIONS & ~bit(ACTION.STAKE),
        humanApprovalActions: bit(ACTION.TRANSFER) | BIT_40,
      });
      await constitution.connect(operator).setConstraints(agent2.address, tightened);
      await constitution.connect(deployer).setDefaults(LOWER_BOUNDS);
      await constitution.connect(deployer).setBounds(LOWER_BOUNDS);
      return { ...f, tightened };
    }

    it("brings each enrolled agent within the bounds and emits ConstraintsSet with the clamped values", async function () {
      const { constitution, deployer, agent, agent2 } = await lowered();
      const clampedAgent = constraints({ ...LOWER_BOUNDS });
      const clampedAgent2 = constraints({
        maxStake: 100_000n * AITBC, // already below the bound: kept
        maxDailyVolume: LOWER_BOUNDS.maxDailyVolume,
        maxGasPerDay: 1_000_000n, // already below the bound: kept
        allowedActions: ALL_ACTIONS & ~bit(ACTION.STAKE) & ~BIT_40,
        humanApprovalActions: bit(ACTION.TRANSFER), // bit 40 is no longer allowed; STAKE is not allowed either
      });
      const tx = constitution.connect(deployer).clampToBounds([agent.address, agent2.address]);
      await expect(tx)
        .to.emit(constitution, "ConstraintsSet")
        .withArgs(agent.address, deployer.address, constraintsTuple(clampedAgent));
      await expect(tx)
        .to.emit(constitution, "ConstraintsSet")
        .withArgs(agent2.address, deployer.address, constraintsTuple(clampedAgent2));
      expect(constraintsTuple(await constitution.constraintsOf(agent.address))).to.deep.equal(
        constraintsTuple(clampedAgent),
      );
      expect(constraintsTuple(await constitution.constraintsOf(agent2.address))).to.deep.equal(
        constraintsTuple(clampedAgent2),
      );
    });

    it("adds the approval floor to the approval actions, and the operator can re-submit the result", async function () {
      const { constitution, deployer, operator, agent } = await lowered();
      await expect(constitution.connect(operator).setConstraints(agent.address, DEFAULT_CONSTRAINTS))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionAboveBound")
        .withArgs("maxStake", DEFAULT_CONSTRAINTS.maxStake, LOWER_BOUNDS.maxStake);
      await constitution.connect(deployer).clampToBounds([agent.address]);
      const c = await constitution.constraintsOf(agent.address);
      const clamped: Constraints = {
        maxStake: c.maxStake,
        maxDailyVolume: c.maxDailyVolume,
        maxGasPerDay: c.maxGasPerDay,
        allowedActions: c.allowedActions,
        humanApprovalActions: c.humanApprovalActions,
      };
      expect(clamped.humanApprovalActions).to.equal(bit(ACTION.STAKE));
      await expect(constitution.connect(operator).setConstraints(agent.address, clamped)).to.emit(
        constitution,
        "ConstraintsSet",
      );
    });

    it("is enforced at once: the clamped limits and the floor apply to the agent's next action", async function () {
      const { constitution, registry, token, deployer, agent } = await lowered();
      await constitution.connect(deployer).clampToBounds([agent.address]);
      await token.connect(agent).approve(await registry.getAddress(), MaxUint256);
      await expect(registry.connect(agent).stake(AITBC))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionHumanApprovalRequired")
        .withArgs(agent.address, ACTION.STAKE);
      await expect(constitution.checkStake(agent.address, LOWER_BOUNDS.maxStake + 1n))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionMaxStakeExceeded")
        .withArgs(agent.address, LOWER_BOUNDS.maxStake + 1n, LOWER_BOUNDS.maxStake);
    });

    it("never raises a limit and keeps the declared volume and the operator", async function () {
      const { constitution, registrar, deployer, operator, agent } = await load();
      await constitution.connect(registrar).setDeclaredVolume(agent.address, 7n * AITBC);
      await constitution.connect(deployer).clampToBounds([agent.address]);
      expect(constraintsTuple(await constitution.constraintsOf(agent.address))).to.deep.equal(
        constraintsTuple(constraints({ maxDailyVolume: 7n * AITBC })),
      );
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(7n * AITBC);
      expect(await constitution.operatorOf(agent.address)).to.equal(operator.address);
    });

    it("leaves an agent already within the bounds unchanged", async function () {
      const { constitution, deployer, agent } = await load();
      await expect(constitution.connect(deployer).clampToBounds([agent.address]))
        .to.emit(constitution, "ConstraintsSet")
        .withArgs(agent.address, deployer.address, constraintsTuple(DEFAULT_CONSTRAINTS));
      expect(constraintsTuple(await constitution.constraintsOf(agent.address))).to.deep.equal(
        constraintsTuple(DEFAULT_CONSTRAINTS),
      );
    });

    it("does nothing for an empty list", async function () {
      const { constitution, deployer } = await load();
      await expect(constitution.connect(deployer).clampToBounds([])).to.not.emit(constitution, "ConstraintsSet");
    });

    it("reverts AgentConstitutionNotEnrolled, as a whole, when any address is not enrolled", async function () {
      const { constitution, deployer, agent, agent2, outsider } = await lowered();
      await expect(constitution.connect(deployer).clampToBounds([agent.address, agent2.address, outsider.address]))
        .to.be.revertedWithCustomError(constitution, "AgentConstitutionNotEnrolled")
        .withArgs(outsider.address);
      expect(constraintsTuple(await constitution.constraintsOf(agent.address))).to.deep.equal(
        constraintsTuple(DEFAULT_CONSTRAINTS),
      );
    });

    it("stays open to the admin while stopped (the recovery path)", async function () {
      const { constitution, humanOverride, guardian, deployer, agent } = await lowered();
      await humanOverride.connect(guardian).emergencyStop("exploit");
      await expect(constitution.connect(deployer).clampToBounds([agent.address])).to.emit(
        constitution,
        "ConstraintsSet",
      );
      expect((await constitution.constraintsOf(agent.address)).maxStake).to.equal(LOWER_BOUNDS.maxStake);
    });

    it("reverts AccessControlUnauthorizedAccount for a non-admin, the operator and the registry included", async function () {
      const { constitution, operator, registrar, agent } = await load();
      for (const caller of [operator, registrar, agent]) {
        await expect(constitution.connect(caller).clampToBounds([agent.address]))
          .to.be.revertedWithCustomError(constitution, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ZeroHash);
      }
    });
  });

  describe("views", function () {
    it("declaredVolumeOf reads the declared volume, and zero for an address that is not enrolled", async function () {
      const { constitution, agent, agent2 } = await load();
      expect(await constitution.declaredVolumeOf(agent.address)).to.equal(DECLARED_VOLUME);
      expect(await constitution.declaredVolumeOf(agent2.address)).to.equal(0n);
    });

    it("constraintsOf returns zeros for an address that is not enrolled", async function () {
      const { constitution, agent2 } = await load();
      expect(constraintsTuple(await constitution.constraintsOf(agent2.address))).to.deep.equal([0n, 0n, 0n, 0n, 0n]);
    });

    it("usageOf reads zero with today's day on a new day, without a transaction", async function () {
      const { constitution, token, agent, client } = await load();
      await token.connect(agent).transfer(client.address, AITBC);
      expect((await constitution.usageOf(agent.address)).volume).to.equal(AITBC);
      await time.increaseTo(nextUtcDay(await time.latest()));
      const usage = await constitution.usageOf(agent.address);
      expect(usage.day).to.equal(await today());
      expect(usage.volume).to.equal(0n);
      expect(usage.gas).to.equal(0n);
    });

    it("requiresHumanApproval is false by default and true once any action type needs approval", async function () {
      const { constitution, agent, agent2, operator } = await load();
      expect(await constitution.requiresHumanApproval(agent.address)).to.be.false;
      expect(await constitution.requiresHumanApproval(agent2.address)).to.be.false;
      await constitution
        .connect(operator)
        .setConstraints(agent.address, constraints({ humanApprovalActions: bit(40) }));
      expect(await constitution.requiresHumanApproval(agent.address)).to.be.true;
    });

    it("bounds and defaults return the deployment values", async function () {
      const { constitution } = await load();
      expect(constraintsTuple(await constitution.bounds())).to.deep.equal(constraintsTuple(DEFAULT_BOUNDS));
      expect(constraintsTuple(await constitution.defaults())).to.deep.equal(constraintsTuple(DEFAULT_CONSTRAINTS));
    });

    it("isEnrolled and operatorOf tell enrolled agents from other addresses", async function () {
      const { constitution, agent, agent2, operator } = await load();
      expect(await constitution.isEnrolled(agent.address)).to.be.true;
      expect(await constitution.operatorOf(agent.address)).to.equal(operator.address);
      expect(await constitution.isEnrolled(agent2.address)).to.be.false;
      expect(await constitution.operatorOf(agent2.address)).to.equal(ZeroAddress);
    });
  });
});
