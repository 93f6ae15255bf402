/**
 * Helpers for the Workflows tests: workflow specs (and their content hash, computed independently of the
 * contract), EIP-712 signed step records, the execution receipt chain, and the token books an execution
 * must balance.
 */
import type { Signer } from "ethers";
import { AbiCoder, id, keccak256, MaxUint256, TypedDataEncoder, ZeroAddress } from "ethers";

import { STEP_RESULT_TYPES } from "../../protocol/eip712.js";
import { domainOf, forEthers } from "../../scripts/lib/eip712.js";
import type { AIToken, IWorkflows, Workflows } from "../../typechain-types/index.js";
import { enumValues, EXECUTION_STATUSES, STEP_TYPES, VERIFICATION_LEVELS } from "../../protocol/enums.js";

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
  overrides: { keeper?: string; maxListingFee?: bigint } = {},
): IWorkflows.ExecutionRequestStruct {
  return {
    workflowId,
    inputsHash,
    budget,
    listingId,
    keeper: overrides.keeper ?? ZeroAddress,
    maxListingFee: overrides.maxListingFee ?? MaxUint256,
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
  signer: Signer;
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
