/**
 * Workflows: recording steps. recordSteps in batches: dependencies, single payment per step, EIP-712 step
 * signatures, active providers, the budget, the execution time limit, the receipt chain; then 50- and 64-step
 * DAGs recorded with several providers. Unknown ids, the RUN_WORKFLOW action and the emergency stop are in
 * Workflows.guards.test.ts. The fixture and its states are in test/helpers/workflows.ts.
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
  levelBatches,
  loadBase,
  loadPending,
  loadRunning,
  mask,
  MAX_TIME,
  randomDag,
  REASON,
  receiptChain,
  receiptSeed,
  record,
  RESULT,
  runDiamond,
  sign,
  signedRecords,
  type StepRecord,
  sum,
  UNKNOWN,
  type Work,
  workflowSpec,
} from "../helpers/workflows.js";

const { networkHelpers } = await network.getOrCreate();
const { time } = networkHelpers;

describe("Workflows: recording", function () {
  describe("recordSteps", function () {
    it("records a diamond in batches (parallel branches together), crediting only each signing provider", async function () {
      const f = await loadRunning();
      const b = await books(f);
      const all: StepRecord[] = [];
      let spent = 0n;
      for (const batch of diamondWork(f)) {
        const records = await sign(f, 1n, batch);
        const tx = f.workflows.connect(f.keeper).recordSteps(1n, records);
        for (const r of records) {
          await expect(tx)
            .to.emit(f.workflows, "StepRecorded")
            .withArgs(1n, BigInt(r.step), r.provider, r.inputHash, r.outputHash, r.cost);
        }
        all.push(...records);
        spent += sum(records.map((r) => r.cost));
        const e = await f.workflows.getExecution(1n);
        expect(e.stepsDone).to.equal(BigInt(all.length));
        expect(e.doneMask).to.equal(mask(...all.map((r) => r.step)));
        expect(e.spent).to.equal(spent);
        expect(e.receipt).to.equal(receiptChain(receiptSeed(1n, 1n, INPUTS), all));
        await expectHeld(f);
      }
      expect(spent).to.equal(70n * AITBC);
      await expectBooks(f, b, {
        credits: { [f.p1.address]: 30n * AITBC, [f.p2.address]: 15n * AITBC, [f.p3.address]: 25n * AITBC },
        open: -spent, // moved from the execution's escrow to the providers' credits
      });
    });

    it("counts dependencies recorded earlier in the same batch", async function () {
      const f = await loadRunning();
      const records = await record(f, 1n, [
        [0, f.p1, 1n],
        [2, f.p2, 2n],
        [1, f.p3, 3n],
        [3, f.p1, 4n],
      ]);
      const e = await f.workflows.getExecution(1n);
      expect(e.doneMask).to.equal(allSteps(4));
      expect(e.stepsDone).to.equal(4n);
      expect(e.receipt).to.equal(receiptChain(receiptSeed(1n, 1n, INPUTS), records));
      const [r0, r2, r1, r3] = records;
      if (!r0 || !r1 || !r2 || !r3) throw new Error("records");
      // the receipt commits to the submission order
      expect(receiptChain(receiptSeed(1n, 1n, INPUTS), [r0, r1, r2, r3])).to.not.equal(e.receipt);
      expect(await f.workflows.creditsOf(f.p1.address)).to.equal(5n);
      expect(await f.workflows.creditsOf(f.p2.address)).to.equal(2n);
      expect(await f.workflows.creditsOf(f.p3.address)).to.equal(3n);
      await expectHeld(f);
    });

    it("reverts WorkflowsDependencyPending with the mask of the missing dependencies", async function () {
      const f = await loadRunning();
      const cases: Array<[Work[], number, bigint]> = [
        [[[1, f.p1, 1n]], 1, mask(0)],
        [[[3, f.p1, 1n]], 3, mask(1, 2)],
        [
          [
            [0, f.p1, 1n],
            [3, f.p1, 1n],
          ],
          3,
          mask(1, 2),
        ],
        [
          [
            [2, f.p1, 1n],
            [0, f.p1, 1n],
          ],
          2,
          mask(0),
        ],
      ];
      for (const [work, step, missing] of cases) {
        await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, work)))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsDependencyPending")
          .withArgs(1n, BigInt(step), missing);
      }
      await record(f, 1n, [
        [0, f.p1, 1n],
        [1, f.p1, 1n],
      ]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[3, f.p1, 1n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsDependencyPending")
        .withArgs(1n, 3n, mask(2));
    });

    it("reverts WorkflowsStepAlreadyRecorded across batches and within one batch, so a step is paid once", async function () {
      const f = await loadRunning();
      await record(f, 1n, [[0, f.p1, 10n]]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[0, f.p1, 10n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepAlreadyRecorded")
        .withArgs(1n, 0n);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[0, f.p2, 1n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepAlreadyRecorded")
        .withArgs(1n, 0n);
      const twice = await sign(f, 1n, [
        [1, f.p1, 10n],
        [1, f.p2, 10n],
      ]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, twice))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepAlreadyRecorded")
        .withArgs(1n, 1n);
      const same = await sign(f, 1n, [[2, f.p1, 10n]]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, [...same, ...same]))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsStepAlreadyRecorded")
        .withArgs(1n, 2n);
      expect(await f.workflows.creditsOf(f.p1.address)).to.equal(10n);
      expect(await f.workflows.creditsOf(f.p2.address)).to.equal(0n);
      expect((await f.workflows.getExecution(1n)).spent).to.equal(10n);
      await expectHeld(f);
    });

    it("reverts WorkflowsUnknownStep for a step past the workflow's steps", async function () {
      const f = await loadRunning();
      for (const step of [4, 255, 65_535]) {
        await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[step, f.p1, 1n]])))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownStep")
          .withArgs(1n, BigInt(step));
      }
    });

    it("reverts WorkflowsInvalidStepSignature for a wrong signer, tampered fields, another execution or junk", async function () {
      const f = await loadRunning();
      const [good] = await sign(f, 1n, [[0, f.p1, 10n]]);
      if (!good) throw new Error("no record");
      const [byP2] = await signedRecords(f.workflows, 1n, [
        { step: 0, signer: f.p2, cost: 10n, provider: f.p1.address },
      ]);
      const [otherExecution] = await signedRecords(f.workflows, 2n, [
        { step: 0, signer: f.p1, cost: 10n, inputHash: good.inputHash, outputHash: good.outputHash },
      ]);
      if (!byP2 || !otherExecution) throw new Error("no record");
      const bad: StepRecord[] = [
        byP2, // signed by p2, naming p1
        { ...good, provider: f.p2.address }, // p1's signature, naming p2
        { ...good, cost: 11n },
        { ...good, outputHash: id("forged output") },
        { ...good, inputHash: id("forged input") },
        otherExecution, // signed for execution 2, same fields
        { ...good, signature: "0x" },
        { ...good, signature: "0x" + "00".repeat(65) },
      ];
      for (const r of bad) {
        await expect(f.workflows.connect(f.keeper).recordSteps(1n, [r]))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidStepSignature")
          .withArgs(1n, 0n);
      }
      // the good record still goes through, and only its signer is credited
      await f.workflows.connect(f.keeper).recordSteps(1n, [good]);
      expect(await f.workflows.creditsOf(f.p1.address)).to.equal(10n);
      expect(await f.workflows.creditsOf(f.p2.address)).to.equal(0n);
      expect(await f.workflows.creditsOf(f.keeper.address)).to.equal(0n);
    });

    it("reverts WorkflowsProviderNotActive for an unregistered or unstaked provider", async function () {
      const f = await loadRunning();
      for (const s of [f.outsider, f.owner, f.idle]) {
        await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[0, s, 1n]])))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsProviderNotActive")
          .withArgs(1n, s.address);
      }
      // also when a later record of the batch names it
      const batch = await sign(f, 1n, [
        [0, f.p1, 1n],
        [1, f.idle, 1n],
      ]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, batch))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsProviderNotActive")
        .withArgs(1n, f.idle.address);
    });

    it("reverts WorkflowsBudgetExceeded when the steps cost more than the budget, and accepts exactly the budget", async function () {
      const f = await loadRunning();
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, await sign(f, 1n, [[0, f.p1, BUDGET + 1n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsBudgetExceeded")
        .withArgs(1n, BUDGET + 1n, BUDGET);
      await record(f, 1n, [[0, f.p1, 60n * AITBC]]);
      const over = await sign(f, 1n, [
        [1, f.p1, 30n * AITBC],
        [2, f.p2, 20n * AITBC],
      ]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, over))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsBudgetExceeded")
        .withArgs(1n, 110n * AITBC, BUDGET);
      const b = await books(f);
      await record(f, 1n, [
        [1, f.p1, 30n * AITBC],
        [2, f.p2, 10n * AITBC],
        [3, f.p3, 0n],
      ]);
      await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n))
        .to.emit(f.workflows, "ExecutionCompleted")
        .withArgs(1n, RESULT, anyValue, BUDGET, 0n);
      await expectBooks(f, b, {
        credits: { [f.p1.address]: 30n * AITBC, [f.p2.address]: 10n * AITBC },
        open: -40n * AITBC, // the execution's remaining escrow, all spent
      });
    });

    it("records at the last second of maxExecutionTime and reverts WorkflowsExpired one second later, moving nothing", async function () {
      const f = await loadRunning();
      const expiresAt = (await f.workflows.getExecution(1n)).startedAt + MAX_TIME;
      const records = await sign(f, 1n, [[0, f.p1, 10n * AITBC]]);
      const snapshot = await networkHelpers.takeSnapshot();
      await time.setNextBlockTimestamp(expiresAt);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, records, GAS))
        .to.emit(f.workflows, "StepRecorded")
        .withArgs(1n, 0n, f.p1.address, anyValue, anyValue, 10n * AITBC);
      expect((await f.workflows.getExecution(1n)).spent).to.equal(10n * AITBC);
      await snapshot.restore();

      const b = await books(f);
      await time.setNextBlockTimestamp(expiresAt + 1n);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, records, GAS))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsExpired")
        .withArgs(1n, expiresAt);
      await time.increase(MAX_TIME);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, records))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsExpired")
        .withArgs(1n, expiresAt);
      const e = await f.workflows.getExecution(1n);
      expect(e.doneMask).to.equal(0n);
      expect(e.stepsDone).to.equal(0n);
      expect(e.spent).to.equal(0n);
      expect(e.receipt).to.equal(receiptSeed(1n, 1n, INPUTS));
      await expectBooks(f, b, {});
      // what expiry refunds is the whole budget: a late keeper cannot pay its providers out of it first
      await expect(f.workflows.connect(f.outsider).expireExecution(1n))
        .to.emit(f.workflows, "ExecutionFailed")
        .withArgs(1n, id("max execution time exceeded"), 0n, BUDGET);
      await expectBooks(f, b, { balances: { [f.owner.address]: BUDGET }, open: -BUDGET });
    });

    it("reverts WorkflowsEmptyBatch for no records", async function () {
      const f = await loadRunning();
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, [])).to.be.revertedWithCustomError(
        f.workflows,
        "WorkflowsEmptyBatch",
      );
    });

    it("reverts WorkflowsNotKeeper for anyone but the keeper (other agents included)", async function () {
      const f = await loadRunning();
      const records = await sign(f, 1n, [[0, f.p1, 1n]]);
      for (const s of [f.keeper2, f.p1, f.owner, f.outsider]) {
        await expect(f.workflows.connect(s).recordSteps(1n, records))
          .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotKeeper")
          .withArgs(1n, s.address);
      }
    });

    it("reverts WorkflowsWrongStatus unless Running, and WorkflowsUnknownExecution for an unknown one", async function () {
      const f = await loadPending();
      const records = await sign(f, 1n, [[0, f.p1, 1n]]);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, records))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.pending);
      await expect(f.workflows.connect(f.keeper).recordSteps(UNKNOWN, records))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsUnknownExecution")
        .withArgs(UNKNOWN);
      const { executionId } = await runDiamond(f, f.owner);
      await expect(f.workflows.connect(f.keeper).recordSteps(executionId, await sign(f, executionId, [[0, f.p1, 1n]])))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(executionId, EXECUTION.completed);
      await f.workflows.connect(f.keeper).claimExecution(1n);
      await f.workflows.connect(f.keeper).failExecution(1n, REASON);
      await expect(f.workflows.connect(f.keeper).recordSteps(1n, records))
        .to.be.revertedWithCustomError(f.workflows, "WorkflowsWrongStatus")
        .withArgs(1n, EXECUTION.failed);
    });
  });

  describe("large executions", function () {
    for (const [count, seed, batchSize] of [
      [50, 11, 9],
      [64, 5, 16],
    ] as const) {
      it(`records a ${count}-step DAG in batches with several providers and completes it`, async function () {
        const f = await loadBase();
        const deps = randomDag(count, seed);
        await f.workflows.connect(f.owner).defineWorkflow(workflowSpec(deps, { name: `dag-${count}` }));
        const budget = 500n * AITBC;
        const b = await books(f);
        await f.workflows.connect(f.owner).requestExecution(executionRequest(2n, INPUTS, budget, 0n));
        await f.workflows.connect(f.keeper).claimExecution(1n);
        const providers = [f.p1, f.p2, f.p3, f.keeper2];
        const all: StepRecord[] = [];
        const batches = levelBatches(deps, batchSize);
        expect(batches.length).to.be.greaterThan(3);
        for (const batch of batches) {
          const work: Work[] = batch.map((s) => [
            s,
            providers[s % providers.length] ?? f.p1,
            AITBC + BigInt(s) * 10n ** 17n,
          ]);
          all.push(...(await record(f, 1n, work)));
          expect((await f.workflows.getExecution(1n)).stepsDone).to.equal(BigInt(all.length));
        }
        expect(all.length).to.equal(count);
        const spent = sum(all.map((r) => r.cost));
        await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n))
          .to.emit(f.workflows, "ExecutionCompleted")
          .withArgs(1n, RESULT, receiptChain(receiptSeed(1n, 2n, INPUTS), all), spent, budget - spent);
        const e = await f.workflows.getExecution(1n);
        expect(e.doneMask).to.equal(allSteps(count));
        expect(e.receipt).to.equal(receiptChain(receiptSeed(1n, 2n, INPUTS), all));
        const owed = costsByProvider(all);
        expect(owed.size).to.equal(providers.length);
        await expectBooks(f, b, { balances: { [f.owner.address]: -spent }, credits: Object.fromEntries(owed) });
        for (const p of providers) {
          await expect(f.workflows.connect(p).claimCredits())
            .to.emit(f.workflows, "CreditsClaimed")
            .withArgs(p.address, owed.get(p.address) ?? 0n);
        }
        expect(await f.workflows.totalHeld()).to.equal(0n);
        await expectHeld(f);
      });
    }
  });
});
