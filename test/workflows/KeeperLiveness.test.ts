/**
 * Keeper liveness: a keeper that records no step for KEEPER_TIMEOUT after its claim or its last record has
 * stalled, and the client may cancel the running execution: the unspent budget (and any listing fee) comes back,
 * providers keep the credits of the steps already recorded.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { DAY } from "../helpers/agents.js";
import { BUDGET, buildRunning, STEP_COST } from "../helpers/liveness.js";
import { EXECUTION, signedRecords } from "../helpers/workflows.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;
const { time } = networkHelpers;

/** Workflows.KEEPER_TIMEOUT. */
const KEEPER_TIMEOUT = DAY;

async function runningFixture() {
  const f = await buildRunning(connection);
  const lastRecordAt = BigInt(await time.latest());
  return { ...f, stallsAt: lastRecordAt + KEEPER_TIMEOUT };
}

describe("Workflows: keeper liveness", function () {
  it("attack (stalling keeper): the client cancels a stalled execution and gets the unspent budget back", async function () {
    const f = await networkHelpers.loadFixture(runningFixture);
    await time.increaseTo(f.stallsAt + 1n);
    const before = await f.token.balanceOf(f.client.address);
    await expect(f.workflows.connect(f.client).cancelExecution(f.executionId)).to.emit(f.workflows, "ExecutionFailed");
    expect(await f.token.balanceOf(f.client.address)).to.equal(before + BUDGET - STEP_COST);
    expect((await f.workflows.getExecution(f.executionId)).status).to.equal(EXECUTION.failed);
    expect(await f.workflows.creditsOf(f.agent2.address)).to.equal(STEP_COST);
    expect(await f.workflows.totalHeld()).to.equal(STEP_COST);
  });

  it("reverts WorkflowsKeeperNotStalled while the keeper is within KEEPER_TIMEOUT of its last record", async function () {
    const f = await networkHelpers.loadFixture(runningFixture);
    await time.setNextBlockTimestamp(f.stallsAt);
    await expect(f.workflows.connect(f.client).cancelExecution(f.executionId))
      .to.be.revertedWithCustomError(f.workflows, "WorkflowsKeeperNotStalled")
      .withArgs(f.executionId, f.stallsAt);
  });

  it("a record restarts the clock", async function () {
    const f = await networkHelpers.loadFixture(runningFixture);
    await time.increaseTo(f.stallsAt - 10n);
    const records = await signedRecords(f.workflows, f.executionId, [{ step: 1, signer: f.agent2, cost: STEP_COST }]);
    await (await f.workflows.connect(f.agent).recordSteps(f.executionId, records)).wait();
    const stallsAt = BigInt(await time.latest()) + KEEPER_TIMEOUT;
    await time.increaseTo(f.stallsAt + 1n);
    await expect(f.workflows.connect(f.client).cancelExecution(f.executionId))
      .to.be.revertedWithCustomError(f.workflows, "WorkflowsKeeperNotStalled")
      .withArgs(f.executionId, stallsAt);
  });

  it("reverts WorkflowsNotClient when anyone else cancels a stalled execution", async function () {
    const f = await networkHelpers.loadFixture(runningFixture);
    await time.increaseTo(f.stallsAt + 1n);
    await expect(f.workflows.connect(f.outsider).cancelExecution(f.executionId))
      .to.be.revertedWithCustomError(f.workflows, "WorkflowsNotClient")
      .withArgs(f.executionId, f.outsider.address);
  });
});
