/**
 * Zero-knowledge benchmark: per circuit, constraints, proving time cold (first proof of a fresh prover: curve
 * and keys loaded) and warm (median of RUNS), off-chain verification time, and on-chain verification gas against
 * the EIP-1108 floor; then a 64-step Full workflow verified on chain, gas per step.
 *
 *   npm run bench:zk
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import type { BaseContract } from "ethers";
import { network } from "hardhat";

import { CIRCUITS } from "../../circuits/circuits.js";
import { loadIrisModel, irisProofInput } from "../../circuits/lib/iris.js";
import { Prover } from "../../circuits/lib/prover.js";
import {
  receiptCommitment,
  receiptNoteProofInput,
  receiptNotes,
  ReceiptTree,
  type PrivateReceipt,
} from "../../circuits/lib/receipt.js";
import { buildTranscript, chunkCount, chunkProofInput } from "../../circuits/lib/workflow.js";
import { fieldToBytes32, randomBlind } from "../../circuits/lib/field.js";
import { registerAndStake } from "../lib/onboarding.js";
import { AITBC, deployProtocol } from "../lib/deploy.js";
import { signStepResult } from "../lib/eip712.js";
import { proveChunk } from "../../protocol/proofs.js";
import { receiptDomain, signReceipt } from "../lib/receipts.js";

const RUNS = Number(process.env.ZK_BENCH_RUNS ?? 5);
const MANIFEST = path.join(import.meta.dirname, "../../circuits/build/manifest.json");
const manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as Record<string, { constraints: number; nPublic: number }>;

function pick<T>(xs: readonly T[], i: number): T {
  const x = xs[i % xs.length];
  if (x === undefined) throw new Error("empty list");
  return x;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** A deterministic 64-step DAG with parallel branches: step i depends on i-1, every 4th also on i-4 (a join). */
export function benchDag(steps: number): number[][] {
  return Array.from({ length: steps }, (_, i) => (i === 0 ? [] : i % 4 === 0 && i >= 4 ? [i - 4, i - 1] : [i - 1]));
}

const connection = await network.getOrCreate();
const { ethers } = connection;

// ---------------------------------------------------------------- inputs per circuit
const tree = new ReceiptTree();
const receipts: PrivateReceipt[] = Array.from({ length: 8 }, (_, i) => ({
  job: BigInt(1000 + i),
  provider: BigInt("0x" + "ab".repeat(20)),
  units: BigInt(10 + i),
  price: 10n ** 17n,
  resultHash: BigInt(ethers.id(`result-${i}`)) >> 8n,
  salt: BigInt(ethers.id(`salt-${i}`)) >> 8n,
}));
for (const r of receipts) tree.insert(receiptCommitment(r));
const recipient = BigInt("0x" + "cd".repeat(20));

const model = loadIrisModel();
const dag = benchDag(64);
const transcript = buildTranscript(
  12345n,
  dag.map((deps, i) => ({ deps, outputHash: BigInt(ethers.id(`out-${i}`)) >> 8n })),
);

const inputs: Record<string, (run: number) => Record<string, unknown>> = {
  receipt: (run) => {
    const r = pick(receipts, run);
    return receiptNoteProofInput(r, pick(receiptNotes(r.units), run), tree, recipient, 10n ** 18n).input;
  },
  workflow: (run) => chunkProofInput(transcript, run % 2).input,
  inference: (run) => irisProofInput(model, [BigInt(50 + run), 33n, 14n, 2n], randomBlind()),
};

interface Row {
  circuit: string;
  constraints: number;
  nPublic: number;
  coldMs: number;
  warmMs: number;
  verifyMs: number;
  gas: bigint;
  floor: number;
}
const rows: Row[] = [];

for (const spec of CIRCUITS) {
  const make = inputs[spec.name];
  if (make === undefined) throw new Error(`no bench input for ${spec.name}`);
  const prover = new Prover();
  const cold = await prover.prove(spec.name, make(0) as never);
  const warm: number[] = [];
  const verify: number[] = [];
  let last = cold;
  for (let run = 1; run <= RUNS; run++) {
    last = await prover.prove(spec.name, make(run) as never);
    warm.push(last.millis);
    const t = performance.now();
    if (!(await prover.verify(spec.name, last.proof, last.publicSignals)))
      throw new Error(`${spec.name}: verify failed`);
    verify.push(performance.now() - t);
  }
  await prover.close();

  const verifier = (await ethers.deployContract(spec.contract)) as unknown as BaseContract & {
    verifyProof: { estimateGas: (...args: unknown[]) => Promise<bigint> } & ((...args: unknown[]) => Promise<boolean>);
  };
  const args = [last.calldata.a, last.calldata.b, last.calldata.c, last.publicSignals];
  if (!(await verifier.verifyProof(...args))) throw new Error(`${spec.name}: on-chain verify failed`);
  const data = verifier.interface.encodeFunctionData("verifyProof", args);
  const bytes = ethers.getBytes(data);
  const calldataGas = bytes.reduce((sum, b) => sum + (b === 0 ? 4 : 16), 0);
  const execution = (await verifier.verifyProof.estimateGas(...args)) - 21_000n - BigInt(calldataGas);
  const nPublic = manifest[spec.name]?.nPublic ?? last.publicSignals.length;
  rows.push({
    circuit: spec.name,
    constraints: manifest[spec.name]?.constraints ?? 0,
    nPublic,
    coldMs: cold.millis,
    warmMs: median(warm),
    verifyMs: median(verify),
    gas: execution,
    floor: 181_150 + 6_150 * nPublic,
  });
}

