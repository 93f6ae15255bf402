/**
 * Tokens sent straight to Workflows (outside requests, listings and subscriptions) are not stuck: sweepExcess
 * sends what the contract holds above {totalHeld} (budgets, fees, credits) to the registry's treasury.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { AITBC, mintAitbc } from "../helpers/agents.js";
import { buildRunning } from "../helpers/liveness.js";

const connection = await network.getOrCreate();
const { networkHelpers } = connection;

async function runningFixture() {
  return buildRunning(connection);
}

describe("Workflows: excess tokens", function () {
  it("attack (stuck funds): tokens sent straight to Workflows go to the treasury, what it holds stays", async function () {
    const f = await networkHelpers.loadFixture(runningFixture);
    const address = await f.workflows.getAddress();
    const held = await f.workflows.totalHeld();
    await mintAitbc(f, f.outsider.address, 3n);
    await (await f.token.connect(f.outsider).transfer(address, 3n * AITBC)).wait();
    const treasuryBefore = await f.token.balanceOf(f.treasury.address);
    await expect(f.workflows.connect(f.outsider).sweepExcess())
      .to.emit(f.workflows, "ExcessSwept")
      .withArgs(f.treasury.address, 3n * AITBC);
    expect(await f.token.balanceOf(f.treasury.address)).to.equal(treasuryBefore + 3n * AITBC);
    expect(await f.token.balanceOf(address)).to.equal(held);
  });

  it("reverts WorkflowsNothingToSweep when the balance is all held for users", async function () {
    const f = await networkHelpers.loadFixture(runningFixture);
    await expect(f.workflows.sweepExcess()).to.be.revertedWithCustomError(f.workflows, "WorkflowsNothingToSweep");
  });
});
