/**
 * The whole protocol end to end on the embedded default, with its daemons as real processes: start a local chain
 * (an in-process Hardhat network served over JSON-RPC), deploy the protocol with its Ignition module, start three
 * provider nodes (`aitbc provider`: each registers, stakes and lists its services) and a keeper (`aitbc keeper`),
 * submit a five-step zk workflow with a parallel branch and a proven Iris inference (examples/), let the keeper run
 * it on the providers and record it with its workflow and inference proofs (verified on chain), settle the
 * providers' credits, mint AITBC against the attested compute receipts, print a summary, and shut everything down.
 *
 *   ./npmw run demo          (AITBC_DEMO_LOGS=1 to echo the daemons' logs)
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import hre from "hardhat";
import { Interface, type TransactionReceipt } from "ethers";

import { parseBlind, valueHashHex, type Json } from "../protocol/values.js";
import { aitbc } from "./lib/format.js";
import { executionReceipts, receiptDomain, signReceipt } from "./lib/receipts.js";
import { startDevnet, ROLES, type Daemon } from "./lib/devnet.js";

const started = Date.now();
const ROOT = path.join(import.meta.dirname, "..");
const say = (title: string) => {
  console.log(`\n=== ${title}`);
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

say("1. Start a local chain and deploy the protocol (deploy/modules/Protocol.ts)");
const devnet = await startDevnet(hre, { echo: process.env.AITBC_DEMO_LOGS === "1" });
const { protocol } = devnet;
const { ethers } = devnet.connection;
const firstBlock = await ethers.provider.getBlockNumber();
console.log(
  `chain at ${devnet.url} (chain id ${(await ethers.provider.getNetwork()).chainId}); logs and configs in ${devnet.dir}`,
);

try {
  say("2. Start three provider nodes (aitbc provider): each registers, stakes and lists its services");
  const providers: Daemon[] = [];
  for (const i of [0, 1, 2]) {
    const node = await devnet.startProvider(i);
    const ready = await node.ready();
    providers.push(node);
    console.log(
      `provider ${i}: agent #${String(ready.agentId)} ${String(ready.address)} serving ${String(ready.url)} (pid ${node.pid})`,
    );
  }

  say("3. Start the keeper (aitbc keeper): it registers, then follows the chain");
  const keeper = await devnet.startKeeper();
  const keeperReady = await keeper.ready();
  const keeperUrl = String(keeperReady.url);
  console.log(
    `keeper: agent #${String(keeperReady.agentId)} ${String(keeperReady.address)}, API ${keeperUrl} (pid ${keeper.pid})`,
  );

  say(
    "4. A client defines the workflow (examples/iris-report.workflow.json) and posts its signed inputs to the keeper",
  );
  const specFile = path.join(ROOT, "examples/iris-report.workflow.json");
  const rawSpec = JSON.parse(readFileSync(specFile, "utf8")) as { name: string; steps: { id: string }[] };
  const workflowId = await devnet.defineWorkflow(rawSpec);
  const names = rawSpec.steps.map((s) => s.id);
  console.log(
    `workflow #${workflowId} "${rawSpec.name}": ${names.join(" -> ")}, zk verification (species and scores run in parallel)`,
  );
  const inputs = JSON.parse(readFileSync(path.join(ROOT, "examples/iris-report.inputs.json"), "utf8")) as Json;
  console.log(`inputs ${JSON.stringify(inputs)}, posted to the keeper with a fresh secret blind`);

  say(
    "5. The client requests an execution naming the keeper (5 AITBC budget, a keeper fee of up to 0.1 AITBC); the keeper runs it on the providers",
  );
  const executionId = await devnet.requestExecution(
    workflowId,
    inputs,
    keeperUrl,
    5n * 10n ** 18n,
    ROLES.keeper.address,
    10n ** 17n,
  );
  const runStart = Date.now();
  const final = await devnet.waitForExecution(executionId, {
    keeperUrl,
    timeoutMs: 300_000,
    onChange: (line) => {
      console.log(line);
    },
  });
  const runMillis = Date.now() - runStart;
  if (final.status !== "completed") throw new Error(`demo: execution ${final.status}: ${final.reason ?? ""}`);

  say("6. What the chain holds: every step recorded, the proofs verified in the recording transaction");
  const records = await protocol.workflows.queryFilter(protocol.workflows.filters.StepRecorded(executionId));
  for (const r of records)
    console.log(
      `step ${r.args.step} (${names[Number(r.args.step)]}) by ${r.args.provider}, leaf ${r.args.outputHash}, cost ${aitbc(r.args.cost)}`,
    );
  const proven = await protocol.workflows.queryFilter(protocol.workflows.filters.TranscriptChunkProven(executionId));
  for (const p of proven) {
    const receipt = await p.getTransactionReceipt();
    console.log(
      `workflow proof (steps ${p.args.start}..${p.args.start + p.args.steps - 1n}) and the Iris inference proof verified on chain in ${receipt.hash} (${receipt.gasUsed} gas)`,
    );
  }
  const execution = await protocol.workflows.getExecution(executionId);
  // Only the client (or a reader it grants) may read the result: a signed request (protocol/keeper-api.ts).
  const view = await (await devnet.keeperClient(keeperUrl)).execution(executionId);
  console.log(
    `result (sealed with the blind by the keeper to the client, opened by it): ${JSON.stringify(view.result)}`,
  );
  if (view.blind === null || valueHashHex(view.result, parseBlind(view.blind)) !== execution.resultHash)
    throw new Error("demo: the result does not hash to the proven result");
  console.log(
    `resultHash ${execution.resultHash} = hash of that result under the execution's blind (proven), receipt ${execution.receipt}`,
  );

  say("7. Settle: the providers claim the step costs the execution paid them, the keeper its fee");
  for (const [i, role] of ROLES.providers.slice(0, 3).entries()) {
    const provider = await ethers.getSigner(role.agent.address);
    const credits = await protocol.workflows.creditsOf(role.agent.address);
    if (credits > 0n) await (await protocol.workflows.connect(provider).claimCredits()).wait();
    console.log(`provider ${i}: claimed ${aitbc(credits)}`);
  }
  const keeperSigner = await ethers.getSigner(ROLES.keeper.address);
  const [paid] = await protocol.workflows.queryFilter(protocol.workflows.filters.KeeperPaid(executionId));
  const keeperFee = paid?.args.fee ?? 0n;
  if ((await protocol.workflows.creditsOf(ROLES.keeper.address)) > 0n)
    await (await protocol.workflows.connect(keeperSigner).claimCredits()).wait();
  console.log(`keeper: paid ${aitbc(keeperFee)} from the budget (the client accepted up to 0.1 AITBC), claimed`);
  console.log(
    `client refunded ${aitbc(execution.budget - execution.spent - keeperFee)} of its ${aitbc(execution.budget)} budget`,
  );

  say("8. Mint: the attestor signs compute receipts for the recorded work; AITBC is minted against them");
  const attestor = await ethers.getSigner(ROLES.attestor.address);
  const now = BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0);
  const receipts = await executionReceipts(protocol.workflows, executionId, now + 3600n);
  const domain = await receiptDomain(protocol.token);
  const signatures = await Promise.all(receipts.map((r) => signReceipt(attestor, domain, r)));
  const before = await Promise.all(receipts.map((r) => protocol.token.balanceOf(r.provider)));
  await (await protocol.token.connect(attestor).mintFromReceipts(receipts, signatures)).wait();
  for (const [k, r] of receipts.entries()) {
    console.log(
      `${r.provider}: ${r.units} steps -> minted ${aitbc((await protocol.token.balanceOf(r.provider)) - (before[k] ?? 0n))}`,
    );
  }

  say("9. Summary");
  await summary(firstBlock, keeper, providers, { steps: records.length, runMillis });
} finally {
  say("10. Shut everything down (SIGTERM)");
  await devnet.stop();
  console.log(`done in ${seconds(Date.now() - started)}`);
}

async function summary(
  fromBlock: number,
  keeper: Daemon,
  providers: Daemon[],
  figures: { steps: number; runMillis: number },
): Promise<void> {
  const actors = new Map<string, string>([
    [ROLES.keeper.address.toLowerCase(), "keeper"],
    [ROLES.client.address.toLowerCase(), "client"],
    [ROLES.attestor.address.toLowerCase(), "attestor"],
    [ROLES.deployer.address.toLowerCase(), "deployer"],
    [ROLES.keeperOperator.address.toLowerCase(), "keeper's operator"],
    ...ROLES.providers.slice(0, 3).map((p, i) => [p.agent.address.toLowerCase(), `provider ${i}`] as [string, string]),
  ]);
  const interfaces = [
    protocol.workflows.interface,
    protocol.registry.interface,
    protocol.marketplace.interface,
    protocol.token.interface,
    protocol.constitution.interface,
  ] as Interface[];
  const rows = new Map<string, { count: number; gas: bigint }>();
  const last = await ethers.provider.getBlockNumber();
  for (let n = fromBlock + 1; n <= last; n++) {
    const block = await ethers.provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      const receipt = (await ethers.provider.getTransactionReceipt(tx.hash)) as TransactionReceipt;
      const method =
        interfaces.map((i) => i.parseTransaction({ data: tx.data })).find((p) => p !== null)?.name ??
        tx.data.slice(0, 10);
      const key = `${actors.get(tx.from.toLowerCase()) ?? tx.from} ${method}`;
      const row = rows.get(key) ?? { count: 0, gas: 0n };
      rows.set(key, { count: row.count + 1, gas: row.gas + receipt.gasUsed });
    }
  }
  console.log(
    `steps: ${figures.steps}, executed and recorded in ${seconds(figures.runMillis)} (request to completion)`,
  );
  const served = providers.map(
    (p, i) => `provider ${i}: ${p.lines.filter((l) => l.event === "step-served").length} steps`,
  );
  console.log(`providers: ${served.join(", ")}`);
  const proofs = [
    ...keeper.lines
      .filter((l) => l.event === "chunk-proven")
      .map((l) => `workflow chunk ${String(l.chunk)} ${Math.round(Number(l.millis))} ms (keeper)`),
    ...providers.flatMap((p, i) =>
      p.lines
        .filter((l) => typeof l.proofMillis === "number")
        .map((l) => `inference ${Math.round(Number(l.proofMillis))} ms (provider ${i})`),
    ),
  ];
  console.log(`proof times: ${proofs.join(", ")}`);
  console.log("transactions (actor, function: count, gas):");
  let total = 0n;
  for (const [key, row] of [...rows].sort()) {
    total += row.gas;
    console.log(`  ${key.padEnd(40)} ${String(row.count).padStart(3)}  ${row.gas.toString().padStart(10)}`);
  }
  console.log(
    `  ${"total".padEnd(40)} ${String([...rows.values()].reduce((s, r) => s + r.count, 0)).padStart(3)}  ${total.toString().padStart(10)}`,
  );
  console.log(`total time so far: ${seconds(Date.now() - started)}`);
}
