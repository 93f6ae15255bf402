/**
 * Workflows: listings. createListing and updateListing (owner only, field limits, the active flag), restricted
 * listings and setAccess, the execution price escrowed with the budget and refunded with it, and the client's
 * maxListingFee against a front-run price rise. Unknown ids, the actions charged and the emergency stop are in
 * Workflows.guards.test.ts. The fixture and its states are in test/helpers/workflows.ts.
 */
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { id, MaxUint256, ZeroAddress } from "ethers";
import { network } from "hardhat";

import type { IWorkflows } from "../../typechain-types/index.js";
import { AITBC } from "../helpers/agents.js";
import {
  books,
  BUDGET,
  chainSpec,
  costsByProvider,
  diamondWork,
  executionRequest,
  expectBooks,
  expectHeld,
  GAS,
  INPUTS,
  loadBase,
  loadListed,
  MAX_TIME,
  PUBLIC_LISTING,
  REASON,
  receiptChain,
  receiptSeed,
  record,
  RESULT,
  type StepRecord,
  sum,
  UNKNOWN,
} from "../helpers/workflows.js";

const { ethers, networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

describe("Workflows: listings", function () {
  describe("listings", function () {
    it("createListing stores the listing and emits ListingCreated; owner only", async function () {
      const f = await loadBase();
      await expect(f.workflows.connect(f.client).createListing(1n, PUBLIC_LISTING))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotWorkflowOwner")
        .withArgs(1n, f.client.address);
      await expect(f.workflows.connect(f.owner).createListing(UNKNOWN, PUBLIC_LISTING))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownWorkflow")
        .withArgs(UNKNOWN);
      await expect(f.workflows.connect(f.owner).createListing(1n, PUBLIC_LISTING))
        .to.emit(f.workflows, "ListingCreated")
        .withArgs(1n, 1n, [
          PUBLIC_LISTING.title,
          PUBLIC_LISTING.description,
          PUBLIC_LISTING.tags,
          PUBLIC_LISTING.executionPrice,
          PUBLIC_LISTING.subscriptionPrice,
          PUBLIC_LISTING.isPublic,
        ]);
      const l = await f.workflows.getListing(1n);
      expect(l.workflowId).to.equal(1n);
      expect(l.isPublic).to.equal(true);
      expect(l.active).to.equal(true);
      expect(l.executionPrice).to.equal(5n * AITBC);
      expect(l.subscriptionPrice).to.equal(20n * AITBC);
      expect(l.totalExecutions).to.equal(0n);
      expect(l.ratingCount).to.equal(0n);
      expect(l.ratingSum).to.equal(0n);
      expect(l.title).to.equal(PUBLIC_LISTING.title);
      expect(l.description).to.equal(PUBLIC_LISTING.description);
      expect([...l.tags]).to.deep.equal(PUBLIC_LISTING.tags);
      expect(await f.workflows.ratingOf(1n)).to.equal(0n);
    });

    it("createListing reverts WorkflowsInvalidSpec for a bad title, description or tag list", async function () {
      const f = await loadBase();
      const cases: Array<[Partial<IWorkflows.ListingInputStruct>, string]> = [
        [{ title: "" }, "title"],
        [{ title: "t".repeat(1025) }, "title"],
        [{ description: "d".repeat(1025) }, "description"],
        [{ tags: Array.from({ length: 17 }, (_, i) => `t${i}`) }, "tags"],
      ];
      for (const [override, field] of cases) {
        await expect(f.workflows.connect(f.owner).createListing(1n, { ...PUBLIC_LISTING, ...override }))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidSpec")
          .withArgs(field);
      }
    });

    it("updateListing replaces the fields and the active flag; owner only; unknown listing reverts", async function () {
      const f = await loadListed();
      const input = { ...PUBLIC_LISTING, title: "v2", tags: ["x"], executionPrice: 7n, isPublic: false };
      await expect(f.workflows.connect(f.client).updateListing(1n, input, true))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotWorkflowOwner")
        .withArgs(1n, f.client.address);
      await expect(f.workflows.connect(f.owner).updateListing(UNKNOWN, input, true))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownListing")
        .withArgs(UNKNOWN);
      await expect(f.workflows.connect(f.owner).updateListing(1n, input, false))
        .to.emit(f.workflows, "ListingUpdated")
        .withArgs(1n, anyValue, false);
      const l = await f.workflows.getListing(1n);
      expect(l.title).to.equal("v2");
      expect([...l.tags]).to.deep.equal(["x"]);
      expect(l.executionPrice).to.equal(7n);
      expect(l.isPublic).to.equal(false);
      expect(l.active).to.equal(false);
      // an inactive listing denies everyone, the owner included
      for (const s of [f.client, f.owner]) {
        await expect(f.workflows.connect(s).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
          .withArgs(1n, s.address);
      }
      await expect(f.workflows.connect(f.client).subscribe(1n, MaxUint256))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(1n, f.client.address);
      await f.workflows.connect(f.owner).updateListing(1n, { ...input, isPublic: true }, true);
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      expect((await f.workflows.getExecution(1n)).listingFee).to.equal(7n);
    });

    it("a restricted listing denies others (WorkflowsAccessDenied) until setAccess authorises them", async function () {
      const f = await loadListed();
      expect(await f.workflows.hasAccess(2n, f.client.address)).to.equal(false);
      expect(await f.workflows.hasAccess(2n, f.owner.address)).to.equal(true);
      expect(await f.workflows.hasAccess(1n, f.client.address)).to.equal(true);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client.address);
      await expect(f.workflows.connect(f.client).subscribe(2n, MaxUint256))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client.address);
      await expect(f.workflows.connect(f.client).setAccess(2n, f.client.address, true))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotWorkflowOwner")
        .withArgs(1n, f.client.address);
      await expect(f.workflows.connect(f.owner).setAccess(2n, ZeroAddress, true)).to.be.revertedWithCustomError(
        f.workflows,
        "WorkflowsZeroAddress",
      );
      await expect(f.workflows.connect(f.owner).setAccess(UNKNOWN, f.client.address, true))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownListing")
        .withArgs(UNKNOWN);

      await expect(f.workflows.connect(f.owner).setAccess(2n, f.client.address, true))
        .to.emit(f.workflows, "AccessSet")
        .withArgs(2n, f.client.address, true);
      expect(await f.workflows.hasAccess(2n, f.client.address)).to.equal(true);
      expect(await f.workflows.hasAccess(2n, f.client2.address)).to.equal(false);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 2n, 3n * AITBC, ZeroAddress);
      await expect(f.workflows.connect(f.client2).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client2.address);

      await expect(f.workflows.connect(f.owner).setAccess(2n, f.client.address, false))
        .to.emit(f.workflows, "AccessSet")
        .withArgs(2n, f.client.address, false);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client.address);
      await expectHeld(f);
    });

    it("escrows the execution price with the budget and credits it to the owner at completion", async function () {
      const f = await loadListed();
      const b = await books(f);
      const price = 5n * AITBC;
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 1n, price, ZeroAddress);
      const e = await f.workflows.getExecution(1n);
      expect(e.listingId).to.equal(1n);
      expect(e.listingFee).to.equal(price);
      expect(await f.workflows.totalHeld()).to.equal(BUDGET + price);
      await expectBooks(f, b, { balances: { [f.client.address]: -(BUDGET + price) }, open: BUDGET + price });

      await f.workflows.connect(f.keeper).claimExecution(1n);
      const records: StepRecord[] = [];
      for (const batch of diamondWork(f)) records.push(...(await record(f, 1n, batch)));
      const spent = sum(records.map((r) => r.cost));
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(1n, RESULT, receiptChain(receiptSeed(1n, 1n, INPUTS), records), spent, BUDGET - spent);
      expect((await f.workflows.getListing(1n)).totalExecutions).to.equal(1n);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -(spent + price) },
        credits: { ...Object.fromEntries(costsByProvider(records)), [f.owner.address]: price },
      });
      await expect(f.workflows.connect(f.owner).claimCredits())
        .to.emit(f.workflows, "CreditsClaimed")
        .withArgs(f.owner.address, price);
      await expectHeld(f);
    });

    it("refunds the execution price with the unspent budget on failure, cancellation and expiry", async function () {
      const f = await loadListed();
      const price = 5n * AITBC;
      const b = await books(f);
      // failed by the keeper after one step
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      await f.workflows.connect(f.keeper).claimExecution(1n);
      await record(f, 1n, [[0, f.p1, 10n * AITBC]]);
      await expect(f.workflows.connect(f.keeper).failExecution(1n, REASON))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(1n, REASON, 10n * AITBC, BUDGET - 10n * AITBC + price);
      // cancelled while pending
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      await expect(f.workflows.connect(f.client).cancelExecution(2n))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(2n, id("cancelled by client"), 0n, BUDGET + price);
      // expired after one step
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      await f.workflows.connect(f.keeper).claimExecution(3n);
      await record(f, 3n, [[0, f.p2, 4n * AITBC]]);
      await time.increase(MAX_TIME + 1n);
      await expect(f.workflows.connect(f.outsider).expireExecution(3n))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(3n, anyValue, 4n * AITBC, BUDGET - 4n * AITBC + price);
      expect((await f.workflows.getListing(1n)).totalExecutions).to.equal(0n);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -14n * AITBC },
        credits: { [f.p1.address]: 10n * AITBC, [f.p2.address]: 4n * AITBC },
      });
    });

    it("reverts WorkflowsListingFeeAboveMax when the owner front-runs a request with a price rise", async function () {
      const f = await loadListed();
      const quoted = (await f.workflows.getListing(1n)).executionPrice; // what the client saw: 5 AITBC
      const raised = 50n * AITBC;
      const request = executionRequest(1n, INPUTS, BUDGET, 1n, { maxListingFee: quoted });
      const b = await books(f);
      // the owner sees the pending request and gets a price rise mined ahead of it, in the same block
      await ethers.provider.send("evm_setAutomine", [false]);
      let requestHash: string;
      let raiseHash: string;
      try {
        const requestTx = await f.workflows.connect(f.client).requestExecution(request, GAS);
        const raiseTx = await f.workflows
          .connect(f.owner)
          .updateListing(1n, { ...PUBLIC_LISTING, executionPrice: raised }, true, {
            ...GAS,
            maxPriorityFeePerGas: (requestTx.maxPriorityFeePerGas ?? 1n) * 10n,
            maxFeePerGas: (requestTx.maxFeePerGas ?? 1n) * 10n,
          });
        requestHash = requestTx.hash;
        raiseHash = raiseTx.hash;
        await ethers.provider.send("evm_mine", []);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      const raise = await ethers.provider.getTransactionReceipt(raiseHash);
      const requested = await ethers.provider.getTransactionReceipt(requestHash);
      if (raise === null || requested === null) throw new Error("not mined");
      expect(raise.blockNumber).to.equal(requested.blockNumber);
      expect(raise.index).to.be.lessThan(requested.index); // the price rise went first
      expect(raise.status).to.equal(1);
      expect(requested.status).to.equal(0); // and the request was refused rather than charged 50
      expect((await f.workflows.getListing(1n)).executionPrice).to.equal(raised);
      await expect(f.workflows.connect(f.client).requestExecution(request))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsListingFeeAboveMax")
        .withArgs(1n, raised, quoted);
      await expectBooks(f, b, {}); // no token moved
      // without a cap (the default) the same request pays whatever the price has become
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 1n, raised, ZeroAddress);
      await expectBooks(f, b, { balances: { [f.client.address]: -(BUDGET + raised) }, open: BUDGET + raised });
    });

    it("maxListingFee: the exact price passes and the current price is charged; subscribers and direct requests pay 0 whatever the cap", async function () {
      const f = await loadListed();
      const price = 5n * AITBC;
      const cut = 2n * AITBC;
      const b = await books(f);
      for (const maxListingFee of [price - 1n, 0n]) {
        await expect(
          f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { maxListingFee })),
        )
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsListingFeeAboveMax")
          .withArgs(1n, price, maxListingFee);
      }
      // access is checked first
      await expect(
        f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 2n, { maxListingFee: 0n })),
      )
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsAccessDenied")
        .withArgs(2n, f.client.address);
      await expect(
        f.workflows
          .connect(f.client)
          .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { maxListingFee: price })),
      )
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 1n, price, ZeroAddress);
      // a price cut is passed on: the fee is the current price, not the cap
      await f.workflows.connect(f.owner).updateListing(1n, { ...PUBLIC_LISTING, executionPrice: cut }, true);
      await expect(
        f.workflows
          .connect(f.client)
          .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { maxListingFee: price })),
      )
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(2n, 1n, f.client.address, INPUTS, BUDGET, 1n, cut, ZeroAddress);
      // a subscriber owes no fee, so no cap can refuse it
      await f.workflows.connect(f.client2).subscribe(1n, MaxUint256);
      await expect(
        f.workflows
          .connect(f.client2)
          .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { maxListingFee: 0n })),
      )
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(3n, 1n, f.client2.address, INPUTS, BUDGET, 1n, 0n, ZeroAddress);
      // nor a direct request by the owner
      await expect(
        f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n, { maxListingFee: 0n })),
      )
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(4n, 1n, f.owner.address, INPUTS, BUDGET, 0n, 0n, ZeroAddress);
      expect((await f.workflows.getExecution(1n)).listingFee).to.equal(price);
      expect((await f.workflows.getExecution(2n)).listingFee).to.equal(cut);
      expect((await f.workflows.getExecution(3n)).listingFee).to.equal(0n);
      const subscription = 20n * AITBC;
      await expectBooks(f, b, {
        balances: {
          [f.client.address]: -(2n * BUDGET + price + cut),
          [f.client2.address]: -(BUDGET + subscription),
          [f.owner.address]: -BUDGET,
        },
        credits: { [f.owner.address]: subscription },
        open: 4n * BUDGET + price + cut,
      });
    });

    it("requestExecution reverts WorkflowsListingMismatch for another workflow's listing, WorkflowsUnknownListing for an unknown one", async function () {
      const f = await loadListed();
      await f.workflows.connect(f.owner).defineWorkflow(chainSpec(2));
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(2n, INPUTS, BUDGET, 1n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsListingMismatch")
        .withArgs(1n, 2n);
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, UNKNOWN)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownListing")
        .withArgs(UNKNOWN);
    });
  });
});
