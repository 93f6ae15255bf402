/**
 * End to end with real processes: a local chain (in-process Hardhat network served over JSON-RPC), the protocol
 * deployed by its Ignition module, provider nodes and a keeper started as `aitbc provider` / `aitbc keeper` child
 * processes (scripts/lib/devnet.ts). Every assertion is on what the chain holds.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import hre from "hardhat";

import { valueHashHex, type Json } from "../../keepers/common/values.js";
import { ROLES, startDevnet, type Daemon, type Devnet } from "../../scripts/lib/devnet.js";

const ROOT = path.join(import.meta.dirname, "../..");
const IRIS_REPORT = JSON.parse(readFileSync(path.join(ROOT, "examples/iris-report.workflow.json"), "utf8")) as Json;
const FLOWER: Json = { cm: [6.3, 3.3, 6.0, 2.5] };

/** A basic workflow of `count` data steps: five parallel lanes, then a join (fan-in 5). */
function laneWorkflow(count: number, overrides: Record<string, unknown> = {}): Json {
  const steps = Array.from({ length: count }, (_, i) => {
    const deps = i === count - 1 ? [1, 2, 3, 4, 5].map((k) => i - k).filter((d) => d >= 0) : i < 5 ? [] : [i - 5];
    const data = deps.length === 0 ? ["$in.seed", i] : deps.map((d) => `$s${d}.max`).concat([String(i)]);
    return { id: `s${i}`, type: "data-processing", model: "aitbc.data.v1", dependsOn: deps.map((d) => `s${d}`), input: { op: "stats", data }, timeout: 20, maxRetries: 2, retryBackoff: 1 };
  });
  return { name: `lanes-${count}`, maxExecutionTime: "1h", maxBudget: "100", verification: "basic", steps, ...overrides } as Json;
}

describe("daemons end to end (real processes)", function () {
  this.timeout(600_000);
  let devnet: Devnet;
  let keeper: Daemon;
  let keeperUrl: string;

  before(async function () {
    devnet = await startDevnet(hre);
    for (const i of [0, 1, 2]) await devnet.startProvider(i);
    keeper = await devnet.startKeeper();
    keeperUrl = String((await keeper.ready()).url);
  });

  after(async function () {
    await devnet.stop();
  });

  async function stepRecords(executionId: bigint) {
    const logs = await devnet.protocol.workflows.queryFilter(devnet.protocol.workflows.filters.StepRecorded(executionId));
    return logs.map((l) => ({ step: Number(l.args.step), provider: l.args.provider }));
  }

  /** Every transaction the keeper sent since `fromBlock`, with its status and function. */
  async function keeperTransactions(fromBlock: number) {
    const { ethers } = devnet.connection;
    const out: { status: number; method: string; args: string }[] = [];
    for (let n = fromBlock; n <= (await ethers.provider.getBlockNumber()); n++) {
      const block = await ethers.provider.getBlock(n, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        if (tx.from.toLowerCase() !== ROLES.keeper.address.toLowerCase()) continue;
        const receipt = await ethers.provider.getTransactionReceipt(tx.hash);
        const parsed = devnet.protocol.workflows.interface.parseTransaction({ data: tx.data });
        out.push({ status: receipt?.status ?? -1, method: parsed?.name ?? tx.data.slice(0, 10), args: String(parsed?.args[0] ?? "") });
      }
    }
    return out;
  }

  it("runs the demo workflow: five steps, a parallel branch, a proven inference, verified on chain", async function () {
    const workflowId = await devnet.defineWorkflow(IRIS_REPORT);
    const executionId = await devnet.requestExecution(workflowId, FLOWER, keeperUrl);
    const final = await devnet.waitForExecution(executionId, { keeperUrl });
    expect(final.status).to.equal("completed");
    expect((await stepRecords(executionId)).map((r) => r.step).sort()).to.deep.equal([0, 1, 2, 3, 4]);
    const proven = await devnet.protocol.workflows.queryFilter(devnet.protocol.workflows.filters.TranscriptChunkProven(executionId));
    expect(proven).to.have.length(1);
    const view = (await (await fetch(`${keeperUrl}/v1/executions?id=${executionId}`)).json()) as { result: Json };
    expect(view.result).to.be.a("string").and.to.match(/virginica/);
    expect((await devnet.protocol.workflows.getExecution(executionId)).resultHash).to.equal(valueHashHex(view.result));
  });

  it("runs a 50-step workflow to completion, every step recorded once", async function () {
    const workflowId = await devnet.defineWorkflow(laneWorkflow(50));
    const executionId = await devnet.requestExecution(workflowId, { seed: 7 }, keeperUrl);
    expect((await devnet.waitForExecution(executionId, { keeperUrl })).status).to.equal("completed");
    const steps = (await stepRecords(executionId)).map((r) => r.step);
    expect(steps).to.have.length(50);
    expect(new Set(steps).size).to.equal(50);
  });

  it("rejects an invalid keeper config with a message naming the field (exit code 2)", function () {
    const file = path.join(devnet.dir, "bad-keeper.json");
    writeFileSync(file, JSON.stringify({ rpc: { urls: ["not a url"] }, agent: { privateKey: "0x1234" } }));
    const run = spawnSync(process.execPath, [path.join(ROOT, "keepers/bin/aitbc.mjs"), "keeper", "--config", file], { encoding: "utf8", env: { ...process.env, LOG_PRETTY: "0" } });
    expect(run.status).to.equal(2);
    expect(run.stderr).to.match(/rpc\.urls\[0\]/);
    expect(run.stderr).to.match(/agent\.privateKey/);
  });
});
