/**
 * Found in review: an award named a bid by index alone, and on a full bid list (MAX_BIDS) a cheaper bid takes the
 * place and the index of the dearest one. A client that read the list and awarded its dearest bid (for that
 * provider's reputation, say) could be front-run by another provider's cheaper bid taking that index: the award then
 * bound the client to a provider it had not chosen (workload Awarded to it, its obligation opened). An award now
 * names the provider as well, award(workloadId, bidIndex, providerId), and reverts MarketplaceBidReplaced when the
 * bid at that index is another provider's. The front-runner's bid is mined before the client's award here, as it
 * would be with a higher gas price.
 */
import { expect } from "chai";
import { network } from "hardhat";

import {
  AGENT2_ID,
  crowdFixture,
  expectBooks,
  loadOf,
  MAX_BIDS,
  MAX_PRICE,
  PRICE_B,
  PROPOSAL,
  send,
  SERVICE_B,
  statusOf,
  WORKLOAD,
  WORKLOAD_ID,
} from "../helpers/market.js";

const { networkHelpers } = await network.getOrCreate();

/** The crowd fixture (workload 1 with a full list: the i-th crowd provider bid MAX_PRICE − i wei at index i). */
async function fullList() {
  const f = await networkHelpers.loadFixture(crowdFixture);
  const bids = await f.marketplace.getBids(WORKLOAD_ID);
  expect(bids.length).to.equal(Number(MAX_BIDS));
  // What the client reads: the dearest bid is at index 0, crowd provider 0's at MAX_PRICE.
  const read = bids[0];
  if (!read) throw new Error("no bid at index 0");
  expect(read.pricePerUnit).to.equal(MAX_PRICE);
  return { ...f, read };
}

/** agent2 front-runs the client's award with a cheaper bid, which takes index 0 from crowd provider 0. */
async function frontRun() {
  const f = await fullList();
  await expect(f.marketplace.connect(f.agent2).bid(WORKLOAD_ID, SERVICE_B, PRICE_B, PROPOSAL))
    .to.emit(f.marketplace, "BidEvicted")
    .withArgs(WORKLOAD_ID, f.read.providerId, 0n);
  return f;
}

describe("attack: front-running an award by index with a cheaper bid that takes the index", function () {
  it("the client's award of the bid it read reverts MarketplaceBidReplaced; the workload stays open, no obligation opens", async function () {
    const f = await frontRun();
    await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, f.read.providerId))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceBidReplaced")
      .withArgs(WORKLOAD_ID, 0n, f.read.providerId, AGENT2_ID);
    expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.open);
    expect(await f.registry.openObligations(AGENT2_ID)).to.equal(0n);
    expect(await f.registry.openObligations(f.read.providerId)).to.equal(0n);
    expect(await loadOf(f, SERVICE_B)).to.equal(0n);
    await expectBooks(f);
  });

  it("without a front-runner, the award naming the bid's provider goes through", async function () {
    const f = await fullList();
    const request = f.request;
    await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, f.read.providerId))
      .to.emit(f.marketplace, "WorkloadAwarded")
      .withArgs(WORKLOAD_ID, f.read.providerId, 0n, MAX_PRICE, request.executionDeadline, false);
    expect(await f.registry.openObligations(f.read.providerId)).to.equal(1n);
  });

  it("the client, reading the list again, awards the provider it chose at its new index (it bid again, cheaper)", async function () {
    const f = await frontRun();
    const evicted = f.crowd[0];
    if (!evicted) throw new Error("missing wallet");
    const { serviceId } = f.read;
    // The evicted provider bids again, cheaper: it takes index 1, now the dearest (MAX_PRICE − 1 wei).
    await send(f.marketplace.connect(evicted).bid(WORKLOAD_ID, serviceId, PRICE_B - 1n, PROPOSAL));
    const bids = await f.marketplace.getBids(WORKLOAD_ID);
    expect(bids[1]?.providerId).to.equal(f.read.providerId);
    await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, f.read.providerId))
      .to.emit(f.marketplace, "WorkloadAwarded")
      .withArgs(WORKLOAD_ID, f.read.providerId, 1n, PRICE_B - 1n, f.request.executionDeadline, false);
    expect(await f.registry.openObligations(AGENT2_ID)).to.equal(0n);
  });

  it("the client may still award the front-runner's bid, by naming it", async function () {
    const f = await frontRun();
    await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT2_ID))
      .to.emit(f.marketplace, "WorkloadAwarded")
      .withArgs(WORKLOAD_ID, AGENT2_ID, 0n, PRICE_B, f.request.executionDeadline, false);
  });
});
