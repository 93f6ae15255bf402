/**
 * A delisted service can be listed again by its provider (listService on its own delisted id), with a new offer
 * that covers its current load; nobody else can take the id over.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { AITBC } from "../helpers/agents.js";
import {
  buildEconomics,
  type Economics,
  post,
  PROPOSAL,
  SERVICE_A,
  send,
  workloadRequest,
} from "../helpers/economics.js";
import { AGENT_ID, offer } from "../helpers/market.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

async function marketFixture(): Promise<Economics> {
  return buildEconomics(connection);
}

async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

describe("ServiceMarketplace: relisting", function () {
  it("attack (lockout): a delisted service is listed again by its provider and takes bids", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    await send(f.marketplace.connect(f.agent).delistService(SERVICE_A));
    const relisted = offer(SERVICE_A, { pricePerUnit: 7n * AITBC });
    await expect(f.marketplace.connect(f.agent).listService(relisted)).to.emit(f.marketplace, "ServiceListed");
    expect(await f.marketplace.serviceOwner(SERVICE_A)).to.deep.equal([1n, true]);
    expect((await f.marketplace.getServiceStatus(SERVICE_A)).pricePerUnit).to.equal(7n * AITBC);
    const workloadId = await post(f, f.client, workloadRequest(await now()));
    await expect(f.marketplace.connect(f.agent).bid(workloadId, SERVICE_A, AITBC, PROPOSAL)).to.emit(
      f.marketplace,
      "BidPlaced",
    );
  });

  it("reverts MarketplaceServiceExists when another provider lists a delisted id", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    await send(f.marketplace.connect(f.agent).delistService(SERVICE_A));
    await expect(f.marketplace.connect(f.agent2).listService(offer(SERVICE_A)))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceExists")
      .withArgs(SERVICE_A);
  });

  it("reverts MarketplaceServiceExists when the provider lists a listed id again", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    await expect(f.marketplace.connect(f.agent).listService(offer(SERVICE_A)))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceExists")
      .withArgs(SERVICE_A);
  });

  it("reverts MarketplaceCapacityBelowLoad when the new offer cannot carry the awarded load", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    const workloadId = await post(f, f.client, workloadRequest(await now()));
    await send(f.marketplace.connect(f.agent).bid(workloadId, SERVICE_A, AITBC, PROPOSAL));
    await send(f.marketplace.connect(f.client).award(workloadId, 0n, AGENT_ID));
    await send(f.marketplace.connect(f.agent).delistService(SERVICE_A));
    await expect(f.marketplace.connect(f.agent).listService(offer(SERVICE_A, { maxCapacity: 5n })))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceCapacityBelowLoad")
      .withArgs(SERVICE_A, 5n, 10n);
  });
});
