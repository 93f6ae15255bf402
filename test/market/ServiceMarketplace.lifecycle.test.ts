/**
 * ServiceMarketplace: whole lifecycles. List, post (with an allowance or an EIP-2612 permit), bid, award (by the
 * client or auto-award), submit, accept or finalize, or cancel; the books are checked at every step. The market
 * fixture and its states are in test/helpers/market.ts.
 */
import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";

import { AITBC, DAY, HOUR } from "../helpers/agents.js";
import {
  AGENT2_ID,
  AGENT_ID,
  awarded,
  bidded,
  CHALLENGE_WINDOW,
  ESCROW,
  escrowOf,
  expectBooks,
  expectSettles,
  loadMarket,
  loadOf,
  MAX_PRICE,
  MODEL_HASH,
  nextBlockAfterBidding,
  now,
  offer,
  placeBothBids,
  PRICE_A,
  PRICE_B,
  PROPOSAL,
  requestTuple,
  RESULT,
  send,
  SERVICE_A,
  SERVICE_B,
  SERVICE_C,
  SERVICE_D,
  SERVICE_NAME,
  SERVICE_TYPE,
  settlementB,
  signPermit,
  signResult,
  split,
  statusOf,
  submitted,
  UNITS,
  WORKLOAD,
  WORKLOAD_ID,
  workloadRequest,
} from "../helpers/market.js";

