import { expect } from "chai";
import { MaxUint256 } from "ethers";
import { network } from "hardhat";

import type { AgentRegistry } from "../../typechain-types/index.js";
import { AITBC, mintAitbc, registration, STATUS, UNBONDING_DELAY } from "../helpers/agents.js";
import { deployCore } from "../../scripts/lib/deploy.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

const STAKE = 4_000n * AITBC;
const AGENT_ID = 1n;
/** ReentrantToken.Mode */
const BUBBLE = 0;
const CATCH = 1;
const R_MIN_STAKE = 100n * AITBC;
const R_STAKE = 1_000n * AITBC;

/**
 * Two registries over the same HumanOverride and AgentConstitution:
 * - the production one (from the Ignition module): `agent` registered (id 1, operator `operator`) and staked
 *   4,000 AITBC; `slasher` holds SLASHER_ROLE;
 * - `rRegistry`, a second AgentRegistry over `rToken`, a test-only ERC-20 whose transfers call back into a
 *   target. `agent2` is registered there (id 1) with the TOKEN ITSELF as operator, so that the token's
 *   re-entrant calls to withdraw/requestUnstake would be authorized: only the re-entrancy guard stops them.
 *   agent2 staked 1,000 and holds 1,000 more. The deployer (admin of the constitution) granted rRegistry
 *   REGISTRY_ROLE and ENFORCER_ROLE.
 */
async function stakeAttacksFixture() {
  const core = await deployCore(connection);
  const { registry, token, constitution, humanOverride, deployer, agent, agent2, operator, treasury } = core;
  const slasher = (await ethers.getSigners())[9];
  if (!slasher) throw new Error("the test network needs at least 10 accounts");

  await registry.connect(deployer).grantRole(await registry.SLASHER_ROLE(), slasher.address);
  await registry.connect(agent).register(registration(operator.address));
  await mintAitbc(core, agent.address, STAKE / AITBC);
  await token.connect(agent).approve(await registry.getAddress(), MaxUint256);
  await registry.connect(agent).stake(STAKE);

  const rToken = await ethers.deployContract("ReentrantToken");
  const rRegistry = await ethers.deployContract("AgentRegistry", [
    deployer.address,
    await rToken.getAddress(),
    await humanOverride.getAddress(),
    await constitution.getAddress(),
    treasury.address,
    R_MIN_STAKE,
    1_000n,
    UNBONDING_DELAY,
  ]);
  await constitution.connect(deployer).grantRole(await constitution.REGISTRY_ROLE(), await rRegistry.getAddress());
  await constitution.connect(deployer).grantRole(await constitution.ENFORCER_ROLE(), await rRegistry.getAddress());
  await rRegistry.connect(deployer).grantRole(await rRegistry.SLASHER_ROLE(), slasher.address);
  await rRegistry.connect(agent2).register(registration(await rToken.getAddress()));
  await rToken.mint(agent2.address, 2n * R_STAKE);
  await rToken.connect(agent2).approve(await rRegistry.getAddress(), MaxUint256);
  await rRegistry.connect(agent2).stake(R_STAKE);

  return { ...core, slasher, rToken, rRegistry };
}

const load = () => networkHelpers.loadFixture(stakeAttacksFixture);

