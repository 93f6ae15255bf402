/**
 * Workflows: the keeper's fee. A client accepts a fee of up to `maxKeeperFee` (at most its budget) in its request;
 * the keeper names its fee when it completes the execution and is credited it from the budget; the client is
 * refunded the rest. A keeper asking more than the client accepted, or more than the steps left of the budget, is
 * refused; a failed execution pays no fee. And the keeper daemon's choice of fee (keeperFeeFor).
 */
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { network } from "hardhat";

import { keeperFeeFor } from "../../keepers/keeper/executions.js";
import { AITBC } from "../helpers/agents.js";
import {
  books,
  BUDGET,
  costsByProvider,
  diamondWork,
  executionRequest,
  expectBooks,
  expectHeld,
  INPUTS,
  loadBase,
  REASON,
  record,
  RESULT,
  type StepRecord,
  sum,
} from "../helpers/workflows.js";

await network.getOrCreate();

const MAX_FEE = AITBC / 2n;

/** The base fixture with execution 1 requested (accepting a keeper fee of up to `maxKeeperFee`) and claimed. */
async function claimed(maxKeeperFee: bigint) {
  const f = await loadBase();
  const b = await books(f);
  await f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n, { maxKeeperFee }));
  await f.workflows.connect(f.keeper).claimExecution(1n);
  return { f, b };
}

async function recorded(maxKeeperFee: bigint) {
  const { f, b } = await claimed(maxKeeperFee);
  const records: StepRecord[] = [];
  for (const batch of diamondWork(f)) records.push(...(await record(f, 1n, batch)));
  return { f, b, records, spent: sum(records.map((r) => r.cost)) };
}

describe("Workflows: keeper fee", function () {
  it("credits the keeper its fee from the budget and refunds the client the rest", async function () {
    const { f, b, records, spent } = await recorded(MAX_FEE);
    expect((await f.workflows.getExecution(1n)).maxKeeperFee).to.equal(MAX_FEE);
    await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, MAX_FEE))
      .to.emit(f.workflows, "KeeperPaid")
      .withArgs(1n, f.keeper.address, MAX_FEE)
      .and.to.emit(f.workflows, "ExecutionCompleted")
      .withArgs(1n, RESULT, anyValue, spent, BUDGET - spent - MAX_FEE);
    expect(await f.workflows.creditsOf(f.keeper.address)).to.equal(MAX_FEE);
    await expectBooks(f, b, {
      balances: { [f.owner.address]: -(spent + MAX_FEE) },
      credits: Object.fromEntries([...costsByProvider(records), [f.keeper.address, MAX_FEE]]),
    });
    await expectHeld(f);
    const before = await f.token.balanceOf(f.keeper.address);
    await f.workflows.connect(f.keeper).claimCredits();
    expect((await f.token.balanceOf(f.keeper.address)) - before).to.equal(MAX_FEE);
    await expectHeld(f);
  });

  it("refuses a keeper taking more than the client accepted (WorkflowsKeeperFeeAboveMax); nothing moves", async function () {
    const { f, b, records, spent } = await recorded(MAX_FEE);
    await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, MAX_FEE + 1n))
      .to.be.revertedWithCustomError(f.workflows, "WorkflowsKeeperFeeAboveMax")
      .withArgs(1n, MAX_FEE + 1n, MAX_FEE);
    await expectBooks(f, b, {
      balances: { [f.owner.address]: -BUDGET },
      credits: Object.fromEntries(costsByProvider(records)),
      open: BUDGET - spent,
    });
    // At what the client accepted, it completes.
    await f.workflows.connect(f.keeper).completeExecution(1n, RESULT, MAX_FEE);
    expect(await f.workflows.creditsOf(f.keeper.address)).to.equal(MAX_FEE);
  });

  it("a request that accepted no fee pays none: any fee above 0 is refused", async function () {
    const { f } = await recorded(0n);
    await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 1n))
      .to.be.revertedWithCustomError(f.workflows, "WorkflowsKeeperFeeAboveMax")
      .withArgs(1n, 1n, 0n);
    await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, 0n)).to.not.emit(
      f.workflows,
      "KeeperPaid",
    );
    expect(await f.workflows.creditsOf(f.keeper.address)).to.equal(0n);
    await expectHeld(f);
  });

  it("refuses a fee above what the steps left of the budget (WorkflowsBudgetExceeded)", async function () {
    const { f, spent } = await recorded(BUDGET);
    const left = BUDGET - spent;
    await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, left + 1n))
      .to.be.revertedWithCustomError(f.workflows, "WorkflowsBudgetExceeded")
      .withArgs(1n, BUDGET + 1n, BUDGET);
    await expect(f.workflows.connect(f.keeper).completeExecution(1n, RESULT, left))
      .to.emit(f.workflows, "KeeperPaid")
      .withArgs(1n, f.keeper.address, left);
    await expectHeld(f);
  });

  it("refuses a request accepting a fee above its budget (WorkflowsInvalidKeeperFee)", async function () {
    const f = await loadBase();
    await expect(
      f.workflows
        .connect(f.owner)
        .requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n, { maxKeeperFee: BUDGET + 1n })),
    )
      .to.be.revertedWithCustomError(f.workflows, "WorkflowsInvalidKeeperFee")
      .withArgs(BUDGET + 1n, BUDGET);
    await f.workflows
      .connect(f.owner)
      .requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n, { maxKeeperFee: BUDGET }));
    expect((await f.workflows.getExecution(1n)).maxKeeperFee).to.equal(BUDGET);
  });

  it("a failed execution pays no fee: the client gets the unspent budget back", async function () {
    const { f, b } = await claimed(MAX_FEE);
    await f.workflows.connect(f.keeper).failExecution(1n, REASON);
    expect(await f.workflows.creditsOf(f.keeper.address)).to.equal(0n);
    await expectBooks(f, b, {});
    await expectHeld(f);
  });

  it("the keeper daemon asks its fee, at most what the client accepted and what the budget has left", function () {
    const e = { maxKeeperFee: 5n, budget: 100n, spent: 90n };
    expect(keeperFeeFor(3n, e)).to.equal(3n);
    expect(keeperFeeFor(7n, e)).to.equal(5n);
    expect(keeperFeeFor(7n, { ...e, spent: 98n })).to.equal(2n);
    expect(keeperFeeFor(7n, { ...e, maxKeeperFee: 0n })).to.equal(0n);
  });
});
