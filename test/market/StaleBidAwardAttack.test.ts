/**
 * Found in review: bids never expired while a workload was open. award and autoAward had no limit after the bid
 * deadline, so a client could award a provider's bid months later at its old price, binding the provider (an open
 * obligation, a slash if it then fails to deliver); the provider's only way out was to delist its offer. A round's
 * bids now bind for AWARD_WINDOW (a day) after its bid deadline, extended by the emergency stops that hit the round
 * like every other deadline; after it award and autoAward revert MarketplaceAwardWindowClosed, and the client can
 * only cancel the workload (its whole escrow back).
 */
import { expect } from "chai";
import { network } from "hardhat";

import { DAY, HOUR } from "../helpers/agents.js";
import {
  AGENT2_ID,
  AGENT_ID,
  AWARD_WINDOW,
  awarded,
  bidded,
  ESCROW,
  expectBooks,
  PRICE_A,
  PRICE_B,
  PROPOSAL,
  type Posted,
  send,
  SERVICE_A,
  statusOf,
  WORKLOAD,
  WORKLOAD_ID,
} from "../helpers/market.js";

const { networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

/** The fixture's execution period (executionDeadline − bidDeadline). */
const EXECUTION_PERIOD = DAY;

/** Emergency stop from `start` to `end` (block times), by the guardian. */
async function stopBetween(f: Posted, start: bigint, end: bigint): Promise<void> {
  await time.setNextBlockTimestamp(start);
  await send(f.humanOverride.connect(f.guardian).emergencyStop("exploit in progress"));
  await time.setNextBlockTimestamp(end);
  await send(f.humanOverride.connect(f.guardian).resume());
}

/**
 * The client's award of bid 1 (agent2's) works at exactly `closedAt` and reverts MarketplaceAwardWindowClosed(closedAt)
 * one second later (each from the same state, through a snapshot).
 */
async function expectWindowClosesAt(f: Posted, closedAt: bigint): Promise<void> {
  const open = await networkHelpers.takeSnapshot();
  await time.setNextBlockTimestamp(closedAt);
  await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID))
    .to.emit(f.marketplace, "WorkloadAwarded")
    .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, closedAt + EXECUTION_PERIOD, false);
  await open.restore();
  await time.setNextBlockTimestamp(closedAt + 1n);
  await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID))
    .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAwardWindowClosed")
    .withArgs(WORKLOAD_ID, closedAt);
}

