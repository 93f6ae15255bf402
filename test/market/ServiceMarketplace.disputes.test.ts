/**
 * ServiceMarketplace: disputes. reject within the challenge window, and resolveDispute by a validator agent
 * admitted by the admin or by a guardian: for the provider (settles) or the client (refund, slash, reputation
 * penalty, checked by expectFails in test/helpers/market.ts). Unknown ids, the RESOLVE_DISPUTE action and the
 * emergency stop are in ServiceMarketplace.guards.test.ts.
 */
import { expect } from "chai";
import { id, MaxUint256, ZeroHash } from "ethers";
import { network } from "hardhat";

import { AGENT_TYPE, AITBC, mintAitbc, registerAndStake } from "../helpers/agents.js";
import {
  AGENT2_ID,
  awarded,
  CHALLENGE_WINDOW,
  disputed,
  escrowOf,
  expectBooks,
  expectFails,
  expectSettles,
  failureB,
  freeze,
  IDLE_VALIDATOR_ID,
  loadMarket,
  loadOf,
  now,
  PRICE_B,
  PROPOSAL,
  PROTOCOL_FEE_BPS,
  PROVIDER_STAKE,
  PROVIDER_VOLUME,
  RESULT,
  send,
  SERVICE_B,
  settlementB,
  signResult,
  SLASH,
  statusOf,
  submitted,
  UNITS,
  WORKLOAD,
  WORKLOAD_ID,
  workloadRequest,
} from "../helpers/market.js";

const { networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

describe("ServiceMarketplace: disputes", function () {
  describe("disputes", function () {
    it("reject within the window opens a dispute (at the window's last second)", async function () {
      const f = await submitted();
      const { submittedAt } = await f.marketplace.getWorkload(WORKLOAD_ID);
      await time.setNextBlockTimestamp(submittedAt + CHALLENGE_WINDOW);
      const reason = id("wrong output");
      await expect(f.marketplace.connect(f.client).reject(WORKLOAD_ID, reason))
        .to.emit(f.marketplace, "ResultRejected")
        .withArgs(WORKLOAD_ID, reason);
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.disputed);
      expect(await loadOf(f, SERVICE_B)).to.equal(UNITS);
      await expectBooks(f);
    });

    it("a validator agent resolves for the provider: the workload settles", async function () {
      const f = await disputed();
      const { tx } = await expectSettles(
        f,
        () => f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, true),
        settlementB(f),
      );
      await expect(tx).to.emit(f.marketplace, "DisputeResolved").withArgs(WORKLOAD_ID, f.validator.address, true);
      expect((await f.constitution.usageOf(f.validator.address)).gas > 0n).to.equal(true);
    });

    it("a validator agent resolves for the client: refund, slash of 10% of the escrowed value to the treasury, −50 reputation", async function () {
      const f = await disputed();
      const { tx } = await expectFails(
        f,
        () => f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, false),
        failureB(f, false),
      );
      await expect(tx).to.emit(f.marketplace, "DisputeResolved").withArgs(WORKLOAD_ID, f.validator.address, false);
      expect(await f.registry.reputationOf(AGENT2_ID)).to.equal(450n);
      // 10% of units × maxPricePerUnit = 10 AITBC (10% of the 60 AITBC bid would be 6).
      expect(SLASH).to.equal(10n * AITBC);
      expect(await f.registry.stakeOf(AGENT2_ID)).to.equal(PROVIDER_STAKE - 10n * AITBC);
      expect(await f.marketplace.totalEscrowed()).to.equal(0n);
    });

    it("a guardian resolves for the client", async function () {
      const f = await disputed();
      const { tx } = await expectFails(
        f,
        () => f.marketplace.connect(f.guardian).resolveDispute(WORKLOAD_ID, false),
        failureB(f, false),
      );
      await expect(tx).to.emit(f.marketplace, "DisputeResolved").withArgs(WORKLOAD_ID, f.guardian.address, false);
    });

    it("a guardian resolves for the provider", async function () {
      const f = await disputed();
      const { tx } = await expectSettles(
        f,
        () => f.marketplace.connect(f.guardian).resolveDispute(WORKLOAD_ID, true),
        settlementB(f),
      );
      await expect(tx).to.emit(f.marketplace, "DisputeResolved").withArgs(WORKLOAD_ID, f.guardian.address, true);
    });

    it("caps the slash at the registry's maximum (half the provider's stake)", async function () {
      const f = await loadMarket();
      const { marketplace, deployer, client, agent2 } = f;
      await send(marketplace.connect(deployer).setParameters(PROTOCOL_FEE_BPS, CHALLENGE_WINDOW, 10_000n));
      // 500 units at most 10 AITBC: 5,000 AITBC escrowed, 100% of it is far above half of 1,200 AITBC of stake.
      const request = workloadRequest(await now(), { units: 500n });
      await send(marketplace.connect(client).postWorkload(request));
      await send(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, PRICE_B, PROPOSAL));
      await send(marketplace.connect(client).award(WORKLOAD_ID, 0n, AGENT2_ID));
      await send(
        marketplace
          .connect(agent2)
          .submitResult(WORKLOAD_ID, RESULT, await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT)),
      );
      await send(marketplace.connect(client).reject(WORKLOAD_ID, ZeroHash));
      const { maxSlash } = await f.registry.summaryOf(AGENT2_ID);
      expect(maxSlash).to.equal(PROVIDER_STAKE / 2n);
      await expectFails(f, () => marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, false), {
        ...failureB(f, false, maxSlash),
        units: 500n,
        escrow: escrowOf(request),
      });
      expect(await f.registry.isActive(AGENT2_ID)).to.equal(false);
    });
  });

  describe("reject", function () {
    it("reverts MarketplaceNotClient for anyone but the client", async function () {
      const f = await submitted();
      for (const who of [f.agent, f.outsider, f.validator, f.guardian]) {
        await expect(f.marketplace.connect(who).reject(WORKLOAD_ID, ZeroHash))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotClient")
          .withArgs(WORKLOAD_ID, who.address);
      }
    });

    it("reverts MarketplaceWrongStatus before submission and when disputed already", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.client).reject(WORKLOAD_ID, ZeroHash))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.awarded);
      const g = await disputed();
      await expect(g.marketplace.connect(g.client).reject(WORKLOAD_ID, ZeroHash))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.disputed);
    });

    it("reverts MarketplaceChallengeWindowClosed after the window", async function () {
      const f = await submitted();
      const { submittedAt } = await f.marketplace.getWorkload(WORKLOAD_ID);
      await time.setNextBlockTimestamp(submittedAt + CHALLENGE_WINDOW + 1n);
      await expect(f.marketplace.connect(f.client).reject(WORKLOAD_ID, ZeroHash))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceChallengeWindowClosed")
        .withArgs(WORKLOAD_ID, submittedAt + CHALLENGE_WINDOW);
    });
  });

  describe("resolveDispute", function () {
    it("reverts MarketplaceWrongStatus unless disputed", async function () {
      const f = await submitted();
      await expect(f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, true))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.submitted);
      const g = await disputed();
      await send(g.marketplace.connect(g.validator).resolveDispute(WORKLOAD_ID, false));
      await expect(g.marketplace.connect(g.guardian).resolveDispute(WORKLOAD_ID, true))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.refunded);
    });

    it("reverts MarketplaceNotResolver, even with VALIDATOR_ROLE, for the provider, the client, an inactive validator, a non-validator agent and an outsider", async function () {
      const f = await disputed();
      expect(await f.registry.isActive(IDLE_VALIDATOR_ID)).to.equal(false);
      const refused = [f.agent2, f.client, f.idleValidator, f.agent, f.outsider, f.operator];
      for (const who of refused) {
        if (!(await f.marketplace.hasRole(f.validatorRole, who.address))) {
          await send(f.marketplace.connect(f.deployer).grantRole(f.validatorRole, who.address));
        }
      }
      for (const who of refused) {
        expect(await f.marketplace.hasRole(f.validatorRole, who.address)).to.equal(true);
        await expect(f.marketplace.connect(who).resolveDispute(WORKLOAD_ID, who === f.agent2))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotResolver")
          .withArgs(WORKLOAD_ID, who.address);
      }
    });

    it("reverts MarketplaceNotResolver for an active validator agent without VALIDATOR_ROLE; once the admin grants it, it resolves", async function () {
      const f = await disputed();
      const { marketplace, registry, deployer, operator, validatorRole } = f;
      const fresh = f.clientAgent;
      const freshId = await registerAndStake(f, fresh, operator, PROVIDER_STAKE, {
        expectedDailyVolume: PROVIDER_VOLUME,
        agentType: AGENT_TYPE.validator,
      });
      const summary = await registry.summaryOf(freshId);
      expect(summary.active).to.equal(true);
      expect(summary.agentType).to.equal(AGENT_TYPE.validator);
      expect(await marketplace.hasRole(validatorRole, fresh.address)).to.equal(false);
      for (const providerWins of [true, false]) {
        await expect(marketplace.connect(fresh).resolveDispute(WORKLOAD_ID, providerWins))
          .to.be.revertedWithCustomError(marketplace, "MarketplaceNotResolver")
          .withArgs(WORKLOAD_ID, fresh.address);
      }
      await expect(marketplace.connect(deployer).grantRole(validatorRole, fresh.address))
        .to.emit(marketplace, "RoleGranted")
        .withArgs(validatorRole, fresh.address, deployer.address);
      const { tx } = await expectFails(
        f,
        () => marketplace.connect(fresh).resolveDispute(WORKLOAD_ID, false),
        failureB(f, false),
      );
      await expect(tx).to.emit(marketplace, "DisputeResolved").withArgs(WORKLOAD_ID, fresh.address, false);
    });

    it("reverts MarketplaceNotResolver for a validator whose VALIDATOR_ROLE was revoked; a guardian needs no such role", async function () {
      const f = await disputed();
      const { marketplace, deployer, validator, guardian, validatorRole } = f;
      await send(marketplace.connect(deployer).revokeRole(validatorRole, validator.address));
      await expect(marketplace.connect(validator).resolveDispute(WORKLOAD_ID, true))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceNotResolver")
        .withArgs(WORKLOAD_ID, validator.address);
      expect(await marketplace.hasRole(validatorRole, guardian.address)).to.equal(false);
      await expectSettles(f, () => marketplace.connect(guardian).resolveDispute(WORKLOAD_ID, true), settlementB(f));
    });

    it("only the admin admits validators (AccessControlUnauthorizedAccount for a validator, a guardian, an outsider)", async function () {
      const f = await loadMarket();
      for (const who of [f.validator, f.guardian, f.outsider]) {
        await expect(f.marketplace.connect(who).grantRole(f.validatorRole, f.clientAgent.address))
          .to.be.revertedWithCustomError(f.marketplace, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, ZeroHash);
      }
    });

    it("reverts MarketplaceNotResolver for a frozen validator", async function () {
      const f = await disputed();
      await freeze(f, f.validator);
      await expect(f.marketplace.connect(f.validator).resolveDispute(WORKLOAD_ID, false))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotResolver")
        .withArgs(WORKLOAD_ID, f.validator.address);
    });

    it("reverts MarketplaceNotResolver for a validator agent that is the workload's client", async function () {
      const f = await loadMarket();
      const { marketplace, validator, agent2 } = f;
      await mintAitbc(f, validator.address, 100n);
      await send(f.token.connect(validator).approve(f.market, MaxUint256));
      await send(marketplace.connect(validator).postWorkload(workloadRequest(await now())));
      await send(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, PRICE_B, PROPOSAL));
      await send(marketplace.connect(validator).award(WORKLOAD_ID, 0n, AGENT2_ID));
      await send(
        marketplace
          .connect(agent2)
          .submitResult(WORKLOAD_ID, RESULT, await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT)),
      );
      await send(marketplace.connect(validator).reject(WORKLOAD_ID, ZeroHash));
      await expect(marketplace.connect(validator).resolveDispute(WORKLOAD_ID, false))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceNotResolver")
        .withArgs(WORKLOAD_ID, validator.address);
    });
  });
});
