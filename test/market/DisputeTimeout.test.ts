/**
 * Disputes time out: DISPUTE_TIMEOUT after the challenge window closes, anyone may expire an unresolved dispute.
 * Nobody judged it, so nobody is punished and nobody is paid: the client gets its whole escrow back, the provider
 * keeps its stake and reputation, the offer's load is released, no fee is taken.
 */
import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";

import { AITBC, DAY } from "../helpers/agents.js";
import { buildEconomics, type Economics, SERVICE_A, send, submitted, workloadRequest } from "../helpers/economics.js";
import { CHALLENGE_WINDOW, escrowOf, WORKLOAD } from "../helpers/market.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

/** ServiceMarketplace.DISPUTE_TIMEOUT. */
const DISPUTE_TIMEOUT = 7n * DAY;
const AGENT_ID = 1n;

async function disputedFixture() {
  const f: Economics = await buildEconomics(connection);
  const request = workloadRequest(BigInt(await time.latest()));
  const workloadId = await submitted(f, f.client, f.agent, SERVICE_A, request, 8n * AITBC);
  await send(f.marketplace.connect(f.client).reject(workloadId, id("wrong answer")));
  const w = await f.marketplace.getWorkload(workloadId);
  const endsAt = w.submittedAt + CHALLENGE_WINDOW + DISPUTE_TIMEOUT;
  return { ...f, workloadId, escrow: escrowOf(request), endsAt };
}

describe("ServiceMarketplace: dispute timeout", function () {
  it("attack (frozen escrow): with no resolver, anyone expires the dispute and the client is refunded", async function () {
    const f = await networkHelpers.loadFixture(disputedFixture);
    const stakeBefore = await f.registry.stakeOf(AGENT_ID);
    const clientBefore = await f.token.balanceOf(f.client.address);
    await time.increaseTo(f.endsAt + 1n);
    await expect(f.marketplace.connect(f.outsider).expireDispute(f.workloadId))
      .to.emit(f.marketplace, "DisputeExpired")
      .withArgs(f.workloadId, f.escrow);
    expect(await f.token.balanceOf(f.client.address)).to.equal(clientBefore + f.escrow);
    expect((await f.marketplace.getWorkload(f.workloadId)).status).to.equal(WORKLOAD.refunded);
    expect(await f.registry.stakeOf(AGENT_ID)).to.equal(stakeBefore);
    expect(await f.registry.reputationOf(AGENT_ID)).to.equal(500n);
    expect((await f.marketplace.getServiceStatus(SERVICE_A)).currentLoad).to.equal(0n);
    expect(await f.marketplace.totalEscrowed()).to.equal(0n);
  });

  it("reverts MarketplaceDisputeOpen until DISPUTE_TIMEOUT after the challenge window", async function () {
    const f = await networkHelpers.loadFixture(disputedFixture);
    await time.setNextBlockTimestamp(f.endsAt);
    await expect(f.marketplace.expireDispute(f.workloadId))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceDisputeOpen")
      .withArgs(f.workloadId, f.endsAt);
  });

  it("a guardian still resolves before the timeout; the resolved dispute cannot expire", async function () {
    const f = await networkHelpers.loadFixture(disputedFixture);
    await send(f.marketplace.connect(f.guardian).resolveDispute(f.workloadId, true));
    await time.increaseTo(f.endsAt + 1n);
    await expect(f.marketplace.expireDispute(f.workloadId))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceWrongStatus")
      .withArgs(f.workloadId, WORKLOAD.settled);
  });
});
