/**
 * End to end with real processes: a local chain (in-process Hardhat network served over JSON-RPC), the protocol
 * deployed by its Ignition module, provider nodes and a keeper started as `aitbc provider` / `aitbc keeper` child
 * processes (scripts/lib/devnet.ts). Every assertion is on what the chain holds.
 */
import { execFile, spawnSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { id as hashText, parseEther, ZeroAddress } from "ethers";
import hre from "hardhat";

import { parseBlind, valueHashHex, type Json } from "../../protocol/values.js";
import {
  keeperTransactions as chainKeeperTransactions,
  killNineTrials,
  laneWorkflow,
  stepRecords as chainStepRecords,
} from "../helpers/keeper-trials.js";
import { keeperSeesOffer, oneStepWorkflow } from "../helpers/keepers.js";
import { devAccount, ROLES, startDevnet, type Daemon, type Devnet } from "../../scripts/lib/devnet.js";

const ROOT = path.join(import.meta.dirname, "../..");
const HARDHAT = path.join(ROOT, "node_modules/hardhat/dist/src/cli.js");
/** Async, so this process keeps serving the chain's JSON-RPC while the child runs. */
const run = promisify(execFile);
const IRIS_REPORT = JSON.parse(readFileSync(path.join(ROOT, "examples/iris-report.workflow.json"), "utf8")) as Json;
const FLOWER: Json = { cm: [6.3, 3.3, 6.0, 2.5] };

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

  const stepRecords = (executionId: bigint) => chainStepRecords(devnet, executionId);
  const keeperTransactions = (fromBlock: number) => chainKeeperTransactions(devnet, fromBlock);

  it("runs the demo workflow: five steps, a parallel branch, a proven inference, verified on chain", async function () {
    const workflowId = await devnet.defineWorkflow(IRIS_REPORT);
    const executionId = await devnet.requestExecution(workflowId, FLOWER, keeperUrl);
    const final = await devnet.waitForExecution(executionId, { keeperUrl });
    expect(final.status).to.equal("completed");
    expect((await stepRecords(executionId)).map((r) => r.step).sort()).to.deep.equal([0, 1, 2, 3, 4]);
    const proven = await devnet.protocol.workflows.queryFilter(
      devnet.protocol.workflows.filters.TranscriptChunkProven(executionId),
    );
    expect(proven).to.have.length(1);
    const view = await (await devnet.keeperClient(keeperUrl)).execution(executionId);
    expect(view.result)
      .to.be.a("string")
      .and.to.match(/virginica/);
    // The chain's resultHash opens only with the execution's blind, which the keeper shows its client.
    if (view.blind === null) throw new Error("the view has no blind");
    const { resultHash } = await devnet.protocol.workflows.getExecution(executionId);
    expect(resultHash).to.equal(valueHashHex(view.result, parseBlind(view.blind)));
  });

  it("runs a 50-step workflow to completion, every step recorded once", async function () {
    const workflowId = await devnet.defineWorkflow(laneWorkflow(50));
    const executionId = await devnet.requestExecution(workflowId, { seed: 7 }, keeperUrl);
    expect((await devnet.waitForExecution(executionId, { keeperUrl })).status).to.equal("completed");
    const steps = (await stepRecords(executionId)).map((r) => r.step);
    expect(steps).to.have.length(50);
    expect(new Set(steps).size).to.equal(50);
  });

  it("retries a step elsewhere when its provider is killed mid-step", async function () {
    const slow = await devnet.startProvider(3, { price: "0.01", chaos: { extraDelayMs: 5000 } });
    const slowAddress = ROLES.providers[3]?.agent.address;
    await keeperSeesOffer(keeper, slow, "0.01", "the keeper seeing provider 3");
    const workflowId = await devnet.defineWorkflow(oneStepWorkflow());
    const executionId = await devnet.requestExecution(workflowId, { values: [1, 2, 3] }, keeperUrl);
    await slow.waitFor((l) => l.event === "step-started", 30_000, "the step reaching provider 3");
    await slow.kill9();
    expect((await devnet.waitForExecution(executionId)).status).to.equal("completed");
    const [record] = await stepRecords(executionId);
    expect(record?.provider.toLowerCase()).to.not.equal(slowAddress?.toLowerCase());
  });

  for (const [index, fault, pattern] of [
    [4, "tamperOutputRate", /outputHash is not the hash of the output/],
    [3, "badSignatureRate", /signature recovers to/],
  ] as const) {
    it(`rejects and reports a provider whose ${fault === "tamperOutputRate" ? "output is tampered" : "signature is bad"}, and completes elsewhere`, async function () {
      const faulty = await devnet.startProvider(index, { price: "0.01", chaos: { [fault]: 1 } });
      const address = ROLES.providers[index]?.agent.address.toLowerCase();
      await keeperSeesOffer(keeper, faulty, "0.01", "the keeper seeing the faulty provider");
      const workflowId = await devnet.defineWorkflow(oneStepWorkflow());
      const executionId = await devnet.requestExecution(workflowId, { values: [4, 5, index] }, keeperUrl);
      expect((await devnet.waitForExecution(executionId)).status).to.equal("completed");
      const [record] = await stepRecords(executionId);
      expect(record?.provider.toLowerCase()).to.not.equal(address);
      const reports = await (await devnet.keeperClient(keeperUrl, ROLES.keeperOperator.address)).reports();
      const report = reports.find(
        (r) => r.provider.toLowerCase() === address && r.executionId === executionId.toString(),
      );
      expect(report?.reason).to.match(pattern);
      await faulty.stop();
    });
  }

  it("times a slow provider out and retries elsewhere; fails cleanly when the budget cannot pay a step", async function () {
    const slow = await devnet.startProvider(5, { price: "0.01", chaos: { extraDelayMs: 8000 } });
    await keeperSeesOffer(keeper, slow, "0.01", "the keeper seeing the slow provider");
    const workflowId = await devnet.defineWorkflow(oneStepWorkflow(1, 0));
    const executionId = await devnet.requestExecution(workflowId, { values: [9, 9] }, keeperUrl);
    expect((await devnet.waitForExecution(executionId)).status).to.equal("completed");
    expect(keeper.lines.some((l) => l.kind === "timeout" && l.executionId === executionId.toString())).to.equal(true);
    await slow.stop();

    const cheap = 10n ** 15n; // below every provider's price
    const failing = await devnet.requestExecution(workflowId, { values: [1] }, keeperUrl, cheap);
    const final = await devnet.waitForExecution(failing, { keeperUrl });
    expect(final.status).to.equal("failed");
    const [failed] = await devnet.protocol.workflows.queryFilter(
      devnet.protocol.workflows.filters.ExecutionFailed(failing),
    );
    expect(failed?.args.refund).to.equal(cheap);
    const view = await (await devnet.keeperClient(keeperUrl)).execution(failing);
    expect(view.reason).to.match(/budget exhausted/);
  });

  it("survives a reorg that orphans an execution it handled: the reused id runs with the new inputs", async function () {
    const { provider } = devnet.connection;
    const workflowId = await devnet.defineWorkflow(oneStepWorkflow());
    const snapshot = (await provider.request({ method: "evm_snapshot", params: [] })) as string;
    const orphaned = await devnet.requestExecution(workflowId, { values: [1, 1, 1] }, keeperUrl);
    expect((await devnet.waitForExecution(orphaned)).status).to.equal("completed");
    const fromBlock = await devnet.connection.ethers.provider.getBlockNumber();
    expect(await provider.request({ method: "evm_revert", params: [snapshot] })).to.equal(true);
    await keeper.waitFor((l) => /reorg/.test(l.msg), 30_000, "the keeper noticing the reorg");
    const inputs = { values: [2, 3, 5, 7] };
    const replacement = await devnet.requestExecution(workflowId, inputs, keeperUrl);
    expect(replacement).to.equal(orphaned);
    expect((await devnet.waitForExecution(replacement)).status).to.equal("completed");
    const execution = await devnet.protocol.workflows.getExecution(replacement);
    const view = await (await devnet.keeperClient(keeperUrl)).execution(replacement);
    if (view.blind === null) throw new Error("the view has no blind");
    const blind = parseBlind(view.blind);
    expect(execution.inputsHash).to.equal(valueHashHex(inputs, blind));
    const expected = valueHashHex({ count: 4, max: 7, mean: 4.25, min: 2, spread: 5 }, blind);
    expect(execution.resultHash).to.equal(expected);
    expect((await keeperTransactions(fromBlock - 20)).filter((t) => t.status !== 1)).to.deep.equal([]);
  });

  it("completes every execution after kill -9 at random points (10 trials, 20-step workflows): no step lost, nothing sent twice", async function () {
    ({ keeper, url: keeperUrl } = await killNineTrials(devnet, { keeper, url: keeperUrl }, () =>
      devnet.startKeeper({}, "keeper"),
    ));
  });

  it("runs a workflow with the `workflow run` task (a hardhat process on the `custom` network), progress shown live", async function () {
    const workflowId = await devnet.defineWorkflow(oneStepWorkflow());
    await devnet.fundClient(100n);
    const inputs = path.join(devnet.dir, "task-inputs.json");
    writeFileSync(inputs, JSON.stringify({ values: [3, 1, 4, 1, 5] }));
    const { stdout } = await run(
      process.execPath,
      [
        HARDHAT,
        "workflow",
        "run",
        "--network",
        "custom",
        "--workflow",
        workflowId.toString(),
        "--inputs",
        inputs,
        "--keeper-url",
        keeperUrl,
        "--budget",
        "2",
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          AITBC_RPC_URL: devnet.url,
          AITBC_PRIVATE_KEY: ROLES.client.privateKey,
          AITBC_ADDRESSES: devnet.addressesFile,
        },
      },
    );
    const executionId = /execution #(\d+) of workflow/.exec(stdout)?.[1];
    expect(executionId, stdout).to.be.a("string");
    expect(stdout).to.match(new RegExp(`execution #${executionId} \\[#{20}\\] 1/1 recorded.*; completed`));
    expect((await devnet.protocol.workflows.getExecution(BigInt(executionId ?? "0"))).status).to.equal(3n);
    // The result reaches the user at the end of the run, opened and checked against the chain.
    const expected = { count: 5, max: 5, mean: 2.8, min: 1, spread: 4 };
    expect(JSON.parse(/result {2}(.*)/.exec(stdout)?.[1] ?? "null"), stdout).to.deep.equal(expected);
    expect(stdout).to.include("(matches the chain's resultHash)");

    // The client lets another key read the result (`workflow grant`), which reads it (`workflow result`).
    const reader = devAccount(19);
    const task = (args: string[], key: string) =>
      run(process.execPath, [HARDHAT, "workflow", ...args, "--network", "custom", "--keeper-url", keeperUrl], {
        cwd: ROOT,
        env: {
          ...process.env,
          AITBC_RPC_URL: devnet.url,
          AITBC_PRIVATE_KEY: key,
          AITBC_ADDRESSES: devnet.addressesFile,
        },
      });
    const granted = await task(
      ["grant", "--execution", String(executionId), "--reader", reader.address, "--duration", "1h"],
      ROLES.client.privateKey,
    );
    expect(granted.stdout).to.match(new RegExp(`execution #${executionId}: ${reader.address} may read its results`));
    const read = await task(["result", "--execution", String(executionId)], reader.privateKey);
    expect(read.stdout).to.include(`read by ${reader.address}): done`);
    expect(JSON.parse(/result {2}(.*)/.exec(read.stdout)?.[1] ?? "null")).to.deep.equal(expected);
    // `workflow show` and `workflow follow` print it through the same path, to the granted reader...
    const shown = await task(["show", "--execution", String(executionId)], reader.privateKey);
    expect(shown.stdout).to.match(/result hash {5}0x[0-9a-f]{64}/);
    expect(JSON.parse(/result {2}(.*)/.exec(shown.stdout)?.[1] ?? "null")).to.deep.equal(expected);
    const followed = await task(["follow", "--execution", String(executionId)], reader.privateKey);
    expect(followed.stdout).to.match(new RegExp(`execution #${executionId} \\[#{20}\\] 1/1 recorded.*; completed`));
    expect(JSON.parse(/result {2}(.*)/.exec(followed.stdout)?.[1] ?? "null")).to.deep.equal(expected);
    // ...and say plainly that anyone else is not authorised (and show no result); `workflow result` fails with it.
    const outsider = devAccount(18);
    const refused = await task(["show", "--execution", String(executionId)], outsider.privateKey);
    expect(refused.stdout).to.include(
      `result: ${outsider.address} is not authorised to read execution #${executionId}'s result from the keeper`,
    );
    expect(refused.stdout).to.not.match(/spread|mean/);
    const failed = await task(["result", "--execution", String(executionId)], outsider.privateKey).then(
      () => undefined,
      (error: unknown) => error as { stdout: string; stderr: string; code: number },
    );
    expect(failed?.code, "workflow result by an outsider").to.equal(1);
    expect(failed?.stderr).to.include(
      `result: ${outsider.address} is not authorised to read execution #${executionId}`,
    );
    expect(`${failed?.stdout}${failed?.stderr}`).to.not.match(/spread|mean/);
  });

  it("a negative --amount on the real command line reaches the task through Hardhat's own parser and is refused, naming the flag", async function () {
    const before = await devnet.protocol.token.balanceOf(ROLES.client.address);
    const failed = await run(
      process.execPath,
      [HARDHAT, "token", "transfer", "--network", "custom", "--to", ROLES.keeper.address, "--amount", "-1"],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          AITBC_RPC_URL: devnet.url,
          AITBC_PRIVATE_KEY: ROLES.client.privateKey,
          AITBC_ADDRESSES: devnet.addressesFile,
        },
      },
    ).then(
      () => expect.fail("the transfer succeeded"),
      (error: unknown) => error as { code: number; stderr: string },
    );
    // With or without a stack trace (CI shows them), the message is the task's, not the parser's.
    expect(failed.code).to.equal(1);
    expect(failed.stderr).to.include('--amount: "-1" is not a number of AITBC');
    expect(await devnet.protocol.token.balanceOf(ROLES.client.address)).to.equal(before);
  });

  it("claims and completes an open request (no keeper named)", async function () {
    const workflowId = await devnet.defineWorkflow(oneStepWorkflow());
    const open = await devnet.requestExecution(workflowId, { values: [8, 6] }, keeperUrl, 10n ** 18n, ZeroAddress);
    expect((await devnet.waitForExecution(open)).status).to.equal("completed");
    expect((await devnet.protocol.workflows.getExecution(open)).keeperId).to.equal(
      BigInt(String((await keeper.ready()).agentId)),
    );
  });

  it("is paid its fee from the budget, never more than the client accepted (the keeper asks 0.1 AITBC)", async function () {
    const { workflows } = devnet.protocol;
    const workflowId = await devnet.defineWorkflow(oneStepWorkflow());
    const keeperAddress = String((await keeper.ready()).address);
    const credits0 = await workflows.creditsOf(keeperAddress);
    // The client accepts 0.05: the keeper takes 0.05, not the 0.1 it asks.
    const capped = await devnet.requestExecution(
      workflowId,
      { values: [2, 4] },
      keeperUrl,
      10n ** 18n,
      keeperAddress,
      5n * 10n ** 16n,
    );
    // The client accepts 0.5: the keeper takes what it asks.
    const asked = await devnet.requestExecution(
      workflowId,
      { values: [3, 5] },
      keeperUrl,
      10n ** 18n,
      keeperAddress,
      5n * 10n ** 17n,
    );
    for (const id of [capped, asked]) expect((await devnet.waitForExecution(id)).status).to.equal("completed");
    const fees = [];
    for (const id of [capped, asked]) {
      const [paid] = await workflows.queryFilter(workflows.filters.KeeperPaid(id));
      const [done] = await workflows.queryFilter(workflows.filters.ExecutionCompleted(id));
      const e = await workflows.getExecution(id);
      expect(paid?.args.keeper).to.equal(keeperAddress);
      expect(done?.args.refund, "the client gets the rest").to.equal(e.budget - e.spent - (paid?.args.fee ?? 0n));
      fees.push(paid?.args.fee);
    }
    expect(fees).to.deep.equal([5n * 10n ** 16n, 10n ** 17n]);
    expect((await workflows.creditsOf(keeperAddress)) - credits0).to.equal(15n * 10n ** 16n);
  });

  // Last: it moves the chain's clock past the voting delay (a day) and replaces the keeper.
  it("votes on proposals by its governance policy, with the rule as the reason (keeper restarted with governance on)", async function () {
    const { governor, registry } = devnet.protocol;
    await keeper.stop();
    const voter = await devnet.startKeeper(
      {
        governance: {
          enabled: true,
          default: "skip",
          schedule: "* * * * * *",
          rules: [
            {
              name: "min-stake-range",
              target: "registry",
              function: "setMinStake",
              params: { minStake: { min: "500 AITBC", max: "5000 AITBC" } },
              vote: "for",
              otherwise: "against",
            },
          ],
        },
      },
      "keeper-governance",
    );
    const proposerAddress = ROLES.providers[0]?.agent.address ?? "";
    const proposer = await devnet.connection.ethers.getSigner(proposerAddress);
    const propose = async (minStake: bigint, description: string) => {
      const targets = [await registry.getAddress()];
      const calldatas = [registry.interface.encodeFunctionData("setMinStake", [minStake])];
      await (await governor.connect(proposer).propose(targets, [0n], calldatas, description)).wait();
      return governor.getProposalId(targets, [0n], calldatas, hashText(description));
    };
    const within = await propose(parseEther("1500"), "Minimum stake 1,500 AITBC");
    const outside = await propose(parseEther("9000"), "Minimum stake 9,000 AITBC");
    await devnet.connection.networkHelpers.time.increase((await governor.votingDelay()) + 1n);

    for (const id of [within, outside]) {
      await voter.waitFor(
        (l) => l.event === "vote" && l.proposalId === id.toString(),
        30_000,
        `the keeper's vote on proposal ${id}`,
      );
    }
    const casts = await governor.queryFilter(governor.filters.VoteCast(ROLES.keeper.address));
    const byProposal = new Map(casts.map((e) => [e.args.proposalId, e.args]));
    expect(byProposal.get(within)?.support).to.equal(1n);
    expect(byProposal.get(within)?.reason).to.match(/min-stake-range/);
    expect(byProposal.get(outside)?.support).to.equal(0n);
    expect(byProposal.get(outside)?.reason).to.match(/min-stake-range.*above max/);
    expect(byProposal.get(within)?.weight).to.equal(
      await devnet.protocol.agentVotes.getPastVotes(ROLES.keeper.address, await governor.proposalSnapshot(within)),
    );
    expect(byProposal.get(within)?.weight).to.equal(parseEther("2000")); // its stake, no bonus yet at the snapshot
    // One vote each, whatever the number of runs since.
    await sleep(1500);
    expect(await governor.queryFilter(governor.filters.VoteCast(ROLES.keeper.address))).to.have.length(2);
    await voter.stop();
  });

  it("rejects an invalid keeper config with a message naming the field (exit code 2)", function () {
    const file = path.join(devnet.dir, "bad-keeper.json");
    writeFileSync(file, JSON.stringify({ rpc: { urls: ["not a url"] }, agent: { privateKey: "0x1234" } }));
    const run = spawnSync(process.execPath, [path.join(ROOT, "keepers/bin/aitbc.mjs"), "keeper", "--config", file], {
      encoding: "utf8",
      env: { ...process.env, LOG_PRETTY: "0" },
    });
    expect(run.status).to.equal(2);
    expect(run.stderr).to.match(/rpc\.urls\[0\]/);
    expect(run.stderr).to.match(/agent\.privateKey/);
  });
});