// ---------------------------------------------------------------- a 64-step Full workflow on chain
const core = await deployProtocol(connection);
const { token, workflows, attestor, operator, client } = core;
const signers = await ethers.getSigners();
const stepProviders = signers.slice(10, 15);
const keeper = pick(signers, 17);
for (const p of [...stepProviders, keeper]) {
  await registerAndStake(core, p, operator, 2_000n * AITBC, { expectedDailyVolume: 10_000n * AITBC });
}
const funding = {
  receiptId: ethers.id("bench-zk-funding"),
  provider: client.address,
  client: client.address,
  units: 100_000n,
  workHash: ethers.ZeroHash,
  resultHash: ethers.ZeroHash,
  deadline: 2n ** 40n,
};
await (await token.mintFromReceipt(funding, await signReceipt(attestor, await receiptDomain(token), funding))).wait();
await (await token.connect(client).approve(await workflows.getAddress(), ethers.MaxUint256)).wait();

async function runWorkflow(
  verification: number,
): Promise<{ recordGas: bigint; completeGas: bigint; proveMs: number[] }> {
  const spec = {
    name: `bench-zk-${verification}`,
    maxExecutionTime: 3_600n,
    maxBudget: 10_000n * AITBC,
    verification,
    steps: dag.map((deps) => ({
      stepType: 2,
      model: ethers.ZeroHash,
      inputMapping: "",
      outputMapping: "",
      timeout: 60,
      maxRetries: 0,
      retryBackoff: 0,
      requiresProof: false,
      dependsOn: deps,
    })),
  };
  await (await workflows.connect(client).defineWorkflow(spec)).wait();
  const workflowId = (await workflows.queryFilter(workflows.filters.WorkflowDefined())).length;
  await (
    await workflows.connect(client).requestExecution({
      workflowId,
      inputsHash: fieldToBytes32(transcript.inputsHash),
      budget: 1_000n * AITBC,
      listingId: 0n,
      keeper: keeper.address,
      maxListingFee: 0n,
      maxKeeperFee: 0n,
    })
  ).wait();
  const executionId = BigInt((await workflows.queryFilter(workflows.filters.ExecutionRequested())).length);
  await (await workflows.connect(keeper).claimExecution(executionId)).wait();

  const records = [];
  for (let i = 0; i < dag.length; i++) {
    const provider = pick(stepProviders, i);
    const r = {
      executionId,
      step: i,
      inputHash: ethers.ZeroHash,
      outputHash: fieldToBytes32(transcript.leaves[i] ?? 0n),
      cost: AITBC / 100n,
    };
    records.push({ ...r, provider: provider.address, signature: await signStepResult(provider, workflows, r) });
  }
  let recordGas = 0n;
  const proveMs: number[] = [];
  const prover = new Prover();
  for (let c = 0; c < chunkCount(dag.length); c++) {
    const chunk = records.slice(c * 32, c * 32 + 32);
    const tx =
      verification === 0
        ? workflows.connect(keeper).recordSteps(executionId, chunk)
        : workflows
            .connect(keeper)
            .recordProvenSteps(executionId, chunk, (await proveChunk(prover, transcript, c)).transcript, []);
    const receipt = await (await tx).wait();
    recordGas += receipt?.gasUsed ?? 0n;
  }
  await prover.close();
  const complete = await (
    await workflows.connect(keeper).completeExecution(executionId, fieldToBytes32(transcript.resultHash), 0n)
  ).wait();
  return { recordGas, completeGas: complete?.gasUsed ?? 0n, proveMs };
}
const basic = await runWorkflow(0);
const full = await runWorkflow(1);
// What proving adds to an execution: its step records (with the proofs) and its completion (whose result the
// first chunk already stored), against the same records at the Basic level.
const perStep = (full.recordGas + full.completeGas - basic.recordGas - basic.completeGas) / 64n;

// ---------------------------------------------------------------- report
const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(
  `\n${"circuit".padEnd(10)} ${"constraints".padStart(11)} ${"public".padStart(6)} ${"prove cold".padStart(11)} ${"prove warm".padStart(11)} ${"verify".padStart(8)} ${"verify gas".padStart(10)} ${"1.1 x floor".padStart(11)}  ok`,
);
let failed = false;
const targets: Record<string, number> = { inference: 1000, workflow: 3000 };
for (const r of rows) {
  const limit = Math.round(1.1 * r.floor);
  const gasOk = r.gas <= BigInt(limit);
  const timeOk = targets[r.circuit] === undefined || r.warmMs <= (targets[r.circuit] ?? 0);
  if (!gasOk || !timeOk) failed = true;
  console.log(
    `${r.circuit.padEnd(10)} ${String(r.constraints).padStart(11)} ${String(r.nPublic).padStart(6)} ${ms(r.coldMs).padStart(11)} ${ms(r.warmMs).padStart(11)} ${ms(r.verifyMs).padStart(8)} ${r.gas.toString().padStart(10)} ${String(limit).padStart(11)}  ${gasOk && timeOk ? "yes" : "NO"}`,
  );
}
console.log(
  `(median of ${RUNS} warm proofs; verify gas excludes the 21,000 base and calldata; warm targets: inference <= 1 s, workflow chunk <= 3 s)`,
);
console.log(
  `\n64-step Full workflow, 2 chunk proofs: recordProvenSteps ${full.recordGas} + completeExecution ${full.completeGas} gas` +
    ` vs recordSteps ${basic.recordGas} + completeExecution ${basic.completeGas} (Basic, same records)`,
);
console.log(`verification gas per step: ${perStep} (target <= 15,000) ${perStep <= 15_000n ? "yes" : "NO"}`);
if (perStep > 15_000n) failed = true;
if (failed) process.exitCode = 1;
