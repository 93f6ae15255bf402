/**
 * Found in review after relisting was allowed: a provider's only way to withdraw a bid is to delist the service it
 * bid with, and relisting the same service made every old bid awardable again at its old price (a year later, say),
 * binding the provider (an open obligation, a slash if it does not serve). A relisting now voids the bids of the
 * earlier listing, at award and at auto-award; bids placed under the new listing stay awardable.
 */
import { expect } from "chai";
import { id, MaxUint256 } from "ethers";
import { network } from "hardhat";

import { deployProtocol } from "../../scripts/lib/deploy.js";
import { AITBC, HOUR, mintAitbc, registerAndStake } from "../helpers/agents.js";
import { AGENT_ID, offer, workloadRequest, WORKLOAD } from "../helpers/market.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const SERVICE = id("service: provider");

async function fixture() {
  const core = await deployProtocol(connection);
  const { token, marketplace, agent, operator, client } = core;
  await registerAndStake(core, agent, operator, 1_200n * AITBC, { expectedDailyVolume: 1_000n * AITBC });
  await mintAitbc(core, client.address, 100_000n);
  await token.connect(client).approve(await marketplace.getAddress(), MaxUint256);
  await marketplace.connect(agent).listService(offer(SERVICE));
  await marketplace.connect(client).postWorkload(workloadRequest(BigInt(await time.latest())));
  await marketplace.connect(agent).bid(1n, SERVICE, 8n * AITBC, id("proposal"));
  // The provider delists (withdrawing its bid), and lists the same service again while the bid could still be
  // awarded: half a day after the bid deadline, within the award window (a year later the window has closed).
  await marketplace.connect(agent).delistService(SERVICE);
  await time.increaseTo((await marketplace.getWorkload(1n)).bidDeadline + 12n * HOUR);
  await marketplace.connect(agent).listService(offer(SERVICE));
  return core;
}

describe("attack: awarding a bid that a delisting withdrew, after the service is listed again", function () {
  it("award reverts MarketplaceServiceNotListed for the old bid; the workload stays open", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await expect(f.marketplace.connect(f.client).award(1n, 0n, AGENT_ID))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceServiceNotListed")
      .withArgs(SERVICE);
    expect((await f.marketplace.getWorkload(1n)).status).to.equal(WORKLOAD.open);
    expect(await f.registry.openObligations(1n)).to.equal(0n);
  });

  it("autoAward skips the old bid (no eligible bid)", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await expect(f.marketplace.autoAward(1n))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceNoEligibleBid")
      .withArgs(1n);
  });

  it("a bid placed under the new listing is awarded as usual", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await f.marketplace.connect(f.client).postWorkload(workloadRequest(BigInt(await time.latest())));
    await f.marketplace.connect(f.agent).bid(2n, SERVICE, 8n * AITBC, id("proposal 2"));
    await f.marketplace.connect(f.client).award(2n, 0n, AGENT_ID);
    expect((await f.marketplace.getWorkload(2n)).status).to.equal(WORKLOAD.awarded);
  });
});
