/**
 * A full bid list (MAX_BIDS) does not lock bidders out: a new bid cheaper than the dearest one on the list takes its
 * place (BidEvicted), so filling the list costs MAX_BIDS bids each as cheap as any real bidder's, each of which the
 * client may award and each of which is slashed if it then fails.
 */
import { expect } from "chai";
import { id, MaxUint256 } from "ethers";
import { network } from "hardhat";

import { AITBC, MIN_STAKE, mintAitbc, registration } from "../helpers/agents.js";
import { buildEconomics, post, PROPOSAL, SERVICE_A, send, workloadRequest } from "../helpers/economics.js";
import { MAX_BIDS, offer } from "../helpers/market.js";

const connection = await network.getOrCreate();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

const MAX_PRICE = 10n * AITBC;
const SYBILS = Number(MAX_BIDS);

function sybilService(i: number): string {
  return id(`service: sybil ${i}`);
}

/** Workload 1 posted; MAX_BIDS sybil provider agents (ids 3..34) each bid at MAX_PRICE − i wei: the list is full. */
async function fullFixture() {
  const f = await buildEconomics(connection);
  const workloadId = await post(f, f.client, workloadRequest(BigInt(await time.latest())));
  const registryAddress = await f.registry.getAddress();
  await mintAitbc(f, f.deployer.address, BigInt(SYBILS) * (MIN_STAKE / AITBC));
  const sybils = Array.from({ length: SYBILS }, (_, i) => new ethers.Wallet(id(`sybil ${i}`), ethers.provider));
  for (const wallet of sybils) {
    await networkHelpers.setBalance(wallet.address, 10n ** 20n);
    await send(f.token.connect(f.deployer).transfer(wallet.address, MIN_STAKE));
  }
  await Promise.all(
    sybils.map(async (wallet, i) => {
      await send(f.registry.connect(wallet).register(registration(f.operator.address)));
      await send(f.token.connect(wallet).approve(registryAddress, MaxUint256));
      await send(f.registry.connect(wallet).stake(MIN_STAKE));
      await send(f.marketplace.connect(wallet).listService(offer(sybilService(i))));
    }),
  );
  for (let i = 0; i < SYBILS; i++) {
    const wallet = sybils[i];
    if (!wallet) throw new Error("missing wallet");
    await send(f.marketplace.connect(wallet).bid(workloadId, sybilService(i), MAX_PRICE - BigInt(i), PROPOSAL));
  }
  return { ...f, workloadId, sybils };
}

describe("ServiceMarketplace: sybil bids", function () {
  it("attack (lockout): 32 sybil bids do not keep out a cheaper real bidder, who replaces the dearest", async function () {
    const f = await networkHelpers.loadFixture(fullFixture);
    const dearest = await f.registry.agentIdOf((f.sybils[0] ?? f.agent).address);
    await expect(f.marketplace.connect(f.agent).bid(f.workloadId, SERVICE_A, 5n * AITBC, PROPOSAL))
      .to.emit(f.marketplace, "BidEvicted")
      .withArgs(f.workloadId, dearest, 0n);
    const bids = await f.marketplace.getBids(f.workloadId);
    expect(bids.length).to.equal(SYBILS);
    expect(bids[0]?.providerId).to.equal(1n);
    expect(bids[0]?.pricePerUnit).to.equal(5n * AITBC);
  });

  it("reverts MarketplaceTooManyBids for a bid no cheaper than the dearest on a full list", async function () {
    const f = await networkHelpers.loadFixture(fullFixture);
    await expect(f.marketplace.connect(f.agent).bid(f.workloadId, SERVICE_A, MAX_PRICE, PROPOSAL))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceTooManyBids")
      .withArgs(f.workloadId, MAX_BIDS);
  });

  it("an evicted provider may bid again, cheaper, and evicts the next dearest", async function () {
    const f = await networkHelpers.loadFixture(fullFixture);
    const first = f.sybils[0];
    const second = await f.registry.agentIdOf((f.sybils[1] ?? f.agent).address);
    if (!first) throw new Error("missing wallet");
    await send(f.marketplace.connect(f.agent).bid(f.workloadId, SERVICE_A, 5n * AITBC, PROPOSAL));
    await expect(f.marketplace.connect(first).bid(f.workloadId, sybilService(0), 4n * AITBC, PROPOSAL))
      .to.emit(f.marketplace, "BidEvicted")
      .withArgs(f.workloadId, second, 1n);
  });
});