describe("attack: awarding a bid long after the bidding closed, at its old price", function () {
  it("the client's award a month after the bid deadline reverts MarketplaceAwardWindowClosed; the workload stays open, no obligation", async function () {
    const f = await bidded();
    await time.increaseTo(f.request.bidDeadline + 30n * DAY);
    await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT_ID))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAwardWindowClosed")
      .withArgs(WORKLOAD_ID, f.request.bidDeadline + AWARD_WINDOW);
    expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.open);
    expect(await f.registry.openObligations(AGENT_ID)).to.equal(0n);
  });

  it("autoAward a month after the bid deadline reverts MarketplaceAwardWindowClosed", async function () {
    const f = await bidded();
    await time.increaseTo(f.request.bidDeadline + 30n * DAY);
    await expect(f.marketplace.autoAward(WORKLOAD_ID))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAwardWindowClosed")
      .withArgs(WORKLOAD_ID, f.request.bidDeadline + AWARD_WINDOW);
    expect(await f.registry.openObligations(AGENT2_ID)).to.equal(0n);
  });

  it("AWARD_WINDOW is a day", async function () {
    const f = await bidded();
    expect(await f.marketplace.AWARD_WINDOW()).to.equal(DAY);
    expect(AWARD_WINDOW).to.equal(DAY);
  });

  it("the client's award works at exactly the window's end (bid deadline + AWARD_WINDOW), and reverts one second after", async function () {
    const f = await bidded();
    await expectWindowClosesAt(f, f.request.bidDeadline + AWARD_WINDOW);
  });

  it("autoAward works at exactly the window's end, and reverts one second after", async function () {
    const f = await bidded();
    const closedAt = f.request.bidDeadline + AWARD_WINDOW;
    const open = await networkHelpers.takeSnapshot();
    await time.setNextBlockTimestamp(closedAt);
    await expect(f.marketplace.autoAward(WORKLOAD_ID))
      .to.emit(f.marketplace, "WorkloadAwarded")
      .withArgs(WORKLOAD_ID, AGENT2_ID, 1n, PRICE_B, closedAt + EXECUTION_PERIOD, true);
    await open.restore();
    await time.setNextBlockTimestamp(closedAt + 1n);
    await expect(f.marketplace.autoAward(WORKLOAD_ID))
      .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAwardWindowClosed")
      .withArgs(WORKLOAD_ID, closedAt);
  });

  it("after the window the client cancels: its whole escrow comes back", async function () {
    const f = await bidded();
    await time.increaseTo(f.request.bidDeadline + AWARD_WINDOW + 1n);
    const before = await f.token.balanceOf(f.client.address);
    await expect(f.marketplace.connect(f.client).cancelWorkload(WORKLOAD_ID))
      .to.emit(f.marketplace, "WorkloadCancelled")
      .withArgs(WORKLOAD_ID, ESCROW);
    expect((await f.token.balanceOf(f.client.address)) - before).to.equal(ESCROW);
    expect(await statusOf(f, WORKLOAD_ID)).to.equal(WORKLOAD.cancelled);
    expect(await f.marketplace.totalEscrowed()).to.equal(0n);
    await expectBooks(f);
  });

  describe("emergency stops", function () {
    it("a stop during the window extends it by the stop's length, and to at least a day after the resume", async function () {
      const f = await bidded();
      const { bidDeadline } = f.request;
      // Stopped from 2 to 5 hours into the window: 3 hours taken from it, the resume 19 hours before it would close.
      const [start, end] = [bidDeadline + 2n * HOUR, bidDeadline + 5n * HOUR];
      await stopBetween(f, start, end);
      const shifted = bidDeadline + AWARD_WINDOW + (end - start);
      const graceEnd = end + DAY;
      expect(graceEnd > shifted).to.equal(true);
      await expectWindowClosesAt(f, graceEnd);
    });

    it("a stop during the bidding that runs into the window extends the window by the stop's length", async function () {
      const f = await bidded();
      const { bidDeadline } = f.request;
      // Stopped from half an hour before the bid deadline to 2 hours after it: 2.5 hours.
      const [start, end] = [bidDeadline - HOUR / 2n, bidDeadline + 2n * HOUR];
      await stopBetween(f, start, end);
      const shifted = bidDeadline + AWARD_WINDOW + (end - start);
      expect(shifted > end + DAY).to.equal(true);
      await expectWindowClosesAt(f, shifted);
    });

    it("a stop after the window closed does not reopen it", async function () {
      const f = await bidded();
      const closedAt = f.request.bidDeadline + AWARD_WINDOW;
      await stopBetween(f, closedAt + HOUR, closedAt + 2n * HOUR);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 1n, AGENT2_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAwardWindowClosed")
        .withArgs(WORKLOAD_ID, closedAt);
    });

    it("a stop that ended before the round began does not extend the window: a reopened round's window is its own", async function () {
      // Round 0: agent2 is awarded; a stop during its execution; the deadline passes; the workload reopens.
      const f = await awarded({ reopenOnTimeout: true });
      const stoppedAt = BigInt(await time.latest()) + 1n;
      await stopBetween(f, stoppedAt, stoppedAt + HOUR);
      await time.increaseTo(f.request.executionDeadline + 2n * DAY);
      await send(f.marketplace.claimTimeout(WORKLOAD_ID));
      const reopened = await f.marketplace.getWorkload(WORKLOAD_ID);
      expect(reopened.round).to.equal(1n);
      expect(reopened.bidDeadline - reopened.biddingPeriod > stoppedAt + HOUR).to.equal(true);
      // Round 1: agent bids; the window closes a day after the new bid deadline, the old stop notwithstanding.
      await send(f.marketplace.connect(f.agent).bid(WORKLOAD_ID, SERVICE_A, PRICE_A, PROPOSAL));
      const closedAt = reopened.bidDeadline + AWARD_WINDOW;
      const open = await networkHelpers.takeSnapshot();
      await time.setNextBlockTimestamp(closedAt);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT_ID))
        .to.emit(f.marketplace, "WorkloadAwarded")
        .withArgs(WORKLOAD_ID, AGENT_ID, 0n, PRICE_A, closedAt + EXECUTION_PERIOD, false);
      await open.restore();
      await time.setNextBlockTimestamp(closedAt + 1n);
      await expect(f.marketplace.connect(f.client).award(WORKLOAD_ID, 0n, AGENT_ID))
        .to.be.revertedWithCustomError(f.marketplace, "MarketplaceAwardWindowClosed")
        .withArgs(WORKLOAD_ID, closedAt);
    });
  });
});
