/**
 * Helpers for the Workflows tests (test/workflows/, and the proven workflows of test/zk/): workflow specs (and their
 * content hash, computed independently of the contract), EIP-712 signed step records, the execution receipt chain,
 * and the token books an execution must balance; then the fixture the test/workflows/ files share (one loadFixture
 * snapshot, {loadBase}), the states built on it ({loadPending}, {loadRunning}, {loadListed}) and the diamond's work.
 */
import { expect } from "chai";
import type { Signer as EthersSigner } from "ethers";
import { AbiCoder, id, keccak256, MaxUint256, TypedDataEncoder, ZeroAddress } from "ethers";
import { network } from "hardhat";

import { FIELD_MODULUS, fieldToBytes32 } from "../../circuits/lib/field.js";
import { STEP_RESULT_TYPES } from "../../protocol/eip712.js";
import { enumValues, EXECUTION_STATUSES, STEP_TYPES, VERIFICATION_LEVELS } from "../../protocol/enums.js";
import { toWorkflowSpec } from "../../protocol/workflow-spec.js";
import { deployProtocol } from "../../scripts/lib/deploy.js";
import { domainOf, forEthers } from "../../scripts/lib/eip712.js";
import type { AIToken, IWorkflows, Workflows } from "../../typechain-types/index.js";
import { AITBC, MIN_STAKE, mintAitbc, registerAgent, registerAndStake, type Signer } from "./agents.js";

/** IWorkflows.StepType. */
export const STEP_TYPE = enumValues(STEP_TYPES);
/** IWorkflows.VerificationLevel. */
export const VERIFICATION = enumValues(VERIFICATION_LEVELS);
/** IWorkflows.ExecutionStatus. */
export const EXECUTION = enumValues(EXECUTION_STATUSES);

export const MAX_STEPS = 256;
export const MAX_UINT128 = (1n << 128n) - 1n;
export const MAX_UINT64 = (1n << 64n) - 1n;
/** Workflows.MAX_EXECUTION_TIME. */
export const MAX_EXECUTION_TIME = 30n * 86_400n;
export const SUBSCRIPTION_PERIOD = 30n * 86_400n;

/** The ABI type of IWorkflows.WorkflowSpec, written out by hand (not taken from the contract's ABI). */
export const WORKFLOW_SPEC_TYPE =
  "tuple(string name, tuple(uint8 stepType, bytes32 model, string inputMapping, string outputMapping, " +
  "uint32 timeout, uint8 maxRetries, uint32 retryBackoff, bool requiresProof, uint16[] dependsOn)[] steps, " +
  "uint64 maxExecutionTime, uint256 maxBudget, uint8 verification)";

const coder = AbiCoder.defaultAbiCoder();

/** keccak256(abi.encode(spec)): a workflow's specHash. */
export function specHash(spec: IWorkflows.WorkflowSpecStruct): string {
  return keccak256(coder.encode([WORKFLOW_SPEC_TYPE], [spec]));
}

/** A step depending on `dependsOn`, other fields filled with something plausible (or replaced). */
export function stepSpec(dependsOn: number[] = [], overrides: Partial<IWorkflows.StepSpecStruct> = {}) {
  const spec: IWorkflows.StepSpecStruct = {
    stepType: STEP_TYPE.inference,
    model: id("model"),
    inputMapping: "",
    outputMapping: "",
    timeout: 60n,
    maxRetries: 1n,
    retryBackoff: 5n,
    requiresProof: false,
    dependsOn,
    ...overrides,
  };
  return spec;
}

/** A basic-verification workflow whose step i depends on `deps[i]`, other fields replaceable. */
export function workflowSpec(
  deps: number[][],
  overrides: Partial<IWorkflows.WorkflowSpecStruct> = {},
): IWorkflows.WorkflowSpecStruct {
  return {
    name: "workflow",
    steps: deps.map((d) => stepSpec(d)),
    maxExecutionTime: 3600n,
    maxBudget: 1_000_000n * 10n ** 18n,
    verification: VERIFICATION.basic,
    ...overrides,
  };
}

