/**
 * Workflows: execution requests. requestExecution (escrow, budget limits, field inputs for Full and Zk workflows),
 * cancelExecution while pending, claimExecution (any active agent, or the keeper the client named), and
 * getExecutionStatus through an execution's life. Unknown ids, the actions charged and the emergency stop are in
 * Workflows.guards.test.ts. The fixture and its states are in test/helpers/workflows.ts.
 */
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { id, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import { AITBC } from "../helpers/agents.js";
import {
  books,
  BUDGET,
  costsByProvider,
  DIAMOND,
  diamondWork,
  EXECUTION,
  executionRequest,
  expectBooks,
  expectHeld,
  FIELD_INPUTS,
  INPUTS,
  loadBase,
  loadListed,
  loadPending,
  loadRunning,
  MAX_BUDGET,
  REASON,
  receiptSeed,
  record,
  RESULT,
  sign,
  type StepRecord,
  sum,
  VERIFICATION,
} from "../helpers/workflows.js";

const { networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

describe("Workflows: executions", function () {
  describe("requestExecution", function () {
    it("escrows the budget, stores the request and emits ExecutionRequested", async function () {
      const f = await loadBase();
      const b = await books(f);
      await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.owner.address, INPUTS, BUDGET, 0n, 0n, ZeroAddress);
      const requestedAt = BigInt(await time.latest());
      const e = await f.workflows.getExecution(1n);
      expect(e.client).to.equal(f.owner.address);
      expect(e.status).to.equal(EXECUTION.pending);
      expect(e.stepsDone).to.equal(0n);
      expect(e.requestedAt).to.equal(requestedAt);
      expect(e.workflowId).to.equal(1n);
      expect(e.keeperId).to.equal(0n);
      expect(e.startedAt).to.equal(0n);
      expect(e.finishedAt).to.equal(0n);
      expect(e.budget).to.equal(BUDGET);
      expect(e.spent).to.equal(0n);
      expect(e.doneMask).to.equal(0n);
      expect(e.inputsHash).to.equal(INPUTS);
      expect(e.receipt).to.equal(receiptSeed(1n, 1n, INPUTS)); // receipt_0 commits to the execution
      expect(e.resultHash).to.equal(ZeroHash);
      expect(e.listingId).to.equal(0n);
      expect(e.listingFee).to.equal(0n);
      expect(e.rated).to.equal(false);
      expect(e.keeper).to.equal(ZeroAddress); // any active agent may claim it
      expect(await f.workflows.totalHeld()).to.equal(BUDGET);
      await expectBooks(f, b, { balances: { [f.owner.address]: -BUDGET }, open: BUDGET });
    });

    it("accepts a budget of exactly maxBudget", async function () {
      const f = await loadBase();
      await f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, MAX_BUDGET, 0n));
      expect((await f.workflows.getExecution(1n)).budget).to.equal(MAX_BUDGET);
      await expectHeld(f);
    });

    it("reverts WorkflowsInvalidBudget for a zero budget or one above maxBudget", async function () {
      const f = await loadBase();
      for (const budget of [0n, MAX_BUDGET + 1n]) {
        await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, budget, 0n)))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidBudget")
          .withArgs(budget, MAX_BUDGET);
      }
    });

    it("accepts Full and Zk workflows' requests only with inputs in the field (WorkflowsNotFieldElement); they then need proofs (WorkflowsProofRequired)", async function () {
      const f = await loadBase();
      await f.workflows.connect(f.owner).defineWorkflow({ ...DIAMOND, verification: VERIFICATION.full });
      await f.workflows.connect(f.owner).defineWorkflow({ ...DIAMOND, verification: VERIFICATION.zk });
      for (const workflowId of [2n, 3n]) {
        await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(workflowId, INPUTS, BUDGET, 0n)))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotFieldElement")
          .withArgs("inputsHash", INPUTS);
      }
      await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(2n, FIELD_INPUTS, BUDGET, 0n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 2n, f.owner.address, FIELD_INPUTS, BUDGET, 0n, 0n, ZeroAddress);
      await expect(f.workflows.connect(f.owner).requestExecution(executionRequest(3n, FIELD_INPUTS, BUDGET, 0n)))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(2n, 3n, f.owner.address, FIELD_INPUTS, BUDGET, 0n, 0n, ZeroAddress);
      for (const executionId of [1n, 2n]) {
        await f.workflows.connect(f.keeper).claimExecution(executionId);
        await expect(
          f.workflows.connect(f.keeper).recordSteps(executionId, await sign(f, executionId, [[0, f.p1, 1n]])),
        )
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsProofRequired")
          .withArgs(executionId);
      }
    });

    it("reverts WorkflowsNotWorkflowOwner when a non-owner executes without a listing", async function () {
      const f = await loadBase();
      await expect(f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n)))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotWorkflowOwner")
        .withArgs(1n, f.client.address);
    });
  });

  describe("cancelExecution", function () {
    it("refunds the whole budget to the client while Pending", async function () {
      const f = await loadPending();
      const b = await books(f);
      await expect(f.workflows.connect(f.owner).cancelExecution(1n))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(1n, id("cancelled by client"), 0n, BUDGET);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.failed);
      expect(e.finishedAt).to.equal(BigInt(await time.latest()));
      expect(await f.workflows.totalHeld()).to.equal(0n);
      await expectBooks(f, b, { balances: { [f.owner.address]: BUDGET }, open: -BUDGET });
      await expect(f.workflows.connect(f.keeper).claimExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
      await expect(f.workflows.connect(f.owner).cancelExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
    });

    it("reverts WorkflowsNotClient for anyone but the client", async function () {
      const f = await loadPending();
      for (const s of [f.client, f.keeper, f.outsider]) {
        await expect(f.workflows.connect(s).cancelExecution(1n))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotClient")
          .withArgs(1n, s.address);
      }
    });

    it("reverts WorkflowsKeeperNotStalled once a keeper has claimed it, until KEEPER_TIMEOUT passes without a record", async function () {
      const f = await loadRunning();
      const stallsAt = (await f.workflows.getExecution(1n)).lastActiveAt + 86_400n;
      await expect(f.workflows.connect(f.owner).cancelExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsKeeperNotStalled")
        .withArgs(1n, stallsAt);
    });

    it("reverts WorkflowsWrongStatus once the execution completed or failed", async function () {
      const f = await loadRunning();
      await f.workflows.connect(f.keeper).failExecution(1n, REASON);
      await expect(f.workflows.connect(f.owner).cancelExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
    });
  });

  describe("claimExecution", function () {
    it("lets any active agent become the keeper when the client named none", async function () {
      const f = await loadPending();
      await expect(f.workflows.connect(f.keeper).claimExecution(1n))
        .to.emit(f.workflows, "ExecutionClaimed")
        .withArgs(1n, f.keeperId);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.running);
      expect(e.keeperId).to.equal(f.keeperId);
      expect(e.keeper).to.equal(ZeroAddress);
      expect(e.startedAt).to.equal(BigInt(await time.latest()));
      // another agent (here a step provider) may claim the next one just as well
      await f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
      await expect(f.workflows.connect(f.p1).claimExecution(2n))
        .to.emit(f.workflows, "ExecutionClaimed")
        .withArgs(2n, await f.registry.agentIdOf(f.p1.address));
      await expectHeld(f);
    });

    it("with a named keeper, only that agent claims: others revert WorkflowsNotKeeper, active agents included", async function () {
      const f = await loadListed();
      const request = executionRequest(1n, INPUTS, BUDGET, 1n, { keeper: f.keeper2.address });
      await expect(f.workflows.connect(f.client).requestExecution(request))
        .to.emit(f.workflows, "ExecutionRequested")
        .withArgs(1n, 1n, f.client.address, INPUTS, BUDGET, 1n, 5n * AITBC, f.keeper2.address);
      expect((await f.workflows.getExecution(1n)).keeper).to.equal(f.keeper2.address);
      // active agents, the client, the workflow owner, an unregistered and an inactive account
      for (const s of [f.keeper, f.p1, f.p2, f.client, f.owner, f.outsider, f.idle]) {
        await expect(f.workflows.connect(s).claimExecution(1n))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
          .withArgs(1n, s.address);
      }
      const keeper2Id = await f.registry.agentIdOf(f.keeper2.address);
      await expect(f.workflows.connect(f.keeper2).claimExecution(1n))
        .to.emit(f.workflows, "ExecutionClaimed")
        .withArgs(1n, keeper2Id);
      const e = await f.workflows.getExecution(1n);
      expect(e.status).to.equal(EXECUTION.running);
      expect(e.keeperId).to.equal(keeper2Id);
      expect(e.keeper).to.equal(f.keeper2.address);
      // and it alone runs it
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[0, f.p1, 1n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
        .withArgs(1n, f.keeper.address);
      for (const batch of diamondWork(f)) await record(f, 1n, batch, f.keeper2);
      await expect(f.workflows.connect(f.keeper2).completeExecution(1n, RESULT, 0n)).to.emit(
        f.workflows,
        "ExecutionCompleted",
      );
      expect((await f.workflows.getExecution(1n)).keeper).to.equal(f.keeper2.address);
      await expectHeld(f);
    });

    it("a named keeper that is not an active agent cannot claim (WorkflowsNotActiveAgent); the client cancels for a full refund", async function () {
      const f = await loadListed();
      const price = 5n * AITBC;
      const b = await books(f);
      await f.workflows
        .connect(f.client)
        .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { keeper: f.idle.address }));
      await f.workflows
        .connect(f.client)
        .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { keeper: f.outsider.address }));
      for (const [executionId, named] of [
        [1n, f.idle],
        [2n, f.outsider],
      ] as const) {
        await expect(f.workflows.connect(named).claimExecution(executionId))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotActiveAgent")
          .withArgs(named.address);
        await expect(f.workflows.connect(f.keeper).claimExecution(executionId))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
          .withArgs(executionId, f.keeper.address);
        await expect(f.workflows.connect(f.client).cancelExecution(executionId))
          .to.emit(f.workflows, "ExecutionFailed")
          .withArgs(executionId, id("cancelled by client"), 0n, BUDGET + price);
      }
      await expectBooks(f, b, {});
    });

    it("a client that names its keeper is safe from a stranger agent claiming and spending its budget", async function () {
      const f = await loadListed();
      const price = 5n * AITBC;
      // The attack, without a named keeper: a stranger agent (keeper2) claims first and records the budget as the
      // cost of a step it "ran" itself; failing the execution then refunds the client nothing of the budget.
      let b = await books(f);
      await f.workflows.connect(f.client).requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n));
      await f.workflows.connect(f.keeper2).claimExecution(1n);
      await record(f, 1n, [[0, f.keeper2, BUDGET]], f.keeper2);
      await f.workflows.connect(f.keeper2).failExecution(1n, REASON);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -BUDGET },
        credits: { [f.keeper2.address]: BUDGET },
      });

      // The same client names its keeper: the stranger can neither claim nor record, and is paid nothing.
      b = await books(f);
      await f.workflows
        .connect(f.client)
        .requestExecution(executionRequest(1n, INPUTS, BUDGET, 1n, { keeper: f.keeper.address }));
      await expect(f.workflows.connect(f.keeper2).claimExecution(2n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
        .withArgs(2n, f.keeper2.address);
      const theft = await sign(f, 2n, [[0, f.keeper2, BUDGET]]);
      await expect(f.workflows.connect(f.keeper2).recordSteps(2n, theft))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(2n, EXECUTION.pending);
      await expect(f.workflows.connect(f.keeper2).failExecution(2n, REASON))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(2n, EXECUTION.pending);
      // the named keeper runs it; the stranger still cannot touch it
      await f.workflows.connect(f.keeper).claimExecution(2n);
      await expect(f.workflows.connect(f.keeper2).recordSteps(2n, theft))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
        .withArgs(2n, f.keeper2.address);
      const records: StepRecord[] = [];
      for (const batch of diamondWork(f)) records.push(...(await record(f, 2n, batch)));
      const spent = sum(records.map((r) => r.cost));
      await expect(f.workflows.connect(f.keeper).completeExecution(2n, RESULT, 0n))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(2n, RESULT, anyValue, spent, BUDGET - spent);
      await expectBooks(f, b, {
        balances: { [f.client.address]: -(spent + price) },
        credits: { ...Object.fromEntries(costsByProvider(records)), [f.owner.address]: price },
      });
      expect(await f.workflows.creditsOf(f.keeper2.address)).to.equal(BUDGET); // from the first execution only
    });

    it("reverts WorkflowsNotActiveAgent for unregistered and unstaked callers", async function () {
      const f = await loadPending();
      for (const s of [f.outsider, f.owner, f.idle]) {
        await expect(f.workflows.connect(s).claimExecution(1n))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotActiveAgent")
          .withArgs(s.address);
      }
    });

    it("reverts WorkflowsWrongStatus when already claimed", async function () {
      const f = await loadRunning();
      await expect(f.workflows.connect(f.keeper2).claimExecution(1n))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.running);
    });
  });

  describe("getExecutionStatus", function () {
    it("reports status, steps done (the current step), step count, timings, spent and budget", async function () {
      const f = await loadBase();
      await f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
      expect([...(await f.workflows.getExecutionStatus(1n))]).to.deep.equal([
        EXECUTION.pending,
        0n,
        4n,
        0n,
        0n,
        0n,
        BUDGET,
      ]);
      await f.workflows.connect(f.keeper).claimExecution(1n);
      const startedAt = BigInt(await time.latest());
      expect([...(await f.workflows.getExecutionStatus(1n))]).to.deep.equal([
        EXECUTION.running,
        0n,
        4n,
        startedAt,
        0n,
        0n,
        BUDGET,
      ]);
      const [first, second, third] = diamondWork(f);
      if (!first || !second || !third) throw new Error("diamond");
      await record(f, 1n, first);
      expect([...(await f.workflows.getExecutionStatus(1n))]).to.deep.equal([
        EXECUTION.running,
        1n,
        4n,
        startedAt,
        0n,
        10n * AITBC,
        BUDGET,
      ]);
      await record(f, 1n, second);
      expect((await f.workflows.getExecutionStatus(1n)).stepsDone).to.equal(3n);
      await record(f, 1n, third);
      await time.increase(60);
      await f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n);
      const finishedAt = BigInt(await time.latest());
      expect([...(await f.workflows.getExecutionStatus(1n))]).to.deep.equal([
        EXECUTION.completed,
        4n,
        4n,
        startedAt,
        finishedAt,
        70n * AITBC,
        BUDGET,
      ]);
    });
  });
});
