/**
 * ServiceMarketplace: bidding and award. bid (matching, capacity, the 32-bid cap), the client's award, auto-award
 * (price weighted by reputation, ties, ineligible bidders skipped) and late awards (within the award window),
 * which keep the full execution period. Unknown ids, the BID action, auto-award as upkeep and the emergency stop are in
 * ServiceMarketplace.guards.test.ts. The market fixture and its states are in test/helpers/market.ts.
 */
import { expect } from "chai";
import { id, MaxUint256, ZeroHash } from "ethers";
import { network } from "hardhat";

import { AITBC, DAY, HOUR, mintAitbc } from "../helpers/agents.js";
import {
  AGENT2_ID,
  AGENT_ID,
  AWARD_WINDOW,
  awarded,
  bidded,
  CROWD,
  crowdFixture,
  crowdService,
  expectBooks,
  expectFails,
  expectSettles,
  failureB,
  freeze,
  loadMarket,
  loadOf,
  MAX_BIDS,
  MAX_PRICE,
  nextBlockAfterBidding,
  now,
  offer,
  posted,
  PRICE_A,
  PRICE_B,
  PROPOSAL,
  PROVIDER_STAKE,
  RESULT,
  send,
  SERVICE_A,
  SERVICE_B,
  SERVICE_C,
  settlementB,
  signResult,
  statusOf,
  UNITS,
  WORKLOAD,
  WORKLOAD_ID,
  workloadRequest,
} from "../helpers/market.js";

const { networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

describe("ServiceMarketplace: bidding and award", function () {
  describe("bid", function () {
    it("accepts a bid at exactly the maximum price and at the bid deadline", async function () {
      const f = await posted();
      await time.setNextBlockTimestamp(f.request.bidDeadline);
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, MAX_PRICE, PROPOSAL))
        .to.emit(f.marketplace, "BidPlaced")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, SERVICE_A, MAX_PRICE, PROPOSAL);
    });

    it("matches only the fields the request sets: any name on modelHash-only, any model on serviceType-only", async function () {
      const f = await loadMarket();
      const { marketplace, client, agent, agent2 } = f;
      await send(marketplace.connect(agent).listService(offer(SERVICE_C, { serviceName: "other-name" })));
      await send(marketplace.connect(agent2).listService(offer(id("D"), { modelHash: id("other model") })));
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now(), { serviceType: ZeroHash })));
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now(), { modelHash: ZeroHash })));
      await send(marketplace.connect(agent).bid(1n, SERVICE_C, PRICE_A, PROPOSAL));
      await send(marketplace.connect(agent2).bid(2n, id("D"), PRICE_B, PROPOSAL));
      await expect(marketplace.connect(agent2).bid(1n, id("D"), PRICE_B, PROPOSAL))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceServiceMismatch")
        .withArgs(1n, id("D"));
      await expect(marketplace.connect(agent).bid(2n, SERVICE_C, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceServiceMismatch")
        .withArgs(2n, SERVICE_C);
    });

    it("reverts MarketplaceWrongStatus once awarded", async function () {
      const f = await awarded();
      await send(f.marketplace.connect(f.agent).listService(offer(SERVICE_C)));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_C, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.awarded);
    });

    it("reverts MarketplaceBiddingClosed after the bid deadline (past deadline)", async function () {
      const f = await posted();
      await time.setNextBlockTimestamp(f.request.bidDeadline + 1n);
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceBiddingClosed")
        .withArgs(WORKLOAD_ID, f.request.bidDeadline);
    });

    it("reverts MarketplaceNotRegistered for an unregistered account", async function () {
      const f = await posted();
      await expect(f.marketplace.connect(f.outsider).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotRegistered")
        .withArgs(f.outsider.address);
    });

    it("reverts MarketplaceNotServiceOwner for another agent's offer", async function () {
      const f = await posted();
      await expect(f.marketplace.connect(f.agent2).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotServiceOwner")
        .withArgs(SERVICE_A, AGENT2_ID);
    });

    it("reverts MarketplaceServiceNotListed for a delisted offer", async function () {
      const f = await posted();
      await send(f.marketplace.connect(f.agent).delistService(SERVICE_A));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceNotListed")
        .withArgs(SERVICE_A);
    });

    it("reverts MarketplaceAgentNotActive for a frozen agent", async function () {
      const f = await posted();
      await freeze(f, f.agent);
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(AGENT_ID);
    });

    it("reverts MarketplaceAgentNotActive for an agent that unstaked", async function () {
      const f = await posted();
      await send(f.registry.connect(f.agent).requestUnstake(AGENT_ID, PROVIDER_STAKE));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(AGENT_ID);
    });

    it("reverts MarketplaceOwnWorkload for a provider bidding on its own workload", async function () {
      const f = await posted();
      await mintAitbc(f, f.agent.address, 100n);
      await send(f.token.connect(f.agent).approve(f.market, MaxUint256));
      await send(f.marketplace.connect(f.agent).postWorkload(workloadRequest(await now())));
      await expect(f.marketplace.connect(f.agent).bid(2n, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceOwnWorkload")
        .withArgs(2n, f.agent.address);
    });

    it('reverts MarketplaceInvalidRequest("pricePerUnit") for a zero price; 1 wei is accepted', async function () {
      const f = await posted();
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, 0n, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceInvalidRequest")
        .withArgs("pricePerUnit");
      expect(await f.marketplace.getBids(WORKLOAD_ID)).to.deep.equal([]);
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, 1n, PROPOSAL))
        .to.emit(f.marketplace, "BidPlaced")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, SERVICE_A, 1n, PROPOSAL);
    });

    it("reverts MarketplaceBidAboveMax above the maximum price", async function () {
      const f = await posted();
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, MAX_PRICE + 1n, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceBidAboveMax")
        .withArgs(WORKLOAD_ID, MAX_PRICE + 1n, MAX_PRICE);
    });

    it("reverts MarketplaceServiceMismatch when the offer's serviceType differs", async function () {
      const f = await posted();
      await send(f.marketplace.connect(f.agent).listService(offer(SERVICE_C, { serviceName: "gpu-training" })));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_C, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceMismatch")
        .withArgs(WORKLOAD_ID, SERVICE_C);
    });

    it("reverts MarketplaceServiceMismatch when the offer's modelHash differs", async function () {
      const f = await posted();
      await send(f.marketplace.connect(f.agent).listService(offer(SERVICE_C, { modelHash: id("other model") })));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_C, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceMismatch")
        .withArgs(WORKLOAD_ID, SERVICE_C);
    });

    it("reverts MarketplaceCapacityExceeded when the offer's free capacity is below the units", async function () {
      const f = await posted();
      await send(f.marketplace.connect(f.agent).updateService(SERVICE_A, offer(SERVICE_A, { maxCapacity: 9n })));
      await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceCapacityExceeded")
        .withArgs(SERVICE_A, UNITS, 9n);
    });

    it("reverts MarketplaceCapacityExceeded when awarded load leaves too little", async function () {
      const f = await awarded();
      await send(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 15n })));
      await send(f.marketplace.connect(f.client).postWorkload(workloadRequest(await now())));
      await expect(f.marketplace.connect(f.agent2).bid(2n, SERVICE_B, PRICE_B, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceCapacityExceeded")
        .withArgs(SERVICE_B, UNITS, 5n);
    });

    it("reverts MarketplaceAlreadyBid for a second bid by the same agent, even with another offer", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent).listService(offer(SERVICE_C)));
      for (const serviceId of [SERVICE_A, SERVICE_C]) {
        await expect(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, serviceId, PRICE_A - 1n, PROPOSAL))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAlreadyBid")
          .withArgs(WORKLOAD_ID, AGENT_ID);
      }
    });

    it("reverts MarketplaceTooManyBids for a 33rd bid no cheaper than the dearest; auto-award still runs over the 32", async function () {
      const f = await networkHelpers.loadFixture(crowdFixture);
      const last = f.crowd[CROWD - 1];
      if (!last) throw new Error("missing wallet");
      expect((await f.marketplace.getBids(WORKLOAD_ID)).length).to.equal(Number(MAX_BIDS));
      await expect(f.marketplace.connect(last).bid(WORKLOAD_ID, crowdService(CROWD - 1), MAX_PRICE, PROPOSAL))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceTooManyBids")
        .withArgs(WORKLOAD_ID, MAX_BIDS);
      const executionDeadline = await nextBlockAfterBidding(f);
      const lastBid = MAX_BIDS - 1n;
      const crowdId = await f.registry.agentIdOf((f.crowd[Number(lastBid)] ?? last).address);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, crowdId, lastBid, MAX_PRICE - lastBid, executionDeadline, true);
    });
  });

  describe("award", function () {
    it("the client may award after the bid deadline while the workload is open (the provider keeps the full period)", async function () {
      const f = await bidded();
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, false);
      expect(executionDeadline).to.equal(f.request.executionDeadline + 1n);
    });

    it("reverts MarketplaceServiceNotListed when the chosen bid's offer was delisted since; another bid can still win", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent2).delistService(SERVICE_B));
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceNotListed")
        .withArgs(SERVICE_B);
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.open);
      expect(await loadOf(f, SERVICE_B)).to.equal(0n);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, f.request.executionDeadline, false);
      await expectBooks(f);
    });

    it("checks the listing before the bidder's status (a delisted offer of a frozen bidder: MarketplaceServiceNotListed)", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent2).delistService(SERVICE_B));
      await freeze(f, f.agent2);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceNotListed")
        .withArgs(SERVICE_B);
    });

    it("reverts MarketplaceNotClient for anyone but the client (a bidder included)", async function () {
      const f = await bidded();
      for (const who of [f.agent2, f.outsider, f.guardian]) {
        await expect(f.marketplace.connect(who).award(WORKLOAD_ID, 1n, AGENT2_ID))
          .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNotClient")
          .withArgs(WORKLOAD_ID, who.address);
      }
    });

    it("reverts MarketplaceWrongStatus once awarded", async function () {
      const f = await awarded();
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.awarded);
    });

    it("reverts MarketplaceBidReplaced when the bid at the index is not the named provider's; the workload stays open", async function () {
      const f = await bidded();
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceBidReplaced")
        .withArgs(WORKLOAD_ID, 1n, AGENT_ID, AGENT2_ID);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, 0n))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceBidReplaced")
        .withArgs(WORKLOAD_ID, 0n, 0n, AGENT_ID);
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.open);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, f.request.executionDeadline, false);
    });

    it("reverts MarketplaceUnknownBid past the last bid index", async function () {
      const f = await bidded();
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 2n, AGENT_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceUnknownBid")
        .withArgs(WORKLOAD_ID, 2n);
      const g = await posted();
      await expect(g.marketplace.connect(g.client).award(WORKLOAD_ID, 0n, AGENT_ID))
        .to.be.revertedWithCustomError(g.marketplace, "MarketplaceUnknownBid")
        .withArgs(WORKLOAD_ID, 0n);
    });

    it("reverts MarketplaceAgentNotActive when the bidder was frozen or unstaked since", async function () {
      const f = await bidded();
      await freeze(f, f.agent2);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(AGENT2_ID);
      await send(f.registry.connect(f.agent).requestUnstake(AGENT_ID, PROVIDER_STAKE));
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAgentNotActive")
        .withArgs(AGENT_ID);
    });

    it("reverts MarketplaceCapacityExceeded when the bidder's offer no longer has room", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 5n })));
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceCapacityExceeded")
        .withArgs(SERVICE_B, UNITS, 5n);
    });
  });

  describe("autoAward", function () {
    it("picks the lowest price at equal reputation", async function () {
      const f = await bidded();
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, executionDeadline, true);
    });

    it("weights price by reputation: a dearer bid from a better-rated provider wins", async function () {
      const f = await bidded();
      const { marketplace, registry, reputer } = f;
      // agent: 8 × (2000 − 1000) = 8,000; agent2: 6 × (2000 − 0) = 12,000.
      await send(registry.connect(reputer).updateReputation(AGENT_ID, 500n, "test"));
      await send(registry.connect(reputer).updateReputation(AGENT2_ID, -500n, "test"));
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(marketplace.autoAward(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
      expect(await loadOf(f, SERVICE_A)).to.equal(UNITS);
    });

    it("breaks an exact price tie in favour of the earlier bid", async function () {
      const f = await posted();
      const { marketplace, agent, agent2 } = f;
      await send(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, PRICE_B, PROPOSAL));
      await send(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_B, PROPOSAL));
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(marketplace.autoAward(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 0n, PRICE_B, executionDeadline, true);
    });

    it("breaks a tie of weighted scores in favour of the earlier bid, whichever provider that is", async function () {
      // agent: 6 × (2000 − 1000) = 6,000; agent2: 4 × (2000 − 500) = 6,000.
      for (const agentFirst of [true, false]) {
        const f = await posted();
        const { marketplace, registry, reputer, agent, agent2 } = f;
        await send(registry.connect(reputer).updateReputation(AGENT_ID, 500n, "test"));
        const bidA = () => send(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_A, 6n * AITBC, PROPOSAL));
        const bidB = () => send(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_B, 4n * AITBC, PROPOSAL));
        if (agentFirst) {
          await bidA();
          await bidB();
        } else {
          await bidB();
          await bidA();
        }
        const executionDeadline = await nextBlockAfterBidding(f);
        const [winner, price] = agentFirst ? [AGENT_ID, 6n * AITBC] : [AGENT2_ID, 4n * AITBC];
        await expect(marketplace.autoAward(WORKLOAD_ID))
          .to.emit(marketplace, "WorkloadAwarded")
          .withArgs(WORKLOAD_ID, winner, 0n, price, executionDeadline, true);
      }
    });

    it("skips a frozen bidder", async function () {
      const f = await bidded();
      await freeze(f, f.agent2);
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("skips a bidder that unstaked (exiting)", async function () {
      const f = await bidded();
      await send(f.registry.connect(f.agent2).requestUnstake(AGENT2_ID, PROVIDER_STAKE));
      expect(await f.registry.isActive(AGENT2_ID)).to.equal(false);
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("skips a bidder whose stake was slashed below the requirement", async function () {
      const f = await bidded();
      await send(f.registry.connect(f.deployer).grantRole(await f.registry.SLASHER_ROLE(), f.deployer.address));
      await send(f.registry.connect(f.deployer).slash(AGENT2_ID, 101n * AITBC, "test"));
      expect(await f.registry.isActive(AGENT2_ID)).to.equal(false);
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("skips a bidder whose offer lost its capacity (taken by another award)", async function () {
      const f = await bidded();
      const { marketplace, client, agent2 } = f;
      // agent2's offer: 15 units; another workload of 10 units awarded to it leaves 5 free.
      await send(marketplace.connect(agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 15n })));
      await send(marketplace.connect(client).postWorkload(workloadRequest(await now())));
      await send(marketplace.connect(agent2).bid(2n, SERVICE_B, PRICE_B, PROPOSAL));
      await send(marketplace.connect(client).award(2n, 0n, AGENT2_ID));
      expect(await loadOf(f, SERVICE_B)).to.equal(10n);
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(marketplace.autoAward(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("skips a bidder whose offer was cut below the units", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 9n })));
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("skips a bidder whose offer was delisted", async function () {
      const f = await bidded();
      await send(f.marketplace.connect(f.agent2).delistService(SERVICE_B));
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, executionDeadline, true);
    });

    it("reverts MarketplaceNoEligibleBid without bids", async function () {
      const f = await posted();
      await time.increaseTo(f.request.bidDeadline + 1n);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNoEligibleBid")
        .withArgs(WORKLOAD_ID);
    });

    it("reverts MarketplaceNoEligibleBid when every bidder is ineligible (frozen, unstaked, no capacity)", async function () {
      const f = await bidded();
      await freeze(f, f.agent);
      await send(f.marketplace.connect(f.agent2).updateService(SERVICE_B, offer(SERVICE_B, { maxCapacity: 1n })));
      await time.increaseTo(f.request.bidDeadline + 1n);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNoEligibleBid")
        .withArgs(WORKLOAD_ID);
      await send(f.humanOverride.connect(f.guardian).unfreeze(f.agent.address));
      await send(f.registry.connect(f.agent).requestUnstake(AGENT_ID, PROVIDER_STAKE));
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNoEligibleBid")
        .withArgs(WORKLOAD_ID);
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.open);
    });
  });

  describe("autoAward reverts", function () {
    it("reverts MarketplaceBiddingOpen until the bid deadline has passed", async function () {
      const f = await bidded();
      await time.setNextBlockTimestamp(f.request.bidDeadline);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceBiddingOpen")
        .withArgs(WORKLOAD_ID, f.request.bidDeadline);
    });

    it("reverts MarketplaceWrongStatus once awarded", async function () {
      const f = await awarded();
      await time.increaseTo(f.request.bidDeadline + 1n);
      await expect(f.marketplace.autoAward(WORKLOAD_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
        .withArgs(WORKLOAD_ID, WORKLOAD.awarded);
    });
  });

  describe("late award", function () {
    // An award after the execution deadline needs an execution period shorter than the award window (a day after
    // the bid deadline): these workloads have 6 hours to execute.
    const SHORT_PERIOD = 6n * HOUR;
    const shortExecution = (postedAt: bigint) => ({
      bidDeadline: postedAt + HOUR,
      executionDeadline: postedAt + HOUR + SHORT_PERIOD,
    });

    it("a client award after the execution deadline leaves the full execution period: claimTimeout right after reverts MarketplaceDeadlineNotPassed", async function () {
      const f = await bidded(shortExecution);
      const { marketplace, client, outsider, request } = f;
      const awardedAt = request.executionDeadline + 5n * HOUR;
      expect(awardedAt <= request.bidDeadline + AWARD_WINDOW).to.equal(true);
      // The execution period is executionDeadline − bidDeadline at posting: 6 hours.
      const deadline = awardedAt + SHORT_PERIOD;
      await time.setNextBlockTimestamp(awardedAt);
      await expect(marketplace.connect(client).award(WORKLOAD_ID, 1n, AGENT2_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, deadline, false);
      const w = await marketplace.getWorkload(WORKLOAD_ID);
      expect(w.executionDeadline).to.equal(deadline);
      expect(w.executionPeriod).to.equal(SHORT_PERIOD);
      expect(w.bidDeadline).to.equal(request.bidDeadline);
      await expect(marketplace.connect(outsider).claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, deadline);
      await time.setNextBlockTimestamp(deadline);
      await expect(marketplace.connect(outsider).claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, deadline);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expectFails(f, () => marketplace.connect(outsider).claimTimeout(WORKLOAD_ID), failureB(f, false));
    });

    it("an auto-award after the execution deadline leaves the full execution period: the result is accepted at the new deadline", async function () {
      const f = await bidded(shortExecution);
      const { marketplace, agent2, outsider, request } = f;
      const awardedAt = request.executionDeadline + 1n;
      const deadline = awardedAt + SHORT_PERIOD;
      await time.setNextBlockTimestamp(awardedAt);
      await expect(marketplace.connect(outsider).autoAward(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, deadline, true);
      await expect(marketplace.connect(outsider).claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, deadline);
      const signature = await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT);
      await time.setNextBlockTimestamp(deadline);
      await expect(marketplace.connect(agent2).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.emit(marketplace, "ResultSubmitted")
        .withArgs(WORKLOAD_ID, AGENT2_ID, RESULT);
      await expectSettles(f, () => marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
    });

    for (const [label, offset] of [
      ["at the bid deadline keeps the posted execution deadline", 0n],
      ["one second after the bid deadline moves it one second on", 1n],
      ["an hour before the execution deadline moves it to award time + the period", DAY - HOUR],
      ["at the end of the award window (the execution deadline here) moves it a day on", AWARD_WINDOW],
    ] as const) {
      it(`an award ${label}`, async function () {
        const f = await bidded();
        const awardedAt = f.request.bidDeadline + offset;
        const deadline = awardedAt + DAY;
        expect(deadline >= f.request.executionDeadline).to.equal(true);
        await time.setNextBlockTimestamp(awardedAt);
        await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID))
          .to.emit(f.marketplace, "WorkloadAwarded")
          .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, deadline, false);
        expect((await f.marketplace.getWorkload(WORKLOAD_ID)).executionDeadline).to.equal(deadline);
      });
    }

    it("a reopened workload keeps its execution period: a late award in round 1 also gets the full period", async function () {
      const f = await awarded((postedAt) => ({ ...shortExecution(postedAt), reopenOnTimeout: true }));
      const { marketplace, agent, client, request } = f;
      await time.increaseTo(request.executionDeadline + 1n);
      await send(marketplace.claimTimeout(WORKLOAD_ID));
      await send(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL));
      const reopened = await marketplace.getWorkload(WORKLOAD_ID);
      expect(reopened.executionPeriod).to.equal(SHORT_PERIOD);
      const awardedAt = reopened.executionDeadline + 10n;
      await time.setNextBlockTimestamp(awardedAt);
      await expect(marketplace.connect(client).award(WORKLOAD_ID, 0n, AGENT_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, awardedAt + SHORT_PERIOD, false);
      await expect(marketplace.claimTimeout(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceDeadlineNotPassed")
        .withArgs(WORKLOAD_ID, awardedAt + SHORT_PERIOD);
    });
  });
});
