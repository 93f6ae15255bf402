/**
 * Workflows: subscriptions and ratings. subscribe (30 days without the execution price, renewals, lapses, a
 * subscription price that rises or drops to 0, restricted listings) and rateExecution (once per completed listed
 * execution, by its client). Unknown ids, the actions charged and the emergency stop are in
 * Workflows.guards.test.ts. The fixture and its states are in test/helpers/workflows.ts.
 */
import { expect } from "chai";
import { MaxUint256, ZeroAddress } from "ethers";
import { network } from "hardhat";

import { AITBC } from "../helpers/agents.js";
import {
  books,
  BUDGET,
  EXECUTION,
  executionRequest,
  expectBooks,
  expectHeld,
  GAS,
  INPUTS,
  loadListed,
  PUBLIC_LISTING,
  REASON,
  RESTRICTED_LISTING,
  runDiamond,
  SUBSCRIPTION_PERIOD,
} from "../helpers/workflows.js";

const { networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

describe("Workflows: subscriptions and ratings", function () {
  describe("subscribe", function () {
    it("subscribe pays the owner, waives the execution price for 30 days and extends when renewed", async function () {
      const f = await loadListed();
      const b = await books(f);
      const subscription = 20n * AITBC;
      const price = 5n * AITBC;
      const t0 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t0);
      await expect(f.workflows.connect(f.client).subscribe(1n, MaxUint256))
        .to.emit(f.workflows, "Subscribed")
        .withArgs(1n, f.client.address, t0 + SUBSCRIPTION_PERIOD, subscription);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -subscription },
        credits: { [f.owner.address]: subscription },
      });

      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 1n, 0n, ZeroAddress);
      // others still pay
      await expect(f.workflows.connect(f.client2).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(2n, 1n, f.client2.address, INPUTS, BUDGET, 1n, price, ZeroAddress);

      // renewed on day 10: the 30 days are added to the current end
      await time.setNextBlockTimestamp(t0 + 10n * 86_400n);
      await expect(f.workflows.connect(f.client).subscribe(1n, MaxUint256))
        .to.emit(f.workflows, "Subscribed")
        .withArgs(1n, f.client.address, t0 + 2n * SUBSCRIPTION_PERIOD, subscription);
      const until = t0 + 2n * SUBSCRIPTION_PERIOD;
      await time.setNextBlockTimestamp(until - 1n);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n), GAS))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(3n, 1n, f.client.address, INPUTS, BUDGET, 1n, 0n, ZeroAddress);
      // from `until` on, the price is due again
      await time.setNextBlockTimestamp(until);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n), GAS))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(4n, 1n, f.client.address, INPUTS, BUDGET, 1n, price, ZeroAddress);

      // a lapsed subscription restarts from now
      const t1 = until + 5n * 86_400n;
      await time.setNextBlockTimestamp(t1);
      await expect(f.workflows.connect(f.client).subscribe(1n, MaxUint256))
        .to.emit(f.workflows, "Subscribed")
        .withArgs(1n, f.client.address, t1 + SUBSCRIPTION_PERIOD, subscription);

      await expectBooks(f, b, {
        balances: {
          [f.client.address]: -(3n * subscription + 3n * BUDGET + price),
          [f.client2.address]: -(BUDGET + price),
        },
        credits: { [f.owner.address]: 3n * subscription },
        open: 4n * BUDGET + 2n * price,
      });
      await expect(f.workflows.connect(f.owner).claimCredits())
        .to.emit(f.workflows, "CreditsClaimed")
        .withArgs(f.owner.address, 3n * subscription);
      await expectHeld(f);
    });

    it("subscribe reverts WorkflowsListingFeeAboveMax when the owner raises the subscription price first", async function () {
      const f = await loadListed();
      const listing = await f.workflows.getListing(1n);
      const quoted = listing.subscriptionPrice;
      // The owner front-runs: the price doubles before the client's subscription lands.
      await f.workflows.connect(f.owner).updateListing(
        1n,
        {
          title: listing.title,
          description: listing.description,
          tags: [...listing.tags],
          executionPrice: listing.executionPrice,
          subscriptionPrice: quoted * 2n,
          isPublic: listing.isPublic,
        },
        true,
      );
      const b = await books(f);
      await expect(f.workflows.connect(f.client).subscribe(1n, quoted))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsListingFeeAboveMax")
        .withArgs(1n, quoted * 2n, quoted);
      await expectBooks(f, b, {}); // nothing moved
      await f.workflows.connect(f.client).subscribe(1n, quoted * 2n); // the client accepts the new price
    });

    it("subscribe reverts WorkflowsNoSubscription for a listing whose subscription price is 0 (after the access check)", async function () {
      const f = await loadListed();
      const price = 5n * AITBC;
      const subscription = 20n * AITBC;
      await f.workflows.connect(f.owner).createListing(1n, { ...PUBLIC_LISTING, subscriptionPrice: 0n }); // 3
      await f.workflows.connect(f.owner).createListing(1n, { ...RESTRICTED_LISTING, subscriptionPrice: 0n }); // 4
      const b = await books(f);
      for (const s of [f.client, f.owner]) {
        await expect(f.workflows.connect(s).subscribe(3n, MaxUint256))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNoSubscription")
          .withArgs(3n);
      }
      await expect(f.workflows.connect(f.client).subscribe(4n, MaxUint256))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(4n, f.client.address);
      await f.workflows.connect(f.owner).setAccess(4n, f.client.address, true);
      await expect(f.workflows.connect(f.client).subscribe(4n, MaxUint256))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNoSubscription")
        .withArgs(4n);
      // no free subscription: the execution price stays due
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 3n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 3n, price, ZeroAddress);
      // a listing that drops its subscription price stops selling and renewing subscriptions; running ones last
      await f.workflows.connect(f.client).subscribe(1n, MaxUint256);
      await f.workflows.connect(f.owner).updateListing(1n, { ...PUBLIC_LISTING, subscriptionPrice: 0n }, true);
      for (const s of [f.client, f.client2]) {
        await expect(f.workflows.connect(s).subscribe(1n, MaxUint256))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNoSubscription")
          .withArgs(1n);
      }
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(2n, 1n, f.client.address, INPUTS, BUDGET, 1n, 0n, ZeroAddress);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -(subscription + 2n * BUDGET + price) },
        credits: { [f.owner.address]: subscription },
        open: 2n * BUDGET + price,
      });
    });

    it("a subscription to a restricted listing needs access first, then grants access while it lasts", async function () {
      const f = await loadListed();
      await f.workflows.connect(f.owner).setAccess(2n, f.client.address, true);
      await f.workflows.connect(f.client).subscribe(2n, MaxUint256);
      await f.workflows.connect(f.owner).setAccess(2n, f.client.address, false);
      expect(await f.workflows.hasAccess(2n, f.client.address)).to.equal(true);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 2n, 0n, ZeroAddress);
      await time.increase(SUBSCRIPTION_PERIOD);
      expect(await f.workflows.hasAccess(2n, f.client.address)).to.equal(false);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client.address);
      expect(await f.workflows.creditsOf(f.owner.address)).to.equal(10n * AITBC);
      await expectHeld(f);
    });
  });

  describe("rateExecution", function () {
    it("rateExecution: once per completed listed execution by its client; ratingOf is the average × 100", async function () {
      const f = await loadListed();
      const { executionId: first } = await runDiamond(f, f.client, 1n);
      for (const rating of [0, 6, 255]) {
        await expect(f.workflows.connect(f.client).rateExecution(first, rating))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidRating")
          .withArgs(rating);
      }
      for (const s of [f.owner, f.keeper, f.client2]) {
        await expect(f.workflows.connect(s).rateExecution(first, 5))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotClient")
          .withArgs(first, s.address);
      }
      await expect(f.workflows.connect(f.client).rateExecution(first, 4))
        .to.emit(f.workflows, "ExecutionRated")
        .withArgs(first, 1n, 4);
      expect((await f.workflows.getExecution(first)).rated).to.equal(true);
      await expect(f.workflows.connect(f.client).rateExecution(first, 5))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAlreadyRated")
        .withArgs(first);
      expect(await f.workflows.ratingOf(1n)).to.equal(400n);

      const { executionId: second } = await runDiamond(f, f.client2, 1n);
      await f.workflows.connect(f.client2).rateExecution(second, 5);
      expect(await f.workflows.ratingOf(1n)).to.equal(450n);
      const { executionId: third } = await runDiamond(f, f.client, 1n);
      await f.workflows.connect(f.client).rateExecution(third, 2);
      expect(await f.workflows.ratingOf(1n)).to.equal(366n); // 1100 / 3
      const l = await f.workflows.getListing(1n);
      expect(l.ratingCount).to.equal(3n);
      expect(l.ratingSum).to.equal(11n);
      expect(l.totalExecutions).to.equal(3n);
      expect(await f.workflows.ratingOf(2n)).to.equal(0n);
      expect(await f.workflows.creditsOf(f.owner.address)).to.equal(15n * AITBC);
      await expectHeld(f);
    });

    it("rateExecution reverts for executions not completed, and for direct (unlisted) ones", async function () {
      const f = await loadListed();
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      await expect(f.workflows.connect(f.client).rateExecution(1n, 5))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.pending);
      await f.workflows.connect(f.keeper).claimExecution(1n);
      await expect(f.workflows.connect(f.client).rateExecution(1n, 5))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.running);
      await f.workflows.connect(f.keeper).failExecution(1n, REASON);
      await expect(f.workflows.connect(f.client).rateExecution(1n, 5))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
      const { executionId } = await runDiamond(f, f.owner, 0n);
      await expect(f.workflows.connect(f.owner).rateExecution(executionId, 5))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownListing")
        .withArgs(0n);
      expect((await f.workflows.getListing(1n)).ratingCount).to.equal(0n);
    });
  });
});
