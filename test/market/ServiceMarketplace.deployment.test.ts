/**
 * ServiceMarketplace: deployment and parameters. The deployment's wiring and roles, the constructor's checks,
 * and setParameters (bounds, admin only, open during a stop; the fee in force at settlement applies). The market
 * fixture and its states are in test/helpers/market.ts.
 */
import { expect } from "chai";
import { id, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import {
  CHALLENGE_WINDOW,
  expectSettles,
  loadMarket,
  MAX_BIDS,
  MAX_CHALLENGE_WINDOW,
  MAX_FEE_BPS,
  MAX_TIMEOUT_SLASH_BPS,
  MIN_CHALLENGE_WINDOW,
  PROTOCOL_FEE_BPS,
  send,
  settlementB,
  submitted,
  TIMEOUT_SLASH_BPS,
  WORKLOAD_ID,
} from "../helpers/market.js";

const { ethers } = await network.getOrCreate();

describe("ServiceMarketplace: deployment and parameters", function () {
  describe("deployment", function () {
    it("wires the protocol defaults and the roles it needs; the marketplace cannot mint (no COORDINATOR_ROLE)", async function () {
      const { marketplace, token, registry, constitution, humanOverride, deployer, market } = await loadMarket();
      expect(await marketplace.protocolFeeBps()).to.equal(PROTOCOL_FEE_BPS);
      expect(await marketplace.challengeWindow()).to.equal(CHALLENGE_WINDOW);
      expect(await marketplace.timeoutSlashBps()).to.equal(TIMEOUT_SLASH_BPS);
      expect(await marketplace.humanOverride()).to.equal(await humanOverride.getAddress());
      expect(await marketplace.constitution()).to.equal(await constitution.getAddress());
      expect(await marketplace.hasRole(ZeroHash, deployer.address)).to.equal(true);
      expect(await marketplace.MAX_BIDS()).to.equal(MAX_BIDS);
      expect(await marketplace.MIN_CHALLENGE_WINDOW()).to.equal(MIN_CHALLENGE_WINDOW);
      expect(await marketplace.MAX_CHALLENGE_WINDOW()).to.equal(MAX_CHALLENGE_WINDOW);
      expect(await marketplace.VALIDATOR_ROLE()).to.equal(id("VALIDATOR_ROLE"));
      expect(await marketplace.getRoleAdmin(id("VALIDATOR_ROLE"))).to.equal(ZeroHash);
      expect(await marketplace.hasRole(id("VALIDATOR_ROLE"), deployer.address)).to.equal(false);
      expect(await marketplace.totalEscrowed()).to.equal(0n);
      expect(await marketplace.workloadCount()).to.equal(0n);
      expect(await token.hasRole(await token.COORDINATOR_ROLE(), market)).to.equal(false);
      expect(await token.hasRole(await token.MODULE_ROLE(), market)).to.equal(true);
      expect(await registry.hasRole(await registry.SLASHER_ROLE(), market)).to.equal(true);
      expect(await registry.hasRole(await registry.REPUTATION_ROLE(), market)).to.equal(true);
      expect(await constitution.hasRole(await constitution.ENFORCER_ROLE(), market)).to.equal(true);
    });

    describe("constructor", function () {
      async function deployArgs() {
        const f = await loadMarket();
        const args = [
          f.deployer.address,
          await f.token.getAddress(),
          await f.registry.getAddress(),
          await f.humanOverride.getAddress(),
          await f.constitution.getAddress(),
          await f.inferenceVerifier.getAddress(),
          PROTOCOL_FEE_BPS,
          CHALLENGE_WINDOW,
          TIMEOUT_SLASH_BPS,
        ];
        return { f, args };
      }

      it("stores the parameters and emits ParametersSet", async function () {
        const { args } = await deployArgs();
        const marketplace = await ethers.deployContract("ServiceMarketplace", args);
        await expect(marketplace.deploymentTransaction())
          .to.emit(marketplace, "ParametersSet")
          .withArgs(PROTOCOL_FEE_BPS, CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS);
      });

      for (const [index, name] of [
        [0, "admin"],
        [1, "token"],
        [2, "registry"],
        [3, "humanOverride"],
        [4, "constitution"],
        [5, "inferenceVerifier"],
      ] as const) {
        it(`reverts MarketplaceZeroAddress when ${name} is the zero address`, async function () {
          const { f, args } = await deployArgs();
          const bad = [...args];
          bad[index] = ZeroAddress;
          await expect(ethers.deployContract("ServiceMarketplace", bad)).to.be.revertedWithCustomError(
            f.marketplace,
            "MarketplaceZeroAddress",
          );
        });
      }

      for (const [index, name, value, label] of [
        [6, "protocolFeeBps", MAX_FEE_BPS + 1n, "above its maximum"],
        [7, "challengeWindow", MAX_CHALLENGE_WINDOW + 1n, "above its maximum"],
        [7, "challengeWindow", MIN_CHALLENGE_WINDOW - 1n, "below its minimum (1 hour)"],
        [7, "challengeWindow", 0n, "zero"],
        [8, "timeoutSlashBps", MAX_TIMEOUT_SLASH_BPS + 1n, "above its maximum"],
      ] as const) {
        it(`reverts MarketplaceInvalidParameter when ${name} is ${label}`, async function () {
          const { f, args } = await deployArgs();
          const bad = [...args];
          bad[index] = value;
          await expect(ethers.deployContract("ServiceMarketplace", bad))
            .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidParameter")
            .withArgs(name, value);
        });
      }

      it("accepts a challenge window of exactly MIN_CHALLENGE_WINDOW", async function () {
        const { args } = await deployArgs();
        const ok = [...args];
        ok[7] = MIN_CHALLENGE_WINDOW;
        const marketplace = await ethers.deployContract("ServiceMarketplace", ok);
        expect(await marketplace.challengeWindow()).to.equal(MIN_CHALLENGE_WINDOW);
      });
    });
  });

  describe("setParameters", function () {
    it("sets the parameters (the maxima included) and emits ParametersSet", async function () {
      const f = await loadMarket();
      await expect(
        f.marketplace.connect(f.deployer).setParameters(MAX_FEE_BPS, MAX_CHALLENGE_WINDOW, MAX_TIMEOUT_SLASH_BPS),
      )
        .to.emit(f.marketplace, "ParametersSet")
        .withArgs(MAX_FEE_BPS, MAX_CHALLENGE_WINDOW, MAX_TIMEOUT_SLASH_BPS);
      expect(await f.marketplace.protocolFeeBps()).to.equal(MAX_FEE_BPS);
      expect(await f.marketplace.challengeWindow()).to.equal(MAX_CHALLENGE_WINDOW);
      expect(await f.marketplace.timeoutSlashBps()).to.equal(MAX_TIMEOUT_SLASH_BPS);
      await expect(f.marketplace.connect(f.deployer).setParameters(0n, MIN_CHALLENGE_WINDOW, 0n))
        .to.emit(f.marketplace, "ParametersSet")
        .withArgs(0n, MIN_CHALLENGE_WINDOW, 0n);
      expect(await f.marketplace.protocolFeeBps()).to.equal(0n);
      expect(await f.marketplace.challengeWindow()).to.equal(MIN_CHALLENGE_WINDOW);
      expect(await f.marketplace.timeoutSlashBps()).to.equal(0n);
    });

    it("the fee in force at settlement applies (10% fee)", async function () {
      const f = await submitted();
      await send(f.marketplace.connect(f.deployer).setParameters(MAX_FEE_BPS, CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS));
      await expectSettles(f, () => f.marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
    });

    it("with a zero fee the treasury gets nothing", async function () {
      const f = await submitted();
      await send(f.marketplace.connect(f.deployer).setParameters(0n, CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS));
      await expectSettles(f, () => f.marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
    });

    for (const [name, args, value] of [
      ["protocolFeeBps", [MAX_FEE_BPS + 1n, CHALLENGE_WINDOW, TIMEOUT_SLASH_BPS], MAX_FEE_BPS + 1n],
      ["challengeWindow", [PROTOCOL_FEE_BPS, MAX_CHALLENGE_WINDOW + 1n, TIMEOUT_SLASH_BPS], MAX_CHALLENGE_WINDOW + 1n],
      ["timeoutSlashBps", [PROTOCOL_FEE_BPS, CHALLENGE_WINDOW, MAX_TIMEOUT_SLASH_BPS + 1n], MAX_TIMEOUT_SLASH_BPS + 1n],
    ] as const) {
      it(`reverts MarketplaceInvalidParameter("${name}") above its maximum`, async function () {
        const f = await loadMarket();
        await expect(f.marketplace.connect(f.deployer).setParameters(...args))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidParameter")
          .withArgs(name, value);
      });
    }

    for (const value of [0n, 1n, MIN_CHALLENGE_WINDOW - 1n]) {
      it(`reverts MarketplaceInvalidParameter("challengeWindow", ${value}) below MIN_CHALLENGE_WINDOW (1 hour)`, async function () {
        const f = await loadMarket();
        await expect(f.marketplace.connect(f.deployer).setParameters(PROTOCOL_FEE_BPS, value, TIMEOUT_SLASH_BPS))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidParameter")
          .withArgs("challengeWindow", value);
        expect(await f.marketplace.challengeWindow()).to.equal(CHALLENGE_WINDOW);
      });
    }

    it("is admin only (AccessControlUnauthorizedAccount)", async function () {
      const f = await loadMarket();
      for (const who of [f.outsider, f.guardian, f.agent]) {
        await expect(f.marketplace.connect(who).setParameters(0n, CHALLENGE_WINDOW, 0n))
          .to.be.revertedWithCustomError(f.marketplace, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, ZeroHash);
      }
    });

    it("stays open during an emergency stop (a recovery function)", async function () {
      const f = await loadMarket();
      await send(f.humanOverride.connect(f.guardian).emergencyStop("test"));
      await expect(f.marketplace.connect(f.deployer).setParameters(1n, MIN_CHALLENGE_WINDOW, 3n))
        .to.emit(f.marketplace, "ParametersSet")
        .withArgs(1n, MIN_CHALLENGE_WINDOW, 3n);
    });
  });
});
