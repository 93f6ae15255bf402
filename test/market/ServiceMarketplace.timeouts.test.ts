/**
 * ServiceMarketplace: timeouts. claimTimeout after the execution deadline: a slash on the escrowed value (capped
 * by the registry), a refund or a reopened round. Unknown ids, claimTimeout as upkeep and the emergency stop
 * (with the grace period after a resume) are in ServiceMarketplace.guards.test.ts. The market fixture and its
 * states are in test/helpers/market.ts.
 */
import { expect } from "chai";
import { ZeroHash } from "ethers";
import { network } from "hardhat";

import { AITBC } from "../helpers/agents.js";
import {
  AGENT2_ID,
  AGENT_ID,
  awarded,
  CHALLENGE_WINDOW,
  disputed,
  ESCROW,
  expectBooks,
  expectFails,
  expectSettles,
  failureB,
  MAX_PRICE,
  posted,
  PRICE_A,
  PROPOSAL,
  PROTOCOL_FEE_BPS,
  reopenAwarded,
  RESULT,
  send,
  settlementB,
  SERVICE_A,
  SERVICE_B,
  signResult,
  SLASH,
  slashOf,
  submitted,
  UNITS,
  WORKLOAD,
  WORKLOAD_ID,
} from "../helpers/market.js";

const { networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

describe("ServiceMarketplace: timeouts", function () {
  describe("timeouts", function () {
    it("claimTimeout after the deadline slashes and refunds (reopenOnTimeout false); anyone may call", async function () {
      const f = await awarded();
      const { marketplace, outsider, request } = f;
      await time.setNextBlockTimestamp(request.executionDeadline);
      await expect(marketplace.connect(outsider).claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, request.executionDeadline);
      await time.setNextBlockTimestamp(request.executionDeadline + 1n);
      await expectFails(f, () => marketplace.connect(outsider).claimTimeout(WORKLOAD_ID), failureB(f, false));
      expect(await marketplace.totalEscrowed()).to.equal(0n);
      expect(await f.registry.reputationOf(AGENT2_ID)).to.equal(450n);
    });

    it("claimTimeout reopens (reopenOnTimeout true): round 1, new deadlines, old bids gone; a new bid and award settle; the old round's signature is rejected", async function () {
      const f = await reopenAwarded();
      const { marketplace, agent, agent2, client, request } = f;
      // agent2 signed a result for round 0 but never submitted it in time.
      const oldSignature = await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT);
      const before = await marketplace.getWorkload(WORKLOAD_ID);
      const claimedAt = request.executionDeadline + 100n;
      await time.setNextBlockTimestamp(claimedAt);
      await expectFails(f, () => marketplace.connect(client).claimTimeout(WORKLOAD_ID), failureB(f, true));

      const reopened = await marketplace.getWorkload(WORKLOAD_ID);
      expect(reopened.status).to.equal(WORKLOAD.open);
      expect(reopened.round).to.equal(1n);
      expect(reopened.bidDeadline).to.equal(claimedAt + before.biddingPeriod);
      expect(reopened.executionDeadline).to.equal(claimedAt + before.biddingPeriod + before.executionPeriod);
      expect(reopened.providerId).to.equal(0n);
      expect(reopened.serviceId).to.equal(ZeroHash);
      expect(reopened.pricePerUnit).to.equal(0n);
      expect(reopened.submittedAt).to.equal(0n);
      expect(reopened.challengeWindow).to.equal(0n);
      expect(await marketplace.getBids(WORKLOAD_ID)).to.deep.equal([]);
      expect(await marketplace.totalEscrowed()).to.equal(ESCROW);
      await expectBooks(f);
      // The old bid indexes are gone.
      await expect(marketplace.connect(client).award(WORKLOAD_ID, 0n, AGENT2_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceUnknownBid")
        .withArgs(WORKLOAD_ID, 0n);

      // Both providers bid again (agent2 kept enough stake to stay active); the client re-awards agent2.
      expect(await f.registry.isActive(AGENT2_ID)).to.equal(true);
      await expect(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, 7n * AITBC, PROPOSAL))
        .to.emit(marketplace, "BidPlaced")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 0n, SERVICE_B, 7n * AITBC, PROPOSAL);
      await send(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL));
      expect((await marketplace.getBids(WORKLOAD_ID)).length).to.equal(2);
      await expect(marketplace.connect(client).award(WORKLOAD_ID, 0n, AGENT2_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 0n, 7n * AITBC, reopened.executionDeadline, false);
      await expectBooks(f);

      // The round-0 signature does not carry over; a round-1 signature does.
      await expect(marketplace.connect(agent2).submitResult(WORKLOAD_ID, RESULT, oldSignature))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceInvalidResultSignature")
        .withArgs(WORKLOAD_ID);
      const newSignature = await signResult(agent2, marketplace, WORKLOAD_ID, 1n, RESULT);
      await send(marketplace.connect(agent2).submitResult(WORKLOAD_ID, RESULT, newSignature));
      await expectBooks(f);
      await expectSettles(f, () => marketplace.connect(client).accept(WORKLOAD_ID), {
        ...settlementB(f),
        price: 7n * AITBC,
      });
      expect(await f.registry.reputationOf(AGENT2_ID)).to.equal(460n);
      expect(await marketplace.totalEscrowed()).to.equal(0n);
    });

    it("a reopened workload can time out again and reopen to round 2 (the slash is on the escrow again)", async function () {
      const f = await reopenAwarded();
      const { marketplace, agent, client, request } = f;
      await time.increaseTo(request.executionDeadline + 1n);
      await send(marketplace.claimTimeout(WORKLOAD_ID));
      await send(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL));
      await send(marketplace.connect(client).award(WORKLOAD_ID, 0n, AGENT_ID));
      await time.increaseTo((await marketplace.getWorkload(WORKLOAD_ID)).executionDeadline + 1n);
      await expectFails(f, () => marketplace.claimTimeout(WORKLOAD_ID), {
        ...failureB(f, true, SLASH),
        providerId: AGENT_ID,
        serviceId: SERVICE_A,
      });
      expect((await marketplace.getWorkload(WORKLOAD_ID)).round).to.equal(2n);
    });

    it("with timeoutSlashBps 0 a timeout slashes nothing but still costs reputation", async function () {
      const f = await awarded();
      await send(f.marketplace.connect(f.deployer).setParameters(PROTOCOL_FEE_BPS, CHALLENGE_WINDOW, 0n));
      await time.increaseTo(f.request.executionDeadline + 1n);
      await expectFails(f, () => f.marketplace.claimTimeout(WORKLOAD_ID), failureB(f, false, 0n));
    });

    for (const [label, units, maxPrice, price, slash] of [
      ["a 1-wei bid still loses 10% of the escrow", UNITS, MAX_PRICE, 1n, 10n * AITBC],
      ["a bid at the maximum price", UNITS, MAX_PRICE, MAX_PRICE, 10n * AITBC],
      ["rounded down: 3 units at most 333 wei, 99.9 wei → 99 wei", 3n, 333n, 1n, 99n],
    ] as const) {
      it(`slashes timeoutSlashBps × units × maxPricePerUnit / 10000, not the bid price: ${label}`, async function () {
        const f = await posted({ units, maxPricePerUnit: maxPrice });
        await send(f.marketplace.connect(f.agent2).bid(WORKLOAD_ID, SERVICE_B, price, PROPOSAL));
        await send(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT2_ID));
        await time.increaseTo(f.request.executionDeadline + 1n);
        expect(slashOf(units, maxPrice)).to.equal(slash);
        await expectFails(f, () => f.marketplace.claimTimeout(WORKLOAD_ID), {
          ...failureB(f, false, slash),
          units,
          escrow: units * maxPrice,
        });
      });
    }

    it("the escrow-based slash is still capped by the registry's maxSlash (1,000 units at most 10 AITBC, a 1-wei bid)", async function () {
      const f = await posted({ units: 1_000n });
      await send(f.marketplace.connect(f.agent2).bid(WORKLOAD_ID, SERVICE_B, 1n, PROPOSAL));
      await send(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT2_ID));
      await time.increaseTo(f.request.executionDeadline + 1n);
      const { maxSlash } = await f.registry.summaryOf(AGENT2_ID);
      // 10% of 10,000 AITBC escrowed = 1,000 AITBC > 600 AITBC (half the stake).
      expect(slashOf(1_000n, MAX_PRICE) > maxSlash).to.equal(true);
      await expectFails(f, () => f.marketplace.claimTimeout(WORKLOAD_ID), {
        ...failureB(f, false, maxSlash),
        units: 1_000n,
        escrow: 1_000n * MAX_PRICE,
      });
    });
  });

  describe("claimTimeout", function () {
    it("reverts MarketplaceWrongStatus unless awarded (open, submitted, disputed)", async function () {
      for (const [fixture, status] of [
        [posted, WORKLOAD.open],
        [submitted, WORKLOAD.submitted],
        [disputed, WORKLOAD.disputed],
      ] as const) {
        const f = await fixture();
        await time.increaseTo(f.request.executionDeadline + 1n);
        await expect(f.marketplace.claimTimeout(WORKLOAD_ID))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
          .withArgs(WORKLOAD_ID, status);
      }
    });

    it("reverts MarketplaceDeadlineNotPassed before the execution deadline", async function () {
      const f = await awarded();
      await expect(f.marketplace.claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, f.request.executionDeadline);
    });
  });
});