/** A chain of `count` steps (step i depends on step i-1), minimal step fields (cheap calldata). */
export function chainSpec(count: number, overrides: Partial<IWorkflows.WorkflowSpecStruct> = {}) {
  return workflowSpec(
    Array.from({ length: count }, (_, i) => (i === 0 ? [] : [i - 1])),
    overrides,
  );
}

/**
 * IWorkflows.ExecutionRequest of `budget` for `workflowId` (through `listingId`, 0 for none). By default any active
 * agent may claim it (`keeper` = ZeroAddress) and any listing price is accepted (`maxListingFee` = MaxUint256).
 */
export function executionRequest(
  workflowId: bigint,
  inputsHash: string,
  budget: bigint,
  listingId = 0n,
  overrides: { keeper?: string; maxListingFee?: bigint; maxKeeperFee?: bigint } = {},
): IWorkflows.ExecutionRequestStruct {
  return {
    workflowId,
    inputsHash,
    budget,
    listingId,
    keeper: overrides.keeper ?? ZeroAddress,
    maxListingFee: overrides.maxListingFee ?? MaxUint256,
    maxKeeperFee: overrides.maxKeeperFee ?? 0n,
  };
}

/** The dependency bitmask of a list of step indices. */
export function mask(...steps: number[]): bigint {
  return steps.reduce((m, s) => m | (1n << BigInt(s)), 0n);
}

/** The mask of steps 0..count-1. */
export function allSteps(count: number): bigint {
  return (1n << BigInt(count)) - 1n;
}

/** One step's work, before signing. `signer` signs; `provider` (default: the signer) is what the record names. */
export interface StepWork {
  step: number;
  signer: EthersSigner;
  cost: bigint;
  provider?: string;
  inputHash?: string;
  outputHash?: string;
}

/** IWorkflows.StepRecord, concretely typed. */
export interface StepRecord {
  step: number;
  provider: string;
  inputHash: string;
  outputHash: string;
  cost: bigint;
  signature: string;
}

export function inputHashOf(executionId: bigint, step: number): string {
  return id(`input ${executionId}/${step}`);
}

export function outputHashOf(executionId: bigint, step: number): string {
  return id(`output ${executionId}/${step}`);
}

/** Signs each piece of work as an EIP-712 StepResult of `executionId` (scripts/lib/eip712.ts's types). */
export async function signedRecords(
  workflows: Workflows,
  executionId: bigint,
  work: StepWork[],
): Promise<StepRecord[]> {
  const domain = await domainOf(workflows);
  return Promise.all(
    work.map(async (w) => {
      const result = {
        executionId,
        step: w.step,
        inputHash: w.inputHash ?? inputHashOf(executionId, w.step),
        outputHash: w.outputHash ?? outputHashOf(executionId, w.step),
        cost: w.cost,
      };
      const signature = await w.signer.signTypedData(domain, forEthers(STEP_RESULT_TYPES), result);
      return {
        step: w.step,
        provider: w.provider ?? (await w.signer.getAddress()),
        inputHash: result.inputHash,
        outputHash: result.outputHash,
        cost: w.cost,
        signature,
      };
    }),
  );
}

/** The EIP-712 digest of a StepResult, computed off chain. */
export async function stepDigest(
  workflows: Workflows,
  r: { executionId: bigint; step: number; inputHash: string; outputHash: string; cost: bigint },
): Promise<string> {
  return TypedDataEncoder.hash(await domainOf(workflows), forEthers(STEP_RESULT_TYPES), r);
}

/** receipt_0 of an execution: keccak256(abi.encode(uint256 executionId, uint256 workflowId, bytes32 inputsHash)). */
export function receiptSeed(executionId: bigint, workflowId: bigint, inputsHash: string): string {
  return keccak256(coder.encode(["uint256", "uint256", "bytes32"], [executionId, workflowId, inputsHash]));
}

/**
 * The execution receipt after `records`, in submission order, from `start` (receipt_0, see {receiptSeed}):
 * receipt_k = keccak256(abi.encode(receipt_{k-1}, uint16 step, address provider, bytes32 inputHash,
 * bytes32 outputHash, uint256 cost)).
 */