describe("Stake attacks", function () {
  describe("requesting an unstake to dodge a slash", function () {
    it("leaves the whole unbonding amount slashable within the delay; withdraw pays only the rest", async function () {
      const { registry, token, agent, operator, slasher, treasury } = await load();
      const reqTime = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(reqTime);
      await registry.connect(agent).requestUnstake(AGENT_ID, STAKE); // the agent sees the slash coming
      expect(await registry.statusOf(AGENT_ID)).to.equal(STATUS.exiting);

      await time.setNextBlockTimestamp(reqTime + UNBONDING_DELAY / 2n);
      const slashTx = registry.connect(slasher).slash(AGENT_ID, STAKE / 2n, "fraud");
      await expect(slashTx)
        .to.emit(registry, "Slashed")
        .withArgs(AGENT_ID, slasher.address, 0n, STAKE / 2n, treasury.address, "fraud");
      await expect(slashTx).to.changeTokenBalance(ethers, token, treasury, STAKE / 2n);

      await time.increaseTo(reqTime + UNBONDING_DELAY);
      const withdrawTx = registry.connect(agent).withdraw(AGENT_ID);
      await expect(withdrawTx)
        .to.emit(registry, "Withdrawn")
        .withArgs(AGENT_ID, operator.address, STAKE / 2n);
      await expect(withdrawTx).to.changeTokenBalances(
        ethers,
        token,
        [operator, agent, registry],
        [STAKE / 2n, 0n, -(STAKE / 2n)],
      );
      expect(await token.balanceOf(await registry.getAddress())).to.equal(0n);
      expect(await registry.totalPending()).to.equal(0n);
    });

    it("does not shrink the slash cap: it is 50% of stake plus pending, before and after the request", async function () {
      const { registry, agent, slasher } = await load();
      await registry.connect(agent).requestUnstake(AGENT_ID, STAKE);
      await expect(registry.connect(slasher).slash(AGENT_ID, STAKE / 2n + 1n, "r"))
        .to.be.revertedWithCustomError(registry, "AgentRegistrySlashTooLarge")
        .withArgs(AGENT_ID, STAKE / 2n + 1n, STAKE / 2n);
      await registry.connect(slasher).slash(AGENT_ID, STAKE / 2n, "r");
    });

    it("keeps the pending amount slashable after the delay, until it is withdrawn", async function () {
      const { registry, token, agent, operator, slasher } = await load();
      await registry.connect(agent).requestUnstake(AGENT_ID, STAKE);
      await time.increase(10n * UNBONDING_DELAY);
      await registry.connect(slasher).slash(AGENT_ID, 1_000n * AITBC, "late evidence");
      await registry.connect(slasher).slash(AGENT_ID, 1_000n * AITBC, "more evidence");
      await expect(registry.connect(operator).withdraw(AGENT_ID)).to.changeTokenBalance(
        ethers,
        token,
        operator,
        STAKE - 2_000n * AITBC,
      );
      await expect(registry.connect(slasher).slash(AGENT_ID, 1n, "too late"))
        .to.be.revertedWithCustomError(registry, "AgentRegistrySlashTooLarge")
        .withArgs(AGENT_ID, 1n, 0n);
    });

    it("slashes active stake before pending when an agent unstakes part of it", async function () {
      const { registry, token, agent, slasher, treasury } = await load();
      await registry.connect(agent).requestUnstake(AGENT_ID, STAKE - 1_000n * AITBC); // leaves minStake active
      const tx = registry.connect(slasher).slash(AGENT_ID, 1_500n * AITBC, "r");
      await expect(tx)
        .to.emit(registry, "Slashed")
        .withArgs(AGENT_ID, slasher.address, 1_000n * AITBC, 500n * AITBC, treasury.address, "r");
      expect(await registry.totalStaked()).to.equal(0n);
      expect(await registry.totalPending()).to.equal(2_500n * AITBC);
      expect(await token.balanceOf(await registry.getAddress())).to.equal(2_500n * AITBC);
    });
  });

  describe("holding back the operator's withdrawal", function () {
    it("cannot be done by the agent key with repeated small requests once the operator's stake has matured", async function () {
      const { registry, token, agent, operator } = await load();
      const exit = 2_000n * AITBC;
      await registry.connect(operator).requestUnstake(AGENT_ID, exit);
      await time.increase(UNBONDING_DELAY);

      // a hostile agent key races the operator's withdraw with tiny requests that used to restart the delay
      const before = await token.balanceOf(operator.address);
      await registry.connect(agent).requestUnstake(AGENT_ID, 1n);
      expect((await token.balanceOf(operator.address)) - before).to.equal(exit); // paid by the first request
      const a = await registry.getAgent(AGENT_ID);
      // the next ones would restart the delay of what now waits: only the operator may do that
      for (let i = 0; i < 4; i++) {
        await expect(registry.connect(agent).requestUnstake(AGENT_ID, 1n))
          .to.be.revertedWithCustomError(registry, "AgentRegistryUnbondingInProgress")
          .withArgs(AGENT_ID, a.withdrawableAt);
      }
      expect(a.pendingWithdrawal).to.equal(1n); // only the agent's own request waits
      expect(a.stake).to.equal(STAKE - exit - 1n);
      expect(await token.balanceOf(await registry.getAddress())).to.equal(
        (await registry.totalStaked()) + (await registry.totalPending()),
      );
      await expect(registry.connect(operator).withdraw(AGENT_ID))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStillUnbonding")
        .withArgs(AGENT_ID, a.withdrawableAt);
      await time.increaseTo(a.withdrawableAt);
      await expect(registry.connect(operator).withdraw(AGENT_ID)).to.changeTokenBalance(ethers, token, operator, 1n);
    });

    it("pays the matured stake to the operator even when the agent key calls, never to the agent", async function () {
      const { registry, token, agent, operator } = await load();
      await registry.connect(operator).requestUnstake(AGENT_ID, 1_000n * AITBC);
      await time.increase(UNBONDING_DELAY);
      await expect(registry.connect(agent).requestUnstake(AGENT_ID, AITBC)).to.changeTokenBalances(
        ethers,
        token,
        [operator, agent],
        [1_000n * AITBC, 0n],
      );
    });
  });

  describe("re-entrancy through token hooks", function () {
    async function unbonded() {
      const f = await load();
      await f.rRegistry.connect(f.agent2).requestUnstake(AGENT_ID, R_STAKE);
      await time.increase(UNBONDING_DELAY);
      return f;
    }

    it("withdraw re-entered from the payout reverts ReentrancyGuardReentrantCall, and nothing is paid", async function () {
      const { rRegistry, rToken, agent2 } = await unbonded();
      const registryAddress = await rRegistry.getAddress();
      await rToken.arm(registryAddress, rRegistry.interface.encodeFunctionData("withdraw", [AGENT_ID]), BUBBLE);
      await expect(rRegistry.connect(agent2).withdraw(AGENT_ID)).to.be.revertedWithCustomError(
        rRegistry,
        "ReentrancyGuardReentrantCall",
      );
      expect(await rToken.balanceOf(registryAddress)).to.equal(R_STAKE);
      expect((await rRegistry.getAgent(AGENT_ID)).pendingWithdrawal).to.equal(R_STAKE);
    });

    it("pays exactly once when the failed re-entry is swallowed", async function () {
      const { rRegistry, rToken, agent2 } = await unbonded();
      const registryAddress = await rRegistry.getAddress();
      const operatorAddress = await rToken.getAddress(); // the token is the agent's operator
      await rToken.arm(registryAddress, rRegistry.interface.encodeFunctionData("withdraw", [AGENT_ID]), CATCH);
      const tx = rRegistry.connect(agent2).withdraw(AGENT_ID);
      await expect(tx).to.emit(rRegistry, "Withdrawn").withArgs(AGENT_ID, operatorAddress, R_STAKE);
      await expect(tx).to.changeTokenBalances(ethers, rToken, [operatorAddress, registryAddress], [R_STAKE, -R_STAKE]);
      expect(await rToken.reentryFailures()).to.equal(1n);
      expect(await rToken.reentrySuccesses()).to.equal(0n);
      expect(await rToken.lastRevertData()).to.equal(
        rRegistry.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []),
      );
      expect(await rRegistry.totalPending()).to.equal(0n);
      await expect(rRegistry.connect(agent2).withdraw(AGENT_ID))
        .to.be.revertedWithCustomError(rRegistry, "AgentRegistryNothingToWithdraw")
        .withArgs(AGENT_ID);
    });

    it("lets the same call from the token succeed outside a registry call (only the guard stops the re-entry)", async function () {
      const { rRegistry, rToken, agent2, outsider } = await unbonded();
      const registryAddress = await rRegistry.getAddress();
      await rToken.arm(registryAddress, rRegistry.interface.encodeFunctionData("withdraw", [AGENT_ID]), BUBBLE);
      await expect(rToken.connect(agent2).transfer(outsider.address, 1n))
        .to.emit(rRegistry, "Withdrawn")
        .withArgs(AGENT_ID, await rToken.getAddress(), R_STAKE);
    });

    it("stake re-entered from the pull reverts ReentrancyGuardReentrantCall", async function () {
      const { rRegistry, rToken, agent2 } = await load();
      await rToken.arm(await rRegistry.getAddress(), rRegistry.interface.encodeFunctionData("stake", [1n]), BUBBLE);
      await expect(rRegistry.connect(agent2).stake(AITBC)).to.be.revertedWithCustomError(
        rRegistry,
        "ReentrancyGuardReentrantCall",
      );
      expect(await rRegistry.stakeOf(AGENT_ID)).to.equal(R_STAKE);
    });

    it("withdraw re-entered from a stake pull reverts ReentrancyGuardReentrantCall (cross-function)", async function () {
      const { rRegistry, rToken, agent2 } = await load();
      await rRegistry.connect(agent2).requestUnstake(AGENT_ID, R_STAKE - R_MIN_STAKE);
      await time.increase(UNBONDING_DELAY);
      await rToken.arm(
        await rRegistry.getAddress(),
        rRegistry.interface.encodeFunctionData("withdraw", [AGENT_ID]),
        BUBBLE,
      );
      await expect(rRegistry.connect(agent2).stake(AITBC)).to.be.revertedWithCustomError(
        rRegistry,
        "ReentrancyGuardReentrantCall",
      );
      expect((await rRegistry.getAgent(AGENT_ID)).pendingWithdrawal).to.equal(R_STAKE - R_MIN_STAKE);
    });

    it("withdraw re-entered from a slash payout reverts ReentrancyGuardReentrantCall (cross-function)", async function () {
      const { rRegistry, rToken, slasher } = await unbonded();
      await rToken.arm(
        await rRegistry.getAddress(),
        rRegistry.interface.encodeFunctionData("withdraw", [AGENT_ID]),
        BUBBLE,
      );
      await expect(rRegistry.connect(slasher).slash(AGENT_ID, R_STAKE / 2n, "r")).to.be.revertedWithCustomError(
        rRegistry,
        "ReentrancyGuardReentrantCall",
      );
      expect((await rRegistry.getAgent(AGENT_ID)).pendingWithdrawal).to.equal(R_STAKE);
    });

    it("requestUnstake re-entered from a withdraw payout reverts ReentrancyGuardReentrantCall (cross-function)", async function () {
      const { rRegistry, rToken, agent2 } = await load();
      const registryAddress = await rRegistry.getAddress();
      const half = R_STAKE / 2n;
      await rRegistry.connect(agent2).requestUnstake(AGENT_ID, half);
      await time.increase(UNBONDING_DELAY);
      const reenter = rRegistry.interface.encodeFunctionData("requestUnstake", [AGENT_ID, half]);

      await rToken.arm(registryAddress, reenter, BUBBLE);
      await expect(rRegistry.connect(agent2).withdraw(AGENT_ID)).to.be.revertedWithCustomError(
        rRegistry,
        "ReentrancyGuardReentrantCall",
      );

      await rToken.arm(registryAddress, reenter, CATCH);
      await expect(rRegistry.connect(agent2).withdraw(AGENT_ID)).to.changeTokenBalance(
        ethers,
        rToken,
        registryAddress,
        -half,
      );
      expect(await rToken.reentryFailures()).to.equal(1n);
      expect(await rToken.reentrySuccesses()).to.equal(0n);
      expect(await rToken.lastRevertData()).to.equal(
        rRegistry.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []),
      );
      const a = await rRegistry.getAgent(AGENT_ID);
      expect(a.stake).to.equal(half); // the re-entrant unstake did not happen
      expect(a.pendingWithdrawal).to.equal(0n);
      expect(a.status).to.equal(STATUS.active);
      expect(await rToken.balanceOf(registryAddress)).to.equal(
        (await rRegistry.totalStaked()) + (await rRegistry.totalPending()),
      );
    });

    for (const [label, fn] of [
      ["withdraw", (registry: AgentRegistry) => registry.interface.encodeFunctionData("withdraw", [AGENT_ID])],
      [
        "requestUnstake",
        (registry: AgentRegistry) => registry.interface.encodeFunctionData("requestUnstake", [AGENT_ID, 1n]),
      ],
    ] as const) {
      it(`${label} re-entered from requestUnstake's payout of matured stake reverts ReentrancyGuardReentrantCall`, async function () {
        const { rRegistry, rToken, agent2 } = await load();
        const registryAddress = await rRegistry.getAddress();
        const matured = 400n * AITBC;
        await rRegistry.connect(agent2).requestUnstake(AGENT_ID, matured);
        await time.increase(UNBONDING_DELAY);
        await rToken.arm(registryAddress, fn(rRegistry), BUBBLE);
        await expect(rRegistry.connect(agent2).requestUnstake(AGENT_ID, 100n * AITBC)).to.be.revertedWithCustomError(
          rRegistry,
          "ReentrancyGuardReentrantCall",
        );
        const a = await rRegistry.getAgent(AGENT_ID);
        expect(a.stake).to.equal(R_STAKE - matured);
        expect(a.pendingWithdrawal).to.equal(matured);
        expect(await rToken.balanceOf(registryAddress)).to.equal(R_STAKE);
      });
    }

    it("pays matured stake exactly once from requestUnstake when the failed re-entry is swallowed", async function () {
      const { rRegistry, rToken, agent2 } = await load();
      const registryAddress = await rRegistry.getAddress();
      const operatorAddress = await rToken.getAddress(); // the token is the agent's operator
      const matured = 400n * AITBC;
      await rRegistry.connect(agent2).requestUnstake(AGENT_ID, matured);
      await time.increase(UNBONDING_DELAY);
      await rToken.arm(registryAddress, rRegistry.interface.encodeFunctionData("withdraw", [AGENT_ID]), CATCH);
      const tx = rRegistry.connect(agent2).requestUnstake(AGENT_ID, 100n * AITBC);
      await expect(tx).to.emit(rRegistry, "Withdrawn").withArgs(AGENT_ID, operatorAddress, matured);
      await expect(tx).to.changeTokenBalances(ethers, rToken, [operatorAddress, registryAddress], [matured, -matured]);
      expect(await rToken.reentryFailures()).to.equal(1n);
      expect(await rToken.reentrySuccesses()).to.equal(0n);
      const a = await rRegistry.getAgent(AGENT_ID);
      expect(a.stake).to.equal(R_STAKE - matured - 100n * AITBC);
      expect(a.pendingWithdrawal).to.equal(100n * AITBC);
      expect(await rToken.balanceOf(registryAddress)).to.equal(
        (await rRegistry.totalStaked()) + (await rRegistry.totalPending()),
      );
    });
  });
});
