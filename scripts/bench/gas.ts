/**
 * Gas benchmark of the core: prints a table of transaction gasUsed against the targets of the foundation
 * issue, and writes snapshots/gas-core.json. `npm run bench:check` compares with the committed snapshot instead and
 * fails when a figure moved (update it on purpose with `npm run bench`).
 *
 *   npm run bench            # print and write the snapshot
 *   npm run bench:check      # print and compare (part of npm test)
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";

import type { ContractTransactionResponse } from "ethers";
import { network } from "hardhat";

import { AITBC, deployCore } from "../../test/helpers/fixture.js";
import { receiptDomain, signReceipt, type ComputeReceipt } from "../lib/receipts.js";

const SNAPSHOT = path.join(import.meta.dirname, "../../snapshots/gas-core.json");

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
const core = await deployCore(connection);
const { token, registry, constitution, humanOverride, attestor, agent, operator, guardian, client, outsider } = core;
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

// ---------------------------------------------------------------- report
const pad = (s: string, n: number) => s.padEnd(n);
console.log(`\n${pad("AITBC core gas (transaction gasUsed)", 50)} ${"gas".padStart(9)} ${"target".padStart(9)}  ok`);
console.log("-".repeat(76));
let failed = false;
for (const r of rows) {
  const ok = r.target === undefined ? "" : r.gas <= r.target ? "yes" : "NO";
  if (ok === "NO") failed = true;
  console.log(`${pad(r.name, 50)} ${r.gas.toString().padStart(9)} ${(r.target?.toString() ?? "").padStart(9)}  ${ok}`);
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