export function receiptChain(start: string, records: StepRecord[]): string {
  return records.reduce(
    (receipt, r) =>
      keccak256(
        coder.encode(
          ["bytes32", "uint16", "address", "bytes32", "bytes32", "uint256"],
          [receipt, r.step, r.provider, r.inputHash, r.outputHash, r.cost],
        ),
      ),
    start,
  );
}

/** The sum of each provider's costs in `records` (what each must be credited). */
export function costsByProvider(records: StepRecord[]): Map<string, bigint> {
  const owed = new Map<string, bigint>();
  for (const r of records) owed.set(r.provider, (owed.get(r.provider) ?? 0n) + r.cost);
  return owed;
}

export function sum(values: Iterable<bigint>): bigint {
  let total = 0n;
  for (const v of values) total += v;
  return total;
}

/** A deterministic pseudo-random DAG of `count` steps: each step depends on up to 3 earlier steps. */
export function randomDag(count: number, seed = 1): number[][] {
  let s = seed;
  const next = () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s;
  };
  return Array.from({ length: count }, (_, i) => {
    if (i === 0) return [];
    const deps = new Set<number>();
    const n = 1 + (next() % 3);
    for (let k = 0; k < n; ++k) deps.add(next() % i);
    return [...deps];
  });
}

/**
 * Batches of `count` steps in an order that respects `deps` level by level (each level's steps in one or
 * more batches of at most `batchSize`), so parallel steps share batches.
 */
export function levelBatches(deps: number[][], batchSize: number): number[][] {
  const level: number[] = [];
  deps.forEach((d, i) => {
    level[i] = d.length === 0 ? 0 : Math.max(...d.map((x) => level[x] ?? 0)) + 1;
  });
  const order = deps.map((_, i) => i).sort((a, b) => (level[a] ?? 0) - (level[b] ?? 0) || a - b);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return batches;
}

/** Token balances and Workflows credits of some accounts, to check what an execution moved. */
export class Books {
  private constructor(
    private readonly workflows: Workflows,
    private readonly token: AIToken,
    private readonly accounts: string[],
    private readonly balances: Map<string, bigint>,
    private readonly credits: Map<string, bigint>,
    private readonly held: bigint,
  ) {}

  static async open(workflows: Workflows, token: AIToken, accounts: string[]): Promise<Books> {
    const balances = new Map<string, bigint>();
    const credits = new Map<string, bigint>();
    for (const a of accounts) {
      balances.set(a, await token.balanceOf(a));
      credits.set(a, await workflows.creditsOf(a));
    }
    return new Books(workflows, token, accounts, balances, credits, await token.balanceOf(workflows));
  }

  /** How each account's token balance and credits changed, and how the Workflows balance changed. */
  async deltas(): Promise<{ balance: Map<string, bigint>; credits: Map<string, bigint>; held: bigint }> {
    const balance = new Map<string, bigint>();
    const credits = new Map<string, bigint>();
    for (const a of this.accounts) {
      balance.set(a, (await this.token.balanceOf(a)) - (this.balances.get(a) ?? 0n));
      credits.set(a, (await this.workflows.creditsOf(a)) - (this.credits.get(a) ?? 0n));
    }
    return { balance, credits, held: (await this.token.balanceOf(this.workflows)) - this.held };
  }
}

// ---------------------------------------------------------------- the workflows fixture and its states

/** The test network, fetched when a fixture runs rather than at import (see connectedEthers in behaviours.ts). */
const connect = () => network.getOrCreate();

/** Each funded human (owner, clients) holds this much. */
export const FUNDS = 100_000n * AITBC;
export const BUDGET = 100n * AITBC;
export const MAX_BUDGET = 1_000n * AITBC;
export const MAX_TIME = 3_600n;
export const INPUTS = id("inputs: iris.csv");
export const RESULT = id("result: predictions.csv");
export const REASON = id("provider unreachable");
/** Inputs a Full or Zk execution can take: a field element (INPUTS, a keccak hash, is above the field). */
export const FIELD_INPUTS = fieldToBytes32(BigInt(INPUTS) % FIELD_MODULUS);
export const UNKNOWN = 99n;
/** For calls that must land in a block of a chosen timestamp (no gas estimation at another time). */
export const GAS = { gasLimit: 3_000_000n };