const { ethers, networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

describe("ServiceMarketplace: lifecycle", function () {
  describe("lifecycle", function () {
    it("list → post → two bids → client award → signed result → accept: settles to provider, treasury and client", async function () {
      const f = await loadMarket();
      const { marketplace, token, agent, agent2, client } = f;

      // Two provider agents list offers.
      await expect(marketplace.connect(agent).listService(offer(SERVICE_C)))
        .to.emit(marketplace, "ServiceListed")
        .withArgs(SERVICE_C, AGENT_ID, [SERVICE_C, SERVICE_NAME, 5n * AITBC, 1_000n, 0n, MODEL_HASH, 9_500n]);
      await expect(marketplace.connect(agent2).listService(offer(SERVICE_D, { pricePerUnit: 4n * AITBC })))
        .to.emit(marketplace, "ServiceListed")
        .withArgs(SERVICE_D, AGENT2_ID, [SERVICE_D, SERVICE_NAME, 4n * AITBC, 1_000n, 0n, MODEL_HASH, 9_500n]);
      expect(await marketplace.serviceOwner(SERVICE_C)).to.deep.equal([AGENT_ID, true]);
      expect(await marketplace.serviceOwner(SERVICE_D)).to.deep.equal([AGENT2_ID, true]);
      expect(await marketplace.getServiceStatus(SERVICE_D)).to.deep.equal([
        SERVICE_D,
        SERVICE_NAME,
        4n * AITBC,
        1_000n,
        0n,
        MODEL_HASH,
        9_500n,
      ]);
      await expectBooks(f);

      // The client posts a workload: units × maxPrice move into escrow.
      const request = workloadRequest(await now());
      const clientBefore = await token.balanceOf(client.address);
      const postedAt = (await now()) + 1n;
      await time.setNextBlockTimestamp(postedAt);
      await expect(marketplace.connect(client).postWorkload(request))
        .to.emit(marketplace, "WorkloadPosted")
        .withArgs(WORKLOAD_ID, client.address, requestTuple(request), ESCROW);
      expect(clientBefore - (await token.balanceOf(client.address))).to.equal(ESCROW);
      expect(await marketplace.totalEscrowed()).to.equal(ESCROW);
      expect(await marketplace.workloadCount()).to.equal(1n);
      const posted = await marketplace.getWorkload(WORKLOAD_ID);
      expect(posted.client).to.equal(client.address);
      expect(posted.status).to.equal(WORKLOAD.open);
      expect(posted.round).to.equal(0n);
      expect(posted.units).to.equal(UNITS);
      expect(posted.maxPricePerUnit).to.equal(MAX_PRICE);
      expect(posted.bidDeadline).to.equal(request.bidDeadline);
      expect(posted.executionDeadline).to.equal(request.executionDeadline);
      expect(posted.biddingPeriod).to.equal(request.bidDeadline - postedAt);
      expect(posted.executionPeriod).to.equal(DAY);
      expect(posted.serviceType).to.equal(SERVICE_TYPE);
      expect(posted.modelHash).to.equal(MODEL_HASH);
      expect(posted.providerId).to.equal(0n);
      expect(posted.challengeWindow).to.equal(0n);
      await expectBooks(f);

      // Two provider agents bid.
      await expect(marketplace.connect(agent).bid(WORKLOAD_ID, SERVICE_C, PRICE_A, PROPOSAL))
        .to.emit(marketplace, "BidPlaced")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, SERVICE_C, PRICE_A, PROPOSAL);
      const proposal2 = id("agent2's proposal");
      await expect(marketplace.connect(agent2).bid(WORKLOAD_ID, SERVICE_D, PRICE_B, proposal2))
        .to.emit(marketplace, "BidPlaced")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, SERVICE_D, PRICE_B, proposal2);
      const bids = await marketplace.getBids(WORKLOAD_ID);
      expect(bids.length).to.equal(2);
      expect(bids[0]?.providerId).to.equal(AGENT_ID);
      expect(bids[0]?.pricePerUnit).to.equal(PRICE_A);
      expect(bids[0]?.serviceId).to.equal(SERVICE_C);
      expect(bids[1]?.providerId).to.equal(AGENT2_ID);
      expect(bids[1]?.pricePerUnit).to.equal(PRICE_B);
      expect(bids[1]?.placedAt).to.equal(BigInt(await time.latest()));
      await expectBooks(f);

      // The client awards agent2's bid before the bid deadline: the posted execution deadline stands.
      await expect(marketplace.connect(client).award(WORKLOAD_ID, 1n, AGENT2_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, request.executionDeadline, false);
      const awarded = await marketplace.getWorkload(WORKLOAD_ID);
      expect(awarded.status).to.equal(WORKLOAD.awarded);
      expect(awarded.providerId).to.equal(AGENT2_ID);
      expect(awarded.serviceId).to.equal(SERVICE_D);
      expect(awarded.pricePerUnit).to.equal(PRICE_B);
      expect(awarded.executionDeadline).to.equal(request.executionDeadline);
      expect(awarded.challengeWindow).to.equal(0n);
      expect(await loadOf(f, SERVICE_D)).to.equal(UNITS);
      expect(await loadOf(f, SERVICE_C)).to.equal(0n);
      await expectBooks(f);

      // agent2 submits its signed result.
      const signature = await signResult(agent2, marketplace, WORKLOAD_ID, 0n, RESULT);
      expect(ethers.recoverAddress(await marketplace.hashResult(WORKLOAD_ID, 0n, RESULT), signature)).to.equal(
        agent2.address,
      );
      await expect(marketplace.connect(agent2).submitResult(WORKLOAD_ID, RESULT, signature))
        .to.emit(marketplace, "ResultSubmitted")
        .withArgs(WORKLOAD_ID, AGENT2_ID, RESULT);
      const submitted = await marketplace.getWorkload(WORKLOAD_ID);
      expect(submitted.status).to.equal(WORKLOAD.submitted);
      expect(submitted.resultHash).to.equal(RESULT);
      expect(submitted.submittedAt).to.equal(BigInt(await time.latest()));
      // The challenge window in force at submission is recorded with the result.
      expect(submitted.challengeWindow).to.equal(CHALLENGE_WINDOW);
      await expectBooks(f);

      // The client accepts: settlement, and a compute receipt (nothing minted).
      const supplyBefore = await token.totalSupply();
      await expectSettles(f, () => marketplace.connect(client).accept(WORKLOAD_ID), {
        ...settlementB(f),
        serviceId: SERVICE_D,
      });
      expect(await token.totalSupply()).to.equal(supplyBefore);
      // 100 AITBC of escrow: 59.4 to agent2 (no reward at settlement), 0.6 to the treasury, 40 back to the client.
      expect(split(UNITS, MAX_PRICE, PRICE_B)).to.deep.equal({
        payment: 60n * AITBC,
        fee: (6n * AITBC) / 10n,
        net: 60n * AITBC - (6n * AITBC) / 10n,
        refund: 40n * AITBC,
      });
      expect(await marketplace.totalEscrowed()).to.equal(0n);
      expect(await token.balanceOf(f.market)).to.equal(0n);
      expect(await loadOf(f, SERVICE_D)).to.equal(0n);
      expect(await f.registry.reputationOf(AGENT2_ID)).to.equal(510n);
      expect(await f.registry.reputationOf(AGENT_ID)).to.equal(500n);
    });

    it("posts with an EIP-2612 permit in one transaction (no prior approval), then settles", async function () {
      const f = await loadMarket();
      const { marketplace, token, permitClient, client } = f;
      expect(await token.allowance(permitClient.address, f.market)).to.equal(0n);
      const request = workloadRequest(await now());
      const deadline = (await now()) + HOUR;
      const nonce = await token.nonces(permitClient.address);
      const { v, r, s } = await signPermit(token, permitClient, f.market, ESCROW, deadline);
      const blockBefore = await ethers.provider.getBlockNumber();

      const tx = marketplace.connect(permitClient).postWorkloadWithPermit(request, deadline, v, r, s);
      await expect(tx)
        .to.emit(marketplace, "WorkloadPosted")
        .withArgs(WORKLOAD_ID, permitClient.address, requestTuple(request), ESCROW);
      await expect(tx).to.emit(token, "Approval").withArgs(permitClient.address, f.market, ESCROW);
      expect(await ethers.provider.getBlockNumber()).to.equal(blockBefore + 1);
      expect(await token.nonces(permitClient.address)).to.equal(nonce + 1n);
      expect(await token.allowance(permitClient.address, f.market)).to.equal(0n);
      expect(await token.balanceOf(permitClient.address)).to.equal(1_000n * AITBC - ESCROW);
      expect((await marketplace.getWorkload(WORKLOAD_ID)).client).to.equal(permitClient.address);
      await expectBooks(f);

      await placeBothBids(f, WORKLOAD_ID);
      await expectBooks(f);
      await send(marketplace.connect(permitClient).award(WORKLOAD_ID, 1n, AGENT2_ID));
      await expectBooks(f);
      const signature = await signResult(f.agent2, marketplace, WORKLOAD_ID, 0n, RESULT);
      await send(marketplace.connect(f.agent2).submitResult(WORKLOAD_ID, RESULT, signature));
      await expectBooks(f);
      const clientBefore = await token.balanceOf(client.address);
      await expectSettles(f, () => marketplace.connect(permitClient).accept(WORKLOAD_ID), {
        ...settlementB(f),
        client: permitClient.address,
      });
      expect(await token.balanceOf(client.address)).to.equal(clientBefore);
    });

    it("posts with a permit that was already used (front-run): the allowance in place pays the escrow", async function () {
      const f = await loadMarket();
      const { marketplace, token, permitClient, outsider } = f;
      const request = workloadRequest(await now());
      const deadline = (await now()) + HOUR;
      const { v, r, s } = await signPermit(token, permitClient, f.market, ESCROW, deadline);
      await send(token.connect(outsider).permit(permitClient.address, f.market, ESCROW, deadline, v, r, s));
      await expect(marketplace.connect(permitClient).postWorkloadWithPermit(request, deadline, v, r, s))
        .to.emit(marketplace, "WorkloadPosted")
        .withArgs(WORKLOAD_ID, permitClient.address, requestTuple(request), ESCROW);
      expect(await token.allowance(permitClient.address, f.market)).to.equal(0n);
      await expectBooks(f);
    });

    it("rejects a post with a forged, expired or too small permit and no allowance (ERC20InsufficientAllowance)", async function () {
      const f = await loadMarket();
      const { marketplace, token, permitClient, outsider } = f;
      const request = workloadRequest(await now());
      const deadline = (await now()) + HOUR;
      const forged = await signPermit(token, permitClient, f.market, ESCROW, deadline, outsider);
      const expired = await signPermit(token, permitClient, f.market, ESCROW, (await now()) - 1n);
      const small = await signPermit(token, permitClient, f.market, ESCROW - 1n, deadline);
      for (const [sig, d] of [
        [forged, deadline],
        [expired, (await now()) - 1n],
        [small, deadline],
      ] as const) {
        await expect(marketplace.connect(permitClient).postWorkloadWithPermit(request, d, sig.v, sig.r, sig.s))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
          .withArgs(f.market, 0n, ESCROW);
      }
      expect(await marketplace.workloadCount()).to.equal(0n);
      await expectBooks(f);
    });

    it("finalize settles after the challenge window without a rejection; anyone may call it", async function () {
      const f = await submitted();
      const { marketplace, outsider } = f;
      const { submittedAt } = await marketplace.getWorkload(WORKLOAD_ID);
      const endsAt = submittedAt + CHALLENGE_WINDOW;
      await time.setNextBlockTimestamp(endsAt);
      await expect(marketplace.connect(outsider).finalize(WORKLOAD_ID))
        .to.be.revertedWithCustomError(marketplace, "MarketplaceChallengeWindowOpen")
        .withArgs(WORKLOAD_ID, endsAt);
      await time.setNextBlockTimestamp(endsAt + 1n);
      await expectSettles(f, () => marketplace.connect(outsider).finalize(WORKLOAD_ID), settlementB(f));
      expect(await marketplace.totalEscrowed()).to.equal(0n);
    });

    it("auto-award after the bidding deadline, then settle: anyone may auto-award", async function () {
      const f = await bidded();
      const { marketplace, outsider } = f;
      // One second after the bid deadline: the execution deadline moves one second on (the full period).
      const executionDeadline = await nextBlockAfterBidding(f);
      await expect(marketplace.connect(outsider).autoAward(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, executionDeadline, true);
      expect((await marketplace.getWorkload(WORKLOAD_ID)).executionDeadline).to.equal(executionDeadline);
      expect(await loadOf(f, SERVICE_B)).to.equal(UNITS);
      await expectBooks(f);
      const signature = await signResult(f.agent2, marketplace, WORKLOAD_ID, 0n, RESULT);
      await send(marketplace.connect(outsider).submitResult(WORKLOAD_ID, RESULT, signature));
      await expectBooks(f);
      await expectSettles(f, () => marketplace.connect(f.client).accept(WORKLOAD_ID), settlementB(f));
    });

    it("cancel before award: the whole escrow goes back to the client", async function () {
      const f = await bidded();
      const { marketplace, token, client } = f;
      const before = await token.balanceOf(client.address);
      await expect(marketplace.connect(client).cancelWorkload(WORKLOAD_ID))
        .to.emit(marketplace, "WorkloadCancelled")
        .withArgs(WORKLOAD_ID, ESCROW);
      expect((await token.balanceOf(client.address)) - before).to.equal(ESCROW);
      expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.cancelled);
      expect(await marketplace.totalEscrowed()).to.equal(0n);
      expect(await f.registry.reputationOf(AGENT_ID)).to.equal(500n);
      expect(await f.registry.reputationOf(AGENT2_ID)).to.equal(500n);
      await expectBooks(f);
    });

    it("keeps the books across several workloads in different states", async function () {
      const f = await awarded();
      const { marketplace, client } = f;
      const second = workloadRequest(await now(), { units: 3n, maxPricePerUnit: 7n * AITBC });
      await send(marketplace.connect(client).postWorkload(second));
      const third = workloadRequest(await now(), { units: 5n });
      await send(marketplace.connect(client).postWorkload(third));
      expect(await marketplace.totalEscrowed()).to.equal(ESCROW + escrowOf(second) + escrowOf(third));
      await expectBooks(f);
      await send(marketplace.connect(client).cancelWorkload(3n));
      expect(await marketplace.totalEscrowed()).to.equal(ESCROW + escrowOf(second));
      await expectBooks(f);
      await send(marketplace.connect(f.agent).bid(2n, SERVICE_A, 7n * AITBC, PROPOSAL));
      await send(marketplace.connect(client).award(2n, 0n, AGENT_ID));
      await send(
        marketplace.connect(f.agent).submitResult(2n, RESULT, await signResult(f.agent, marketplace, 2n, 0n, RESULT)),
      );
      await expectSettles(f, () => marketplace.connect(client).accept(2n), {
        workloadId: 2n,
        provider: f.agent,
        providerId: AGENT_ID,
        serviceId: SERVICE_A,
        client: client.address,
        units: 3n,
        maxPrice: 7n * AITBC,
        price: 7n * AITBC,
      });
      expect(await marketplace.totalEscrowed()).to.equal(ESCROW);
    });
  });
});
