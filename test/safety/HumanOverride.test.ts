import { expect } from "chai";
import { ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import { ACTION, DAY, DECISION, HOUR } from "../helpers/agents.js";
import { deployCore } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

const MAX_DURATION = 365n * DAY;
const MAX_ACTION_TYPES = 48;
const A = ACTION.TRANSFER;
const B = ACTION.STAKE;

/** The core; the HumanOverride's only guardian is `guardian`, its admin `deployer`. */
async function humanOverrideFixture() {
  return deployCore(connection);
}

const load = () => networkHelpers.loadFixture(humanOverrideFixture);

/** Sets the next block's timestamp (a little after the latest) and returns it. */
async function atNextBlock(): Promise<bigint> {
  const t = BigInt(await time.latest()) + 10n;
  await time.setNextBlockTimestamp(t);
  return t;
}

describe("HumanOverride", function () {
  describe("constructor", function () {
    it("grants the admin role and GUARDIAN_ROLE to every guardian", async function () {
      const { deployer, guardian, outsider } = await load();
      const ho = await ethers.deployContract("HumanOverride", [deployer.address, [guardian.address, outsider.address]]);
      const role = await ho.GUARDIAN_ROLE();
      expect(await ho.hasRole(ZeroHash, deployer.address)).to.be.true;
      expect(await ho.hasRole(role, guardian.address)).to.be.true;
      expect(await ho.hasRole(role, outsider.address)).to.be.true;
      expect(await ho.hasRole(role, deployer.address)).to.be.false;
      expect(await ho.isStopped()).to.be.false;
      expect(await ho.MAX_DURATION()).to.equal(MAX_DURATION);
    });

    it("accepts an empty guardian list (the admin grants GUARDIAN_ROLE later)", async function () {
      const { deployer, guardian } = await load();
      const ho = await ethers.deployContract("HumanOverride", [deployer.address, []]);
      await ho.connect(deployer).grantRole(await ho.GUARDIAN_ROLE(), guardian.address);
      await ho.connect(guardian).freeze(guardian.address, "works");
    });

    it("reverts HumanOverrideZeroAddress for a zero admin", async function () {
      const { humanOverride, guardian } = await load();
      await expect(
        ethers.deployContract("HumanOverride", [ZeroAddress, [guardian.address]]),
      ).to.be.revertedWithCustomError(humanOverride, "HumanOverrideZeroAddress");
    });

    it("reverts HumanOverrideZeroAddress for a zero guardian", async function () {
      const { humanOverride, deployer, guardian } = await load();
      await expect(
        ethers.deployContract("HumanOverride", [deployer.address, [guardian.address, ZeroAddress]]),
      ).to.be.revertedWithCustomError(humanOverride, "HumanOverrideZeroAddress");
    });
  });

  for (const fn of ["grant", "deny"] as const) {
    const event = fn === "grant" ? "OverrideGranted" : "OverrideDenied";
    const decision = fn === "grant" ? DECISION.granted : DECISION.denied;

    describe(fn, function () {
      it(`stores the decision with its expiry and emits ${event}`, async function () {
        const { humanOverride, guardian, agent } = await load();
        const t = await atNextBlock();
        await expect(humanOverride.connect(guardian)[fn](agent.address, A, HOUR))
          .to.emit(humanOverride, event)
          .withArgs(agent.address, A, guardian.address, t + HOUR);
        const record = await humanOverride.overrideOf(agent.address, A);
        expect(record.decision).to.equal(decision);
        expect(record.expiresAt).to.equal(t + HOUR);
        const [stopped, frozen, live] = await humanOverride.gate(agent.address, A);
        expect(stopped).to.be.false;
        expect(frozen).to.be.false;
        expect(live).to.equal(decision);
      });

      it("reads as None from the second the decision expires", async function () {
        const { humanOverride, guardian, agent } = await load();
        const t = await atNextBlock();
        await humanOverride.connect(guardian)[fn](agent.address, A, HOUR);
        await time.increaseTo(t + HOUR - 1n);
        expect((await humanOverride.gate(agent.address, A))[2]).to.equal(decision);
        await time.increaseTo(t + HOUR);
        expect((await humanOverride.gate(agent.address, A))[2]).to.equal(DECISION.none);
        expect((await humanOverride.overrideOf(agent.address, A)).decision).to.equal(decision); // stored, expired
      });

      it("accepts the longest duration (365 days) and the last action type (47)", async function () {
        const { humanOverride, guardian, agent } = await load();
        const t = await atNextBlock();
        await expect(humanOverride.connect(guardian)[fn](agent.address, MAX_ACTION_TYPES - 1, MAX_DURATION))
          .to.emit(humanOverride, event)
          .withArgs(agent.address, MAX_ACTION_TYPES - 1, guardian.address, t + MAX_DURATION);
      });

      it("reverts AccessControlUnauthorizedAccount without GUARDIAN_ROLE, the admin included", async function () {
        const { humanOverride, deployer, outsider, agent } = await load();
        const role = await humanOverride.GUARDIAN_ROLE();
        for (const caller of [deployer, outsider, agent]) {
          await expect(humanOverride.connect(caller)[fn](agent.address, A, HOUR))
            .to.be.revertedWithCustomError(humanOverride, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, role);
        }
      });

      it("reverts HumanOverrideZeroAddress for the zero address", async function () {
        const { humanOverride, guardian } = await load();
        await expect(humanOverride.connect(guardian)[fn](ZeroAddress, A, HOUR)).to.be.revertedWithCustomError(
          humanOverride,
          "HumanOverrideZeroAddress",
        );
      });

      it("reverts HumanOverrideInvalidActionType for action types 48 and up", async function () {
        const { humanOverride, guardian, agent } = await load();
        for (const actionType of [MAX_ACTION_TYPES, 255]) {
          await expect(humanOverride.connect(guardian)[fn](agent.address, actionType, HOUR))
            .to.be.revertedWithCustomError(humanOverride, "HumanOverrideInvalidActionType")
            .withArgs(actionType, MAX_ACTION_TYPES);
        }
      });

      it("reverts HumanOverrideInvalidDuration for 0 and for 365 days + 1 s", async function () {
        const { humanOverride, guardian, agent } = await load();
        for (const duration of [0n, MAX_DURATION + 1n]) {
          await expect(humanOverride.connect(guardian)[fn](agent.address, A, duration))
            .to.be.revertedWithCustomError(humanOverride, "HumanOverrideInvalidDuration")
            .withArgs(duration, MAX_DURATION);
        }
      });
    });
  }

  describe("grant and deny together", function () {
    it("keeps one expiry per (agent, action type): granting B for 10 h leaves A's 1 h expiry alone", async function () {
      const { humanOverride, guardian, agent } = await load();
      const t = await atNextBlock();
      await humanOverride.connect(guardian).grant(agent.address, A, HOUR);
      await time.setNextBlockTimestamp(t + 60n);
      await humanOverride.connect(guardian).grant(agent.address, B, 10n * HOUR);
      expect((await humanOverride.overrideOf(agent.address, A)).expiresAt).to.equal(t + HOUR);
      expect((await humanOverride.overrideOf(agent.address, B)).expiresAt).to.equal(t + 60n + 10n * HOUR);

      await time.increaseTo(t + HOUR - 1n);
      expect((await humanOverride.gate(agent.address, A))[2]).to.equal(DECISION.granted);
      await time.increaseTo(t + HOUR);
      expect((await humanOverride.gate(agent.address, A))[2]).to.equal(DECISION.none);
      expect((await humanOverride.gate(agent.address, B))[2]).to.equal(DECISION.granted);

      await time.increaseTo(t + 60n + 10n * HOUR);
      expect((await humanOverride.gate(agent.address, B))[2]).to.equal(DECISION.none);
    });

    it("keeps a longer grant on A when a shorter one is then given on B", async function () {
      const { humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).grant(agent.address, A, 10n * HOUR);
      await humanOverride.connect(guardian).deny(agent.address, B, HOUR);
      await time.increase(2n * HOUR);
      expect((await humanOverride.gate(agent.address, A))[2]).to.equal(DECISION.granted);
      expect((await humanOverride.gate(agent.address, B))[2]).to.equal(DECISION.none);
    });

    it("keeps decisions per agent", async function () {
      const { humanOverride, guardian, agent, agent2 } = await load();
      await humanOverride.connect(guardian).grant(agent.address, A, HOUR);
      expect((await humanOverride.gate(agent2.address, A))[2]).to.equal(DECISION.none);
    });

    it("replaces the earlier decision on the same (agent, action type), expiry included", async function () {
      const { humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).grant(agent.address, A, 10n * HOUR);
      const t = await atNextBlock();
      await humanOverride.connect(guardian).deny(agent.address, A, HOUR);
      const record = await humanOverride.overrideOf(agent.address, A);
      expect(record.decision).to.equal(DECISION.denied);
      expect(record.expiresAt).to.equal(t + HOUR);
      await time.increaseTo(t + HOUR);
      expect((await humanOverride.gate(agent.address, A))[2]).to.equal(DECISION.none);
    });
  });

  describe("revoke", function () {
    it("deletes the decision and emits OverrideRevoked", async function () {
      const { humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).deny(agent.address, A, HOUR);
      await humanOverride.connect(guardian).grant(agent.address, B, HOUR);
      await expect(humanOverride.connect(guardian).revoke(agent.address, A))
        .to.emit(humanOverride, "OverrideRevoked")
        .withArgs(agent.address, A, guardian.address);
      const record = await humanOverride.overrideOf(agent.address, A);
      expect(record.decision).to.equal(DECISION.none);
      expect(record.expiresAt).to.equal(0n);
      expect((await humanOverride.gate(agent.address, A))[2]).to.equal(DECISION.none);
      expect((await humanOverride.gate(agent.address, B))[2]).to.equal(DECISION.granted);
    });

    it("revokes an expired decision too", async function () {
      const { humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).grant(agent.address, A, HOUR);
      await time.increase(2n * HOUR);
      await expect(humanOverride.connect(guardian).revoke(agent.address, A)).to.emit(humanOverride, "OverrideRevoked");
    });

    it("reverts HumanOverrideNoOverride without a decision, and after a revoke", async function () {
      const { humanOverride, guardian, agent } = await load();
      await expect(humanOverride.connect(guardian).revoke(agent.address, A))
        .to.be.revertedWithCustomError(humanOverride, "HumanOverrideNoOverride")
        .withArgs(agent.address, A);
      await humanOverride.connect(guardian).grant(agent.address, A, HOUR);
      await humanOverride.connect(guardian).revoke(agent.address, A);
      await expect(humanOverride.connect(guardian).revoke(agent.address, A))
        .to.be.revertedWithCustomError(humanOverride, "HumanOverrideNoOverride")
        .withArgs(agent.address, A);
    });

    it("reverts HumanOverrideInvalidActionType for action types 48 and up", async function () {
      const { humanOverride, guardian, agent } = await load();
      await expect(humanOverride.connect(guardian).revoke(agent.address, MAX_ACTION_TYPES))
        .to.be.revertedWithCustomError(humanOverride, "HumanOverrideInvalidActionType")
        .withArgs(MAX_ACTION_TYPES, MAX_ACTION_TYPES);
    });

    it("reverts AccessControlUnauthorizedAccount without GUARDIAN_ROLE", async function () {
      const { humanOverride, guardian, outsider, agent } = await load();
      await humanOverride.connect(guardian).grant(agent.address, A, HOUR);
      await expect(humanOverride.connect(outsider).revoke(agent.address, A))
        .to.be.revertedWithCustomError(humanOverride, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, await humanOverride.GUARDIAN_ROLE());
    });
  });

  describe("freeze", function () {
    it("freezes the agent and emits AgentFrozen with the reason", async function () {
      const { humanOverride, guardian, agent } = await load();
      await expect(humanOverride.connect(guardian).freeze(agent.address, "key leaked"))
        .to.emit(humanOverride, "AgentFrozen")
        .withArgs(agent.address, guardian.address, "key leaked");
      expect(await humanOverride.isFrozen(agent.address)).to.be.true;
      expect((await humanOverride.gate(agent.address, A))[1]).to.be.true;
    });

    it("reverts HumanOverrideAlreadyFrozen for a frozen agent", async function () {
      const { humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).freeze(agent.address, "r");
      await expect(humanOverride.connect(guardian).freeze(agent.address, "again"))
        .to.be.revertedWithCustomError(humanOverride, "HumanOverrideAlreadyFrozen")
        .withArgs(agent.address);
    });

    it("reverts HumanOverrideZeroAddress for the zero address", async function () {
      const { humanOverride, guardian } = await load();
      await expect(humanOverride.connect(guardian).freeze(ZeroAddress, "r")).to.be.revertedWithCustomError(
        humanOverride,
        "HumanOverrideZeroAddress",
      );
    });

    it("reverts AccessControlUnauthorizedAccount without GUARDIAN_ROLE", async function () {
      const { humanOverride, outsider, agent } = await load();
      await expect(humanOverride.connect(outsider).freeze(agent.address, "r"))
        .to.be.revertedWithCustomError(humanOverride, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, await humanOverride.GUARDIAN_ROLE());
    });
  });

  describe("unfreeze", function () {
    it("lifts the freeze and emits AgentUnfrozen", async function () {
      const { humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).freeze(agent.address, "r");
      await expect(humanOverride.connect(guardian).unfreeze(agent.address))
        .to.emit(humanOverride, "AgentUnfrozen")
        .withArgs(agent.address, guardian.address);
      expect(await humanOverride.isFrozen(agent.address)).to.be.false;
      expect((await humanOverride.gate(agent.address, A))[1]).to.be.false;
    });

    it("keeps the agent's decisions across a freeze", async function () {
      const { humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).grant(agent.address, A, HOUR);
      await humanOverride.connect(guardian).freeze(agent.address, "r");
      expect(await humanOverride.gate(agent.address, A)).to.deep.equal([false, true, DECISION.granted]);
      await humanOverride.connect(guardian).unfreeze(agent.address);
      expect(await humanOverride.gate(agent.address, A)).to.deep.equal([false, false, DECISION.granted]);
    });

    it("reverts HumanOverrideNotFrozen for an agent that is not frozen", async function () {
      const { humanOverride, guardian, agent } = await load();
      await expect(humanOverride.connect(guardian).unfreeze(agent.address))
        .to.be.revertedWithCustomError(humanOverride, "HumanOverrideNotFrozen")
        .withArgs(agent.address);
    });

    it("reverts AccessControlUnauthorizedAccount without GUARDIAN_ROLE", async function () {
      const { humanOverride, guardian, outsider, agent } = await load();
      await humanOverride.connect(guardian).freeze(agent.address, "r");
      await expect(humanOverride.connect(outsider).unfreeze(agent.address))
        .to.be.revertedWithCustomError(humanOverride, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, await humanOverride.GUARDIAN_ROLE());
    });
  });

  describe("emergencyStop", function () {
    it("stops the protocol and emits EmergencyStopped with the reason", async function () {
      const { humanOverride, guardian } = await load();
      await expect(humanOverride.connect(guardian).emergencyStop("exploit in progress"))
        .to.emit(humanOverride, "EmergencyStopped")
        .withArgs(guardian.address, "exploit in progress");
      expect(await humanOverride.isStopped()).to.be.true;
    });

    it("reverts HumanOverrideEmergencyStopped when already stopped", async function () {
      const { humanOverride, guardian } = await load();
      await humanOverride.connect(guardian).emergencyStop("first");
      await expect(humanOverride.connect(guardian).emergencyStop("second")).to.be.revertedWithCustomError(
        humanOverride,
        "HumanOverrideEmergencyStopped",
      );
    });

    it("reverts AccessControlUnauthorizedAccount without GUARDIAN_ROLE", async function () {
      const { humanOverride, deployer } = await load();
      await expect(humanOverride.connect(deployer).emergencyStop("r"))
        .to.be.revertedWithCustomError(humanOverride, "AccessControlUnauthorizedAccount")
        .withArgs(deployer.address, await humanOverride.GUARDIAN_ROLE());
    });

    it("keeps every guardian function working while stopped", async function () {
      const { humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).emergencyStop("exploit");
      await expect(humanOverride.connect(guardian).grant(agent.address, A, HOUR)).to.emit(
        humanOverride,
        "OverrideGranted",
      );
      await expect(humanOverride.connect(guardian).deny(agent.address, B, HOUR)).to.emit(
        humanOverride,
        "OverrideDenied",
      );
      await expect(humanOverride.connect(guardian).revoke(agent.address, A)).to.emit(humanOverride, "OverrideRevoked");
      await expect(humanOverride.connect(guardian).freeze(agent.address, "r")).to.emit(humanOverride, "AgentFrozen");
      await expect(humanOverride.connect(guardian).unfreeze(agent.address)).to.emit(humanOverride, "AgentUnfrozen");
      await expect(humanOverride.connect(guardian).resume()).to.emit(humanOverride, "EmergencyResumed");
    });
  });

  describe("resume", function () {
    it("ends the stop and emits EmergencyResumed", async function () {
      const { humanOverride, guardian } = await load();
      await humanOverride.connect(guardian).emergencyStop("r");
      await expect(humanOverride.connect(guardian).resume())
        .to.emit(humanOverride, "EmergencyResumed")
        .withArgs(guardian.address);
      expect(await humanOverride.isStopped()).to.be.false;
    });

    it("reverts HumanOverrideNotStopped when not stopped", async function () {
      const { humanOverride, guardian } = await load();
      await expect(humanOverride.connect(guardian).resume()).to.be.revertedWithCustomError(
        humanOverride,
        "HumanOverrideNotStopped",
      );
    });

    it("reverts AccessControlUnauthorizedAccount without GUARDIAN_ROLE", async function () {
      const { humanOverride, guardian, outsider } = await load();
      await humanOverride.connect(guardian).emergencyStop("r");
      await expect(humanOverride.connect(outsider).resume())
        .to.be.revertedWithCustomError(humanOverride, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, await humanOverride.GUARDIAN_ROLE());
    });
  });

  describe("views", function () {
    it("isStopped, isFrozen, overrideOf and gate read false and None by default", async function () {
      const { humanOverride, agent } = await load();
      expect(await humanOverride.isStopped()).to.be.false;
      expect(await humanOverride.isFrozen(agent.address)).to.be.false;
      const record = await humanOverride.overrideOf(agent.address, A);
      expect(record.decision).to.equal(DECISION.none);
      expect(record.expiresAt).to.equal(0n);
      expect(await humanOverride.gate(agent.address, A)).to.deep.equal([false, false, DECISION.none]);
    });

    it("gate reports the emergency stop for every agent and action type, with the freeze and the live decision", async function () {
      const { humanOverride, guardian, agent, agent2 } = await load();
      await humanOverride.connect(guardian).grant(agent.address, A, HOUR);
      await humanOverride.connect(guardian).freeze(agent.address, "r");
      await humanOverride.connect(guardian).emergencyStop("exploit");
      expect(await humanOverride.gate(agent.address, A)).to.deep.equal([true, true, DECISION.granted]);
      expect(await humanOverride.gate(agent.address, B)).to.deep.equal([true, true, DECISION.none]);
      expect(await humanOverride.gate(agent2.address, A)).to.deep.equal([true, false, DECISION.none]);
      expect(await humanOverride.gate(agent2.address, 200)).to.deep.equal([true, false, DECISION.none]);
      await humanOverride.connect(guardian).resume();
      expect(await humanOverride.gate(agent.address, A)).to.deep.equal([false, true, DECISION.granted]);
      expect(await humanOverride.gate(agent2.address, A)).to.deep.equal([false, false, DECISION.none]);
    });

    it("gate reads None for action types 48 and up, and still reports the freeze", async function () {
      const { humanOverride, guardian, agent } = await load();
      await humanOverride.connect(guardian).freeze(agent.address, "r");
      expect(await humanOverride.gate(agent.address, 200)).to.deep.equal([false, true, DECISION.none]);
    });

    it("gate reads an expired denial as None while overrideOf keeps the stored record", async function () {
      const { humanOverride, guardian, agent } = await load();
      const t = await atNextBlock();
      await humanOverride.connect(guardian).deny(agent.address, A, HOUR);
      await time.increase(2n * HOUR);
      expect(await humanOverride.gate(agent.address, A)).to.deep.equal([false, false, DECISION.none]);
      const record = await humanOverride.overrideOf(agent.address, A);
      expect(record.decision).to.equal(DECISION.denied);
      expect(record.expiresAt).to.equal(t + HOUR);
    });
  });
});
