/**
 * What the keeper's end-to-end tests read from the chain and the crash trials they share (test/e2e/daemons.test.ts
 * on SQLite, test/e2e/keeper-replicas.test.ts on PostgreSQL): the steps recorded for an execution, every
 * transaction the keeper sent, lane workflows, and kill -9 at random points with every execution checked on chain.
 */
import { expect } from "chai";

import type { Json } from "../../protocol/values.js";
import { ROLES, type Daemon, type Devnet } from "../../scripts/lib/devnet.js";

/** A basic workflow of `count` data steps: five parallel lanes, then a join (fan-in 5). */
export function laneWorkflow(count: number, overrides: Record<string, unknown> = {}): Json {
  const steps = Array.from({ length: count }, (_, i) => {
    const deps = i === count - 1 ? [1, 2, 3, 4, 5].map((k) => i - k).filter((d) => d >= 0) : i < 5 ? [] : [i - 5];
    const data = deps.length === 0 ? ["$in.seed", i] : deps.map((d) => `$s${d}.max`).concat([String(i)]);
    return {
      id: `s${i}`,
      type: "data-processing",
      model: "aitbc.data.v1",
      dependsOn: deps.map((d) => `s${d}`),
      input: { op: "stats", data },
      timeout: 20,
      maxRetries: 2,
      retryBackoff: 1,
    };
  });
  return {
    name: `lanes-${count}`,
    maxExecutionTime: "1h",
    maxBudget: "100",
    verification: "basic",
    steps,
    ...overrides,
  };
}

/** The StepRecorded events of an execution, in chain order. */
export async function stepRecords(devnet: Devnet, executionId: bigint) {
  const logs = await devnet.protocol.workflows.queryFilter(devnet.protocol.workflows.filters.StepRecorded(executionId));
  return logs.map((l) => ({ step: Number(l.args.step), provider: l.args.provider }));
}

/** Every transaction the keeper sent since `fromBlock`, with its status and function. */
export async function keeperTransactions(devnet: Devnet, fromBlock: number) {
  const { ethers } = devnet.connection;
  const out: { hash: string; status: number; method: string; args: string }[] = [];
  for (let n = fromBlock; n <= (await ethers.provider.getBlockNumber()); n++) {
    const block = await ethers.provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.from.toLowerCase() !== ROLES.keeper.address.toLowerCase()) continue;
      const receipt = await ethers.provider.getTransactionReceipt(tx.hash);
      const parsed = devnet.protocol.workflows.interface.parseTransaction({ data: tx.data });
      out.push({
        hash: tx.hash,
        status: receipt?.status ?? -1,
        method: parsed?.name ?? tx.data.slice(0, 10),
        args: String(parsed?.args[0] ?? ""),
      });
    }
  }
  return out;
}

/**
 * Every execution completed with each of its `steps` steps recorded exactly once, and the keeper's transactions
 * since `fromBlock`: none reverted, one claim and one completion per execution. Returns those transactions.
 */
export async function expectCompletedOnce(devnet: Devnet, executions: bigint[], steps: number, fromBlock: number) {
  for (const executionId of executions) {
    expect((await devnet.waitForExecution(executionId)).status, `execution ${executionId}`).to.equal("completed");
    const recorded = (await stepRecords(devnet, executionId)).map((r) => r.step);
    expect(recorded, `execution ${executionId} steps`).to.have.length(steps);
    expect(new Set(recorded).size).to.equal(steps);
  }
  const txs = await keeperTransactions(devnet, fromBlock);
  expect(
    txs.filter((t) => t.status !== 1),
    "reverted keeper transactions",
  ).to.deep.equal([]);
  for (const method of ["claimExecution", "completeExecution"]) {
    const ids = txs.filter((t) => t.method === method).map((t) => t.args);
    expect(ids, method).to.have.length(executions.length);
    expect(new Set(ids).size, `${method} once per execution`).to.equal(executions.length);
  }
  return txs;
}

/**
 * `trials` times: a client requests an execution of a 20-step lane workflow, the keeper is killed (SIGKILL) after a
 * random wait of up to 1.5 s and started again by `restart`; then every execution must complete with no step lost
 * and nothing sent twice (expectCompletedOnce). Returns the keeper running at the end and its URL.
 */
export async function killNineTrials(
  devnet: Devnet,
  start: { keeper: Daemon; url: string },
  restart: () => Promise<Daemon>,
  trials = 10,
): Promise<{ keeper: Daemon; url: string }> {
  let { keeper, url } = start;
  const fromBlock = await devnet.connection.ethers.provider.getBlockNumber();
  const workflowId = await devnet.defineWorkflow(laneWorkflow(20, { name: "crash-20" }));
  const executions: bigint[] = [];
  let seed = 12_345;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < trials; trial++) {
    executions.push(await devnet.requestExecution(workflowId, { seed: 100 + trial }, url));
    await new Promise((r) => setTimeout(r, Math.floor(random() * 1500)));
    await keeper.kill9();
    keeper = await restart();
    url = String((await keeper.ready()).url);
  }
  await expectCompletedOnce(devnet, executions, 20, fromBlock + 1);
  return { keeper, url };
}
