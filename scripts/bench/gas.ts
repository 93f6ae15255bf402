/**
 * Gas benchmark of the core: prints a table of transaction gasUsed against the targets of the foundation
 * issue, and writes snapshots/gas.json. `npm run bench:check` compares with the committed snapshot instead and
 * fails when a figure moved (update it on purpose with `npm run bench`).
 *
 *   npm run bench            # print and write the snapshot
 *   npm run bench:check      # print and compare (part of npm test)
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";

import type { ContractTransactionResponse } from "ethers";
import { network } from "hardhat";

import { mintAitbc, registerAgent, registerAndStake } from "../lib/onboarding.js";
import { AITBC, deployProtocol } from "../lib/deploy.js";
import { signStepResult, signWorkResult } from "../lib/eip712.js";
import { receiptDomain, signReceipt, type ComputeReceipt } from "../lib/receipts.js";
import { RecordTree, toLeaf, type LedgerRecord } from "../../protocol/merkle.js";

const SNAPSHOT = path.join(import.meta.dirname, "../../snapshots/gas.json");

interface Row {
  name: string;
  gas: bigint;
  target?: bigint;
  note?: string;
}

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return receipt.gasUsed;
}

const connection = await network.getOrCreate();
const { ethers } = connection;
const core = await deployProtocol(connection);
const { token, registry, constitution, humanOverride, attestor, agent, operator, guardian, client, outsider } = core;
const { marketplace, workflows } = core;
const domain = await receiptDomain(token);
const signers = await ethers.getSigners();
// A fixed deadline keeps calldata, and so gas, identical from run to run (a clock-derived one changes the
// signature bytes and their zero-byte count).
const deadline = 2n ** 40n;

let nonce = 0;
function receiptFor(provider: string, units = 10n): ComputeReceipt {
  nonce += 1;
  return {
    receiptId: ethers.id(`bench-receipt-${nonce}`),
    provider,
    client: client.address,
    units,
    workHash: ethers.id(`work-${nonce}`),
    resultHash: ethers.id(`result-${nonce}`),
    deadline,
  };
}

const rows: Row[] = [];

// One receipt mint to a holder that already has a balance.
const warm = receiptFor(outsider.address);
await token.connect(outsider).mintFromReceipt(warm, await signReceipt(attestor, domain, warm));
const single = receiptFor(outsider.address);
rows.push({
  name: "mintFromReceipt (existing holder)",
  gas: await gasOf(token.connect(outsider).mintFromReceipt(single, await signReceipt(attestor, domain, single))),
  target: 85_000n,
});

// Batch of 50 receipts for 5 providers (each already a holder).
const providers = signers.slice(10, 15).map((s) => s.address);
for (const p of providers) {
  const r = receiptFor(p);
  await token.mintFromReceipt(r, await signReceipt(attestor, domain, r));
}
const batch = Array.from({ length: 50 }, (_, i) => receiptFor(providers[i % 5] ?? outsider.address));
const sigs = await Promise.all(batch.map((r) => signReceipt(attestor, domain, r)));
const batchGas = await gasOf(token.connect(outsider).mintFromReceipts(batch, sigs));
rows.push({ name: "mintFromReceipts, 50 receipts / 5 providers (total)", gas: batchGas });
rows.push({ name: "mintFromReceipts, per receipt", gas: batchGas / 50n, target: 40_000n });

// Agent lifecycle.
const volume = 10_000n * AITBC;
const regGas = await gasOf(
  registry.connect(agent).register({
    operator: operator.address,
    agentType: 0,
    metadataURI: "ipfs://agent",
    endpoint: "http://127.0.0.1:9000",
    version: "1.0.0",
    capabilities: [ethers.id("inference")],
    expectedDailyVolume: volume,
  }),
);
rows.push({ name: "register", gas: regGas });
const fund = receiptFor(agent.address, 5_000n);
await token.mintFromReceipt(fund, await signReceipt(attestor, domain, fund));
await token.connect(agent).approve(await registry.getAddress(), ethers.MaxUint256);
rows.push({ name: "stake (first)", gas: await gasOf(registry.connect(agent).stake(2_000n * AITBC)) });
rows.push({ name: "stake (top-up)", gas: await gasOf(registry.connect(agent).stake(100n * AITBC)) });

// Constitution check: the same transfer from an enrolled agent and from a plain holder.
await token.connect(agent).transfer(client.address, 1n); // both senders and the recipient hold balances now
await token.connect(outsider).transfer(client.address, 1n);
const plainTransfer = await gasOf(token.connect(outsider).transfer(client.address, AITBC));
const agentTransfer = await gasOf(token.connect(agent).transfer(client.address, AITBC));
// A plain OpenZeppelin ERC-20 under the same conditions (both parties already hold a balance): the baseline.
const baseline = await ethers.deployContract("BaselineERC20");
await baseline.mint(outsider.address, AITBC);
await baseline.mint(client.address, AITBC);
const baselineTransfer = await gasOf(baseline.connect(outsider).transfer(client.address, 1n));
rows.push({ name: "transfer, plain OpenZeppelin ERC-20 (baseline)", gas: baselineTransfer });
rows.push({ name: "transfer, AIToken from a non-agent", gas: plainTransfer });
rows.push({ name: "transfer, AIToken from an enrolled agent", gas: agentTransfer });
rows.push({ name: "  safety hooks on any transfer (non-agent - baseline)", gas: plainTransfer - baselineTransfer });
rows.push({
  name: "  constitution check (agent - non-agent transfer)",
  gas: agentTransfer - plainTransfer,
  target: 15_000n,
});

rows.push({
  name: "requestUnstake (partial)",
  gas: await gasOf(registry.connect(operator).requestUnstake(1n, 50n * AITBC)),
});
const slasherRole = await registry.SLASHER_ROLE();
await registry.grantRole(slasherRole, core.deployer.address);
rows.push({ name: "slash", gas: await gasOf(registry.slash(1n, 100n * AITBC, "missed deadline")) });
rows.push({ name: "grant override", gas: await gasOf(humanOverride.connect(guardian).grant(agent.address, 0, 3600n)) });
rows.push({ name: "freeze", gas: await gasOf(humanOverride.connect(guardian).freeze(agent.address, "bench")) });
rows.push({
  name: "setConstraints",
  gas: await gasOf(
    constitution.connect(operator).setConstraints(agent.address, {
      maxStake: 5_000n * AITBC,
      maxDailyVolume: 1_000n * AITBC,
      maxGasPerDay: 1_000_000n,
      allowedActions: 7n,
      humanApprovalActions: 0n,
    }),
  ),
});

// ---------------------------------------------------------------- marketplace
// Each workload is posted at a fixed block time, so its deadlines (calldata, hence gas) are the same on every run.
const POST_TIMES = [3_000_000_000n, 3_000_100_000n];
const account = (i: number) => {
  const signer = signers[i];
  if (!signer) throw new Error(`bench needs account #${i}`);
  return signer;
};
const [p1, p2, keeper] = [account(15), account(16), account(17)];
const stepProviders = [10, 11, 12, 13, 14].map(account); // the batch-mint providers above, now agents
const providerStake = 2_000n * AITBC; // min stake 1,000 + 10% of 10,000 declared
for (const p of [p1, p2, keeper, ...stepProviders.slice(0, 5)]) {
  await registerAndStake(core, p, operator, providerStake, { expectedDailyVolume: volume });
}
const offer = (serviceId: string) => ({
  serviceId: ethers.encodeBytes32String(serviceId),
  serviceName: "iris-mlp-inference",
  pricePerUnit: AITBC / 10n,
  maxCapacity: 1_000_000n,
  currentLoad: 0n,
  modelHash: ethers.id("iris-mlp-v1"),
  minAccuracy: 9_000n,
});
rows.push({ name: "market: listService", gas: await gasOf(marketplace.connect(p1).listService(offer("p1-iris"))) });
await marketplace.connect(p2).listService(offer("p2-iris"));
const clientFunds = receiptFor(client.address, 100_000n);
await token.mintFromReceipt(clientFunds, await signReceipt(attestor, domain, clientFunds));
await token.connect(client).approve(await marketplace.getAddress(), ethers.MaxUint256);
const request = {
  serviceType: ethers.id("iris-mlp-inference"),
  modelHash: ethers.id("iris-mlp-v1"),
  units: 1_000n,
  maxPricePerUnit: AITBC / 5n,
  bidDeadline: 0n,
  executionDeadline: 0n,
  verification: 0,
  reopenOnTimeout: false,
  inputHash: ethers.ZeroHash,
};
async function marketRound(label: string, settle: "accept" | "finalize", postedAt: bigint): Promise<void> {
  await connection.networkHelpers.time.setNextBlockTimestamp(postedAt);
  const post = await gasOf(
    marketplace
      .connect(client)
      .postWorkload({ ...request, bidDeadline: postedAt + 3_600n, executionDeadline: postedAt + 7_200n }),
  );
  const workloadId = await marketplace.workloadCount();
  const bid = await gasOf(
    marketplace.connect(p1).bid(workloadId, ethers.encodeBytes32String("p1-iris"), AITBC / 8n, ethers.id("plan")),
  );
  await marketplace.connect(p2).bid(workloadId, ethers.encodeBytes32String("p2-iris"), AITBC / 7n, ethers.id("plan"));
  const award = await gasOf(marketplace.connect(client).award(workloadId, 0n, await registry.agentIdOf(p1.address)));
  const resultHash = ethers.id(`result-${label}`);
  const signature = await signWorkResult(p1, marketplace, { workloadId, round: 0n, resultHash });
  const submit = await gasOf(marketplace.connect(p1).submitResult(workloadId, resultHash, signature));
  if (settle === "accept") {
    rows.push({ name: `market: postWorkload`, gas: post });
    rows.push({ name: `market: bid`, gas: bid });
    rows.push({ name: `market: award`, gas: award });
    rows.push({ name: `market: submitResult`, gas: submit });
    rows.push({ name: "market: accept (settle)", gas: await gasOf(marketplace.connect(client).accept(workloadId)) });
  } else {
    await connection.networkHelpers.time.increase(24 * 3600 + 1);
    rows.push({
      name: "market: finalize (settle)",
      gas: await gasOf(marketplace.connect(outsider).finalize(workloadId)),
    });
  }
}
await marketRound("a", "accept", POST_TIMES[0] ?? 0n);
await marketRound("b", "finalize", POST_TIMES[1] ?? 0n);

// ---------------------------------------------------------------- workflows
await token.connect(client).approve(await workflows.getAddress(), ethers.MaxUint256);
async function workflowRun(steps: number, label = ""): Promise<void> {
  // A fan-in/fan-out DAG: step i depends on step i-1, and every fifth step also on step i-5.
  const spec = {
    name: `bench-${steps}`,
    maxExecutionTime: 3_600n,
    maxBudget: 10_000n * AITBC,
    verification: 0,
    steps: Array.from({ length: steps }, (_, i) => ({
      stepType: 0,
      model: ethers.id("iris-mlp-v1"),
      inputMapping: i === 0 ? "inputs" : `step${i - 1}.output`,
      outputMapping: "output",
      timeout: 60,
      maxRetries: 2,
      retryBackoff: 5,
      requiresProof: false,
      dependsOn: i === 0 ? [] : i % 5 === 0 && i >= 5 ? [i - 1, i - 5] : [i - 1],
    })),
  };
  const define = await gasOf(workflows.connect(client).defineWorkflow(spec));
  const workflowId = (await workflows.queryFilter(workflows.filters.WorkflowDefined())).length;

  const request = await gasOf(
    workflows.connect(client).requestExecution({
      workflowId,
      inputsHash: ethers.id("inputs"),
      budget: 1_000n * AITBC,
      listingId: 0n,
      keeper: keeper.address,
      maxListingFee: 0n,
      maxKeeperFee: 0n,
    }),
  );
  const executionId = (await workflows.queryFilter(workflows.filters.ExecutionRequested())).length;
  const claim = await gasOf(workflows.connect(keeper).claimExecution(executionId));
  const records = [];
  for (let i = 0; i < steps; i++) {
    const provider = stepProviders[i % 5];
    if (!provider) throw new Error("provider");
    const r = {
      executionId: BigInt(executionId),
      step: i,
      inputHash: ethers.id(`in-${i}`),
      outputHash: ethers.id(`out-${i}`),
      cost: AITBC / 100n,
    };
    records.push({ ...r, provider: provider.address, signature: await signStepResult(provider, workflows, r) });
  }
  const record = await gasOf(workflows.connect(keeper).recordSteps(executionId, records));
  const complete = await gasOf(workflows.connect(keeper).completeExecution(executionId, ethers.id("final"), 0n));
  const n = BigInt(steps);
  if (label !== "") {
    // A repeat run: the providers' credit slots exist now (steady state); report the step records only.
    rows.push({ name: `workflow ${steps} steps ${label}: recordSteps per step`, gas: record / n });
    return;
  }
  rows.push({ name: `workflow ${steps} steps: defineWorkflow`, gas: define });
  rows.push({ name: `workflow ${steps} steps: recordSteps (one batch)`, gas: record });
  // The 30,000 target is for batches at scale: a 5-step batch is dominated by its fixed costs (one
  // registry check and one credit write per distinct provider, the execution's own slots).
  rows.push({
    name: `workflow ${steps} steps: recordSteps per step (new providers)`,
    gas: record / n,
    target: steps >= 50 ? 30_000n : undefined,
  });
  const whole = request + claim + record + complete;
  rows.push({ name: `workflow ${steps} steps: execution total (request..complete)`, gas: whole });
  rows.push({ name: `workflow ${steps} steps: execution per step`, gas: whole / n });
}
await workflowRun(5);
await workflowRun(5, "again");
await workflowRun(50);

// ---------------------------------------------------------------- governance
// Two fresh agents (accounts 18, 19) and the market's p1 / p2 vote; the registry updates AgentVotes on every stake.
const { governor, agentVotes } = core;
const [v1, v2] = [account(18), account(19)];
for (const v of [v1, v2]) {
  await registerAgent(core, v, operator, { expectedDailyVolume: volume });
  await mintAitbc(core, v.address, 3_000n);
  await (await token.connect(v).approve(await registry.getAddress(), ethers.MaxUint256)).wait();
}
await registry.connect(v1).stake(providerStake);
rows.push({
  name: "gov: stake (first: creates power, self-delegates)",
  gas: await gasOf(registry.connect(v2).stake(providerStake)),
});
rows.push({
  name: "gov: stake (top-up that updates power)",
  gas: await gasOf(registry.connect(v2).stake(100n * AITBC)),
});
rows.push({ name: "gov: delegate (to another agent)", gas: await gasOf(agentVotes.connect(v1).delegate(v2.address)) });
rows.push({ name: "gov: undelegate", gas: await gasOf(agentVotes.connect(v1).undelegate()) });
await connection.networkHelpers.time.increase(1);
const targets = [await registry.getAddress()];
const calldatas = [registry.interface.encodeFunctionData("setMinStake", [1_000n * AITBC])];
const description = "Keep the minimum stake at 1,000 AITBC";
rows.push({
  name: "gov: propose (one action)",
  gas: await gasOf(governor.connect(v2).propose(targets, [0n], calldatas, description)),
});
const proposalId = await governor.getProposalId(targets, [0n], calldatas, ethers.id(description));
await connection.networkHelpers.time.increase((await governor.votingDelay()) + 1n);
rows.push({
  name: "gov: castVote (first vote: activity tier 1)",
  gas: await gasOf(governor.connect(p1).castVote(proposalId, 1)),
});
rows.push({
  name: "gov: castVoteWithReason (first vote: activity tier 1)",
  gas: await gasOf(
    governor.connect(p2).castVoteWithReason(proposalId, 1, "policy min-stake: 1000 AITBC is within [500, 5000]"),
  ),
});

// ---------------------------------------------------------------- marketplace: auto-award
// Last, so that it moves no other figure: a workload with the two market providers' bids, auto-awarded by an
// outsider in the first block after its bid deadline.
const AUTO_AWARD_POSTED_AT = 3_001_000_000n;
await connection.networkHelpers.time.setNextBlockTimestamp(AUTO_AWARD_POSTED_AT);
await marketplace.connect(client).postWorkload({
  ...request,
  bidDeadline: AUTO_AWARD_POSTED_AT + 3_600n,
  executionDeadline: AUTO_AWARD_POSTED_AT + 7_200n,
});
const autoAwardId = await marketplace.workloadCount();
await marketplace.connect(p1).bid(autoAwardId, ethers.encodeBytes32String("p1-iris"), AITBC / 8n, ethers.id("plan"));
await marketplace.connect(p2).bid(autoAwardId, ethers.encodeBytes32String("p2-iris"), AITBC / 7n, ethers.id("plan"));
await connection.networkHelpers.time.setNextBlockTimestamp(AUTO_AWARD_POSTED_AT + 3_601n);
rows.push({
  name: "market: autoAward (2 bids)",
  gas: await gasOf(marketplace.connect(outsider).autoAward(autoAwardId)),
});

// ---------------------------------------------------------------- key rotation
// After everything else: agent v1 (staked, with power) moves to a fixed fresh key (its operator signs).
rows.push({
  name: "rotateKey (registry, constitution, votes)",
  gas: await gasOf(registry.connect(operator).rotateKey(await registry.agentIdOf(v1.address), "0x" + "5e".repeat(20))),
});

// ---------------------------------------------------------------- workflow ledger (cheap basic recording)
// After everything else, so that it moves no other figure. Executions of the 50-step bench workflow (workflow 3)
// whose records the keeper commits (WorkflowLedger) instead of storing: one root for one execution, then one root
// over ten; each of the five providers then claims its steps of the ten executions in one claim (a provider that
// claims every ten executions: the claim cadence the all-in figure amortises).
const { ledger } = core;
await mintAitbc(core, operator.address, 200n);
await token.connect(operator).approve(await ledger.getAddress(), ethers.MaxUint256);
await ledger.connect(operator).depositBond(keeper.address, 100n * AITBC);
const LEDGER_STEPS = 50;
async function ledgerExecution(): Promise<{ executionId: bigint; records: LedgerRecord[]; gas: bigint }> {
  const request = await gasOf(
    workflows.connect(client).requestExecution({
      workflowId: 3n,
      inputsHash: ethers.id("inputs"),
      budget: 1_000n * AITBC,
      listingId: 0n,
      keeper: keeper.address,
      maxListingFee: 0n,
      maxKeeperFee: 0n,
    }),
  );
  const executionId = BigInt((await workflows.queryFilter(workflows.filters.ExecutionRequested())).length);
  const claim = await gasOf(workflows.connect(keeper).claimExecution(executionId));
  const records: LedgerRecord[] = [];
  for (let i = 0; i < LEDGER_STEPS; i++) {
    const provider = stepProviders[i % 5];
    if (!provider) throw new Error("provider");
    const r = {
      executionId,
      step: i,
      inputHash: ethers.id(`in-${i}`),
      outputHash: ethers.id(`out-${i}`),
      cost: AITBC / 100n,
    };
    const signature = (await signStepResult(provider, workflows, r)) as `0x${string}`;
    records.push({
      ...r,
      inputHash: r.inputHash as `0x${string}`,
      outputHash: r.outputHash as `0x${string}`,
      provider: provider.address as `0x${string}`,
      signature,
    });
  }
  return { executionId, records, gas: request + claim };
}
const settle = (e: { executionId: bigint; records: LedgerRecord[] }) => ({
  executionId: e.executionId,
  spent: e.records.reduce((t, r) => t + r.cost, 0n),
  resultHash: ethers.id("final"),
  keeperFee: 0n,
});
const solo = await ledgerExecution();
const soloTree = new RecordTree(solo.records);
const commitOne = await gasOf(ledger.connect(keeper).commit([settle(solo)], soloTree.root));
rows.push({ name: "ledger 50 steps: request + claimExecution", gas: solo.gas });
rows.push({ name: "ledger 50 steps: commit (one execution)", gas: commitOne });
const ten: Awaited<ReturnType<typeof ledgerExecution>>[] = [];
for (let k = 0; k < 10; k++) ten.push(await ledgerExecution());
const tenTree = new RecordTree(ten.flatMap((e) => e.records));
const commitTen = await gasOf(ledger.connect(keeper).commit(ten.map(settle), tenTree.root));
rows.push({ name: "ledger 50 steps: commit (10 executions, one root)", gas: commitTen });
await connection.networkHelpers.time.increase((await ledger.challengeWindow()) + 1n);
const claimGas = async (tree: RecordTree, commitmentId: bigint, provider: string) => {
  const mp = tree.multiProof(tree.positionsOf(provider as `0x${string}`));
  return gasOf(
    ledger
      .connect(outsider)
      .claim(provider, [{ commitmentId, leaves: mp.leaves.map(toLeaf), proof: mp.proof, proofFlags: mp.proofFlags }]),
  );
};
let claimsOne = 0n;
for (const p of stepProviders) claimsOne += await claimGas(soloTree, 1n, p.address);
let claimsTen = 0n;
for (const p of stepProviders) claimsTen += await claimGas(tenTree, 2n, p.address);
rows.push({ name: "ledger 50 steps: provider claims (5 x 10 steps, 1 execution)", gas: claimsOne });
rows.push({ name: "ledger: provider claim of 100 steps (10 executions)", gas: claimsTen / 5n });
rows.push({ name: "ledger: provider claim per step (100 steps)", gas: claimsTen / 500n });
const steps50 = BigInt(LEDGER_STEPS);
rows.push({
  name: "ledger 50 steps: all-in per step (1 root/execution)",
  gas: (solo.gas + commitOne + claimsOne) / steps50,
});
rows.push({
  name: "ledger 50 steps: all-in per step (10 per root, claims/10)",
  // The target is 5,000 (not met: see docs/status.md); not a bench target, so the snapshot check holds.
  gas: (ten.reduce((t, e) => t + e.gas, 0n) + commitTen + claimsTen) / (10n * steps50),
});

// ---------------------------------------------------------------- report
const pad = (s: string, n: number) => s.padEnd(n);
const W = 56;
console.log(`\n${pad("AITBC gas (transaction gasUsed)", 56)} ${"gas".padStart(9)} ${"target".padStart(9)}  ok`);
console.log("-".repeat(W + 26));
let failed = false;
for (const r of rows) {
  const ok = r.target === undefined ? "" : r.gas <= r.target ? "yes" : "NO";
  if (ok === "NO") failed = true;
  console.log(`${pad(r.name, W)} ${r.gas.toString().padStart(9)} ${(r.target?.toString() ?? "").padStart(9)}  ${ok}`);
}

const snapshot = Object.fromEntries(rows.map((r) => [r.name, Number(r.gas)]));
if (process.env.BENCH_CHECK === "1") {
  const committed = JSON.parse(readFileSync(SNAPSHOT, "utf8")) as Record<string, number>;
  const moved = Object.keys({ ...committed, ...snapshot }).filter((k) => committed[k] !== snapshot[k]);
  for (const k of moved) console.log(`snapshot mismatch: ${k}: committed ${committed[k]}, now ${snapshot[k]}`);
  if (moved.length > 0) failed = true;
  else console.log(`\nmatches ${path.relative(process.cwd(), SNAPSHOT)}`);
} else {
  mkdirSync(path.dirname(SNAPSHOT), { recursive: true });
  writeFileSync(SNAPSHOT, JSON.stringify(snapshot, null, 2) + "\n");
  console.log(`\nwrote ${path.relative(process.cwd(), SNAPSHOT)}`);
}
if (failed) process.exitCode = 1;