/** The diamond every fixture defines as workflow 1: load -> (left | right) -> merge. */
export const DIAMOND = toWorkflowSpec(
  {
    name: "iris-diamond",
    maxExecutionTime: "1h",
    maxBudget: "1000",
    verification: "basic",
    steps: [
      { id: "load", type: "data-processing", output: "rows" },
      {
        id: "left",
        type: "inference",
        model: "iris-mlp-v1",
        dependsOn: ["load"],
        input: "load.rows",
        output: "a",
        timeout: 30,
        maxRetries: 2,
        retryBackoff: 5,
      },
      {
        id: "right",
        type: "inference",
        model: "iris-tree-v2",
        dependsOn: ["load"],
        input: "load.rows",
        output: "b",
      },
      { id: "merge", type: "training", dependsOn: ["left", "right"], input: "left.a,right.b" },
    ],
  },
  "diamond",
);

/** DIAMOND at the Zk level, its two inference steps on field-element models (what requiresProof needs). */
export const PROOF_MODEL_DIAMOND: IWorkflows.WorkflowSpecStruct = {
  ...DIAMOND,
  verification: VERIFICATION.zk,
  steps: DIAMOND.steps.map((s, i) => (i === 1 || i === 2 ? { ...s, model: fieldToBytes32(BigInt(i)) } : s)),
};

export const PUBLIC_LISTING: IWorkflows.ListingInputStruct = {
  title: "Iris classifier",
  description: "Two models, merged",
  tags: ["iris", "classification"],
  executionPrice: 5n * AITBC,
  subscriptionPrice: 20n * AITBC,
  isPublic: true,
};
export const RESTRICTED_LISTING: IWorkflows.ListingInputStruct = {
  title: "Iris classifier (private beta)",
  description: "",
  tags: [],
  executionPrice: 3n * AITBC,
  subscriptionPrice: 10n * AITBC,
  isPublic: false,
};

/**
 * The protocol, plus: active agents `keeper` (agent), `keeper2`, and providers `p1` (agent2), `p2`, `p3` (each
 * staked MIN_STAKE, no declared volume); `idle` registered but unstaked (inactive); `owner`, `client` and
 * `client2` (humans) funded with FUNDS and approving Workflows; workflow 1 = DIAMOND, defined by `owner`.
 */
export async function baseFixture() {
  const connection = await connect();
  const { ethers } = connection;
  const core = await deployProtocol(connection);
  const { token, workflows, registry, operator, agent: keeper, agent2: p1, client, outsider } = core;
  const [p2, p3, owner, client2, idle, keeper2] = (await ethers.getSigners()).slice(9, 15);
  if (!p2 || !p3 || !owner || !client2 || !idle || !keeper2) throw new Error("the test network needs 15 accounts");
  for (const a of [keeper, keeper2, p1, p2, p3]) await registerAndStake(core, a, operator, MIN_STAKE);
  await registerAgent(core, idle, operator);
  for (const a of [owner, client, client2]) {
    await mintAitbc(core, a.address, FUNDS / AITBC);
    await token.connect(a).approve(await workflows.getAddress(), MaxUint256);
  }
  await workflows.connect(owner).defineWorkflow(DIAMOND);
  const keeperId = await registry.agentIdOf(keeper.address);
  const accounts = [owner, client, client2, keeper, keeper2, p1, p2, p3, idle, outsider].map((s) => s.address);
  return { ...core, keeper, keeper2, keeperId, p1, p2, p3, idle, owner, client2, accounts };
}
export type Base = Awaited<ReturnType<typeof baseFixture>>;

/**
 * The only fixture loaded through loadFixture (Hardhat 3's snapshots break when fixtures nest); the later states
 * below are plain helpers on top of it.
 */
export const loadBase = async () => (await connect()).networkHelpers.loadFixture(baseFixture);

/** Base, plus execution 1 of workflow 1 requested by its owner (BUDGET, no listing, any keeper). */
export async function loadPending() {
  const f = await loadBase();
  await f.workflows.connect(f.owner).requestExecution(executionRequest(1n, INPUTS, BUDGET, 0n));
  return f;
}

