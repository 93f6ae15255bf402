/**
 * Tokens sent straight to the marketplace (outside postWorkload) are not stuck: sweepExcess sends what the
 * contract holds above its workloads' escrow to the registry's treasury, never any escrow.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { AITBC, mintAitbc } from "../helpers/agents.js";
import { buildEconomics, type Economics, post, send, workloadRequest } from "../helpers/economics.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

async function marketFixture(): Promise<Economics> {
  return buildEconomics(connection);
}

describe("ServiceMarketplace: excess tokens", function () {
  it("attack (stuck funds): tokens sent straight to the marketplace go to the treasury, escrow stays", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    await post(f, f.client, workloadRequest(BigInt(await time.latest())));
    const escrowed = await f.marketplace.totalEscrowed();
    await mintAitbc(f, f.outsider.address, 7n);
    await send(f.token.connect(f.outsider).transfer(f.market, 7n * AITBC));
    const treasuryBefore = await f.token.balanceOf(f.treasury.address);
    await expect(f.marketplace.connect(f.outsider).sweepExcess())
      .to.emit(f.marketplace, "ExcessSwept")
      .withArgs(f.treasury.address, 7n * AITBC);
    expect(await f.token.balanceOf(f.treasury.address)).to.equal(treasuryBefore + 7n * AITBC);
    expect(await f.token.balanceOf(f.market)).to.equal(escrowed);
    expect(await f.marketplace.totalEscrowed()).to.equal(escrowed);
  });

  it("reverts MarketplaceNothingToSweep when the balance is all escrow", async function () {
    const f = await networkHelpers.loadFixture(marketFixture);
    await post(f, f.client, workloadRequest(BigInt(await time.latest())));
    await expect(f.marketplace.sweepExcess()).to.be.revertedWithCustomError(f.marketplace, "MarketplaceNothingToSweep");
  });
});
