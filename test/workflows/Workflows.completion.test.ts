/**
 * Workflows: how executions end. completeExecution (refund, receipt, result, credits claimed once each),
 * failExecution by the keeper and expireExecution by anyone after the execution time limit. Unknown ids, the
 * actions charged, expireExecution as upkeep and the emergency stop are in Workflows.guards.test.ts. The fixture and its states are in test/helpers/workflows.ts.
 */
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";

import { AITBC } from "../helpers/agents.js";
import {
  allSteps,
  books,
  BUDGET,
  costsByProvider,
  diamondWork,
  EXECUTION,
  executionRequest,
  expectBooks,
  expectHeld,
  GAS,
  INPUTS,
  loadBase,
  loadPending,
  loadRunning,
  mask,
  MAX_EXECUTION_TIME,
  MAX_TIME,
  REASON,
  receiptChain,
  receiptSeed,
  record,
  RESULT,
  runDiamond,
  type StepRecord,
  sum,
  UNKNOWN,
  workflowSpec,
} from "../helpers/workflows.js";

const { networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

describe("Workflows: completion", function () {
  describe("completeExecution", function () {
    it("runs the full lifecycle: refund, receipt chain, result, credits claimed once each", async function () {
      const f = await loadBase();
      const b = await books(f);
      await f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
      await f.workflows.connect(f.keeper).claimExecution(1n);
      const records: StepRecord[] = [];
      for (const batch of diamondWork(f)) records.push(...(await record(f, 1n, batch)));
      const spent = sum(records.map((r) => r.cost));
      const receipt = receiptChain(receiptSeed(1n, 1n, INPUTS), records);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(1n, RESULT, receipt, spent, BUDGET - spent);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.completed);
      expect(e.finishedAt).to.equal(BigInt(await time.latest()));
      expect(e.resultHash).to.equal(RESULT);
      expect(e.receipt).to.equal(receipt);
      expect(e.spent).to.equal(spent);
      const owed = costsByProvider(records);
      await expectBooks(f, b, {
        balances: { [f.owner.address]: -spent },
        credits: Object.fromEntries(owed),
      });

      for (const p of [f.p1, f.p2, f.p3]) {
        const amount = owed.get(p.address) ?? 0n;
        const before = await f.token.balanceOf(p.address);
        await expect(f.workflows.connect(p).claimCredits())
          .to.emit(f.workflows, "CreditsClaimed")
          .withArgs(p.address, amount);
        expect((await f.token.balanceOf(p.address)) - before).to.equal(amount);
        expect(await f.workflows.creditsOf(p.address)).to.equal(0n);
        await expect(f.workflows.connect(p).claimCredits())
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNothingToClaim")
          .withArgs(p.address);
        await expectHeld(f);
      }
      for (const s of [f.keeper, f.owner, f.outsider]) {
        await expect(f.workflows.connect(s).claimCredits())
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNothingToClaim")
          .withArgs(s.address);
      }
      expect(await f.workflows.totalHeld()).to.equal(0n);
      // the client paid exactly what the providers were paid
      await expectBooks(f, b, {
        balances: {
          [f.owner.address]: -spent,
          [f.p1.address]: owed.get(f.p1.address) ?? 0n,
          [f.p2.address]: owed.get(f.p2.address) ?? 0n,
          [f.p3.address]: owed.get(f.p3.address) ?? 0n,
        },
      });
    });

    it("reverts WorkflowsStepsMissing with the mask of the unrecorded steps", async function () {
      const f = await loadRunning();
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepsMissing")
        .withArgs(1n, allSteps(4));
      await record(f, 1n, [
        [0, f.p1, 1n],
        [1, f.p1, 1n],
      ]);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepsMissing")
        .withArgs(1n, mask(2, 3));
    });

    it("completes at the last second of maxExecutionTime and reverts WorkflowsExpired one second later", async function () {
      const f = await loadRunning();
      for (const batch of diamondWork(f)) await record(f, 1n, batch);
      const expiresAt = (await f.workflows.getExecution(1n)).startedAt + MAX_TIME;
      const snapshot = await networkHelpers.takeSnapshot();
      await time.setNextBlockTimestamp(expiresAt);
      await f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n, GAS);
      expect((await f.workflows.getExecution(1n)).finishedAt).to.equal(expiresAt);
      await snapshot.restore();
      await time.setNextBlockTimestamp(expiresAt + 1n);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n, GAS))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsExpired")
        .withArgs(1n, expiresAt);
    });

    it("reverts WorkflowsNotKeeper for others and WorkflowsWrongStatus when not Running", async function () {
      const f = await loadPending();
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.pending);
      await f.workflows.connect(f.keeper).claimExecution(1n);
      for (const batch of diamondWork(f)) await record(f, 1n, batch);
      for (const s of [f.keeper2, f.owner, f.p1]) {
        await expect(f.workflows.connect(s).completeExecution(1n, RESULT, 0n))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
          .withArgs(1n, s.address);
      }
      await f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.completed);
      await expect(f.workflows.connect(f.keeper).failExecution(1n, REASON))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.completed);
    });
  });

  describe("failExecution and expireExecution", function () {
    it("the keeper fails a partly run execution: unspent budget refunded, providers keep their credits", async function () {
      const f = await loadRunning();
      const b = await books(f);
      const done = await record(f, 1n, [
        [0, f.p1, 10n * AITBC],
        [2, f.p2, 15n * AITBC],
      ]);
      const spent = sum(done.map((r) => r.cost));
      await expect(f.workflows.connect(f.keeper).failExecution(1n, REASON))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(1n, REASON, spent, BUDGET - spent);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.failed);
      expect(e.finishedAt).to.equal(BigInt(await time.latest()));
      await expectBooks(f, b, {
        balances: { [f.owner.address]: BUDGET - spent },
        credits: { [f.p1.address]: 10n * AITBC, [f.p2.address]: 15n * AITBC },
        open: -BUDGET,
      });
      await f.workflows.connect(f.p1).claimCredits();
      await f.workflows.connect(f.p2).claimCredits();
      expect(await f.workflows.totalHeld()).to.equal(0n);
      await expectHeld(f);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
    });

    it("reverts failExecution for a non-keeper (WorkflowsNotKeeper) and when Pending (WorkflowsWrongStatus)", async function () {
      const f = await loadPending();
      await expect(f.workflows.connect(f.keeper).failExecution(1n, REASON))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.pending);
      await f.workflows.connect(f.keeper).claimExecution(1n);
      for (const s of [f.keeper2, f.owner, f.outsider]) {
        await expect(f.workflows.connect(s).failExecution(1n, REASON))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
          .withArgs(1n, s.address);
      }
      await expect(f.workflows.connect(f.keeper).failExecution(UNKNOWN, REASON))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownExecution")
        .withArgs(UNKNOWN);
    });

    it("anyone expires a running execution after maxExecutionTime (WorkflowsNotExpired before), with a refund", async function () {
      const f = await loadRunning();
      const b = await books(f);
      const done = await record(f, 1n, [[0, f.p1, 10n * AITBC]]);
      const spent = sum(done.map((r) => r.cost));
      const expiresAt = (await f.workflows.getExecution(1n)).startedAt + MAX_TIME;
      await expect(f.workflows.connect(f.outsider).expireExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotExpired")
        .withArgs(1n, expiresAt);
      await time.setNextBlockTimestamp(expiresAt);
      await expect(f.workflows.connect(f.outsider).expireExecution(1n, GAS))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotExpired")
        .withArgs(1n, expiresAt);
      await time.setNextBlockTimestamp(expiresAt + 1n);
      await expect(f.workflows.connect(f.outsider).expireExecution(1n, GAS))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(1n, id("max execution time exceeded"), spent, BUDGET - spent);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.failed);
      expect(e.finishedAt).to.equal(expiresAt + 1n);
      await expectBooks(f, b, {
        balances: { [f.owner.address]: BUDGET - spent },
        credits: { [f.p1.address]: spent },
        open: -BUDGET,
      });
      await expect(f.workflows.connect(f.outsider).expireExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
    });

    it("reverts expireExecution for Pending and Completed executions", async function () {
      const f = await loadPending();
      await time.increase(MAX_TIME * 2n);
      await expect(f.workflows.connect(f.outsider).expireExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.pending);
      const { executionId } = await runDiamond(f, f.owner);
      await time.increase(MAX_TIME * 2n);
      await expect(f.workflows.connect(f.outsider).expireExecution(executionId))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(executionId, EXECUTION.completed);
    });

    it("a workflow with the longest maxExecutionTime (30 days) completes at its limit and expires after it", async function () {
      const f = await loadBase();
      await f.workflows.connect(f.owner).defineWorkflow(workflowSpec([[]], { maxExecutionTime: MAX_EXECUTION_TIME }));
      await f.workflows.connect(f.owner).requestExecution(executionRequest(2n, INPUTS, BUDGET, 0n));
      await f.workflows.connect(f.owner).requestExecution(executionRequest(2n, INPUTS, BUDGET, 0n));
      await f.workflows.connect(f.keeper).claimExecution(1n);
      await f.workflows.connect(f.keeper).claimExecution(2n);
      await record(f, 1n, [[0, f.p1, 1n]]);
      const expiresAt = (await f.workflows.getExecution(1n)).startedAt + MAX_EXECUTION_TIME;
      await time.setNextBlockTimestamp(expiresAt);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n, GAS))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(1n, RESULT, anyValue, 1n, BUDGET - 1n);
      await time.setNextBlockTimestamp((await f.workflows.getExecution(2n)).startedAt + MAX_EXECUTION_TIME + 1n);
      await expect(f.workflows.connect(f.outsider).expireExecution(2n, GAS)).to.emit(f.workflows, "ExecutionFailed");
      await expectHeld(f);
    });
  });
});