/** Pending, plus execution 1 claimed by `keeper`. */
export async function loadRunning() {
  const f = await loadPending();
  await f.workflows.connect(f.keeper).claimExecution(1n);
  return f;
}

/** Base, plus listing 1 (PUBLIC_LISTING) and listing 2 (RESTRICTED_LISTING) of workflow 1. */
export async function loadListed() {
  const f = await loadBase();
  await f.workflows.connect(f.owner).createListing(1n, PUBLIC_LISTING);
  await f.workflows.connect(f.owner).createListing(1n, RESTRICTED_LISTING);
  return f;
}

/** One step: [step, signing provider, cost]. */
export type Work = [number, Signer, bigint];

/** The diamond's work: p1 runs load and left, p2 right, p3 merge; 70 AITBC in all. */
export function diamondWork(f: Base): Work[][] {
  return [
    [[0, f.p1, 10n * AITBC]],
    [
      [1, f.p1, 20n * AITBC],
      [2, f.p2, 15n * AITBC],
    ],
    [[3, f.p3, 25n * AITBC]],
  ];
}

export async function sign(f: Base, executionId: bigint, work: Work[]): Promise<StepRecord[]> {
  return signedRecords(
    f.workflows,
    executionId,
    work.map(([step, signer, cost]) => ({ step, signer, cost })),
  );
}

/** Signs `work` and records it as one batch by `keeper`. */
export async function record(f: Base, executionId: bigint, work: Work[], keeper: Signer = f.keeper) {
  const records = await sign(f, executionId, work);
  await f.workflows.connect(keeper).recordSteps(executionId, records);
  return records;
}

/** Requests (by `client`, through `listingId`), claims, records the whole diamond and completes. */
export async function runDiamond(f: Base, client: Signer, listingId = 0n, budget = BUDGET) {
  const executionId = await nextExecutionId(f, client, executionRequest(1n, INPUTS, budget, listingId));
  await f.workflows.connect(f.keeper).claimExecution(executionId);
  const records: StepRecord[] = [];
  for (const batch of diamondWork(f)) records.push(...(await record(f, executionId, batch)));
  await f.workflows.connect(f.keeper).completeExecution(executionId, RESULT, 0n);
  return { executionId, records };
}

/** Sends `request` as `client` and returns the new execution's id. */
async function nextExecutionId(f: Base, client: Signer, request: IWorkflows.ExecutionRequestStruct): Promise<bigint> {
  const tx = await f.workflows.connect(client).requestExecution(request);
  const receipt = await tx.wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = f.workflows.interface.parseLog(log);
    if (parsed?.name === "ExecutionRequested") return parsed.args[0] as bigint;
  }
  throw new Error("no ExecutionRequested event");
}

export async function expectHeld(f: Base) {
  expect(await f.token.balanceOf(await f.workflows.getAddress())).to.equal(await f.workflows.totalHeld());
}

/**
 * Checks what moved since `books` opened: each tracked account's balance and credits changed exactly as
 * expected (0 when not listed); the Workflows balance changed by the new credits plus `open` (the change of
 * the escrow held for open executions); deposits = provider credits + refunds + owner fees (tokens are conserved); and the
 * Workflows balance equals totalHeld().
 */
export async function expectBooks(
  f: Base,
  books: Books,
  expected: { balances?: Record<string, bigint>; credits?: Record<string, bigint>; open?: bigint },
) {
  const d = await books.deltas();
  for (const a of f.accounts) {
    expect(d.balance.get(a), `balance change of ${a}`).to.equal(expected.balances?.[a] ?? 0n);
    expect(d.credits.get(a), `credit change of ${a}`).to.equal(expected.credits?.[a] ?? 0n);
  }
  const credited = sum(d.credits.values());
  expect(d.held).to.equal(credited + (expected.open ?? 0n));
  const paidIn = -sum(d.balance.values());
  expect(paidIn).to.equal(d.held); // what clients paid = credits + still-open escrow; refunds net out
  await expectHeld(f);
}

export async function books(f: Base) {
  return Books.open(f.workflows, f.token, f.accounts);
}
