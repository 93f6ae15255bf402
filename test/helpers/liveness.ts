/**
 * Shared set-up for the Workflows economic-security tests (test/workflows/*): a running execution of a 3-step chain
 * claimed by an unnamed keeper, with one step recorded.
 */
import { id, MaxUint256 } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import { AITBC, MIN_STAKE, mintAitbc, registerAndStake } from "./agents.js";
import { chainSpec, executionRequest, MAX_EXECUTION_TIME, signedRecords } from "./workflows.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";

export const BUDGET = 100n * AITBC;
export const STEP_COST = 10n * AITBC;
export const INPUTS = id("inputs");

/**
 * The protocol; `agent` (keeper) and `agent2` (provider) staked; `client` funded, approving Workflows, owner of
 * workflow 1 (a 3-step chain allowed the longest execution time); execution 1 requested by `client` without a
 * named keeper, claimed by `agent`, step 0 recorded at STEP_COST by `agent2`.
 */
export async function buildRunning(connection: NetworkConnection) {
  const core = await deployProtocol(connection);
  const { token, workflows, agent, agent2, operator, client } = core;
  await registerAndStake(core, agent, operator, MIN_STAKE);
  await registerAndStake(core, agent2, operator, MIN_STAKE);
  await mintAitbc(core, client.address, 10_000n);
  await (await token.connect(client).approve(await workflows.getAddress(), MaxUint256)).wait();
  await (await workflows.connect(client).defineWorkflow(chainSpec(3, { maxExecutionTime: MAX_EXECUTION_TIME }))).wait();
  await (await workflows.connect(client).requestExecution(executionRequest(1n, INPUTS, BUDGET))).wait();
  const executionId = 1n;
  await (await workflows.connect(agent).claimExecution(executionId)).wait();
  const records = await signedRecords(workflows, executionId, [{ step: 0, signer: agent2, cost: STEP_COST }]);
  await (await workflows.connect(agent).recordSteps(executionId, records)).wait();
  return { ...core, executionId };
}
