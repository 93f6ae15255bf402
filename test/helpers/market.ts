import { AbiCoder, id, keccak256, Signature, ZeroHash, type Signer } from "ethers";

import { PERMIT_TYPES } from "../../protocol/eip712.js";
import { domainOf, forEthers, signWorkResult } from "../../scripts/lib/eip712.js";
import { receiptDomain, signReceipt, type ComputeReceipt } from "../../scripts/lib/receipts.js";
import type { AIToken, IServiceMarketplace, ServiceMarketplace } from "../../typechain-types/index.js";
import { AITBC, DAY, HOUR } from "./agents.js";
import { enumValues, WORKLOAD_VERIFICATION_LEVELS } from "../../protocol/enums.js";

/** IServiceMarketplace.WorkloadStatus. */
export const WORKLOAD = {
  None: 0n,
  Open: 1n,
  Awarded: 2n,
  Submitted: 3n,
  Disputed: 4n,
  Settled: 5n,
  Refunded: 6n,
  Cancelled: 7n,
} as const;

/** IServiceMarketplace.VerificationLevel. */
export const VERIFICATION = enumValues(WORKLOAD_VERIFICATION_LEVELS);

/** The marketplace's action types (ActionTypes.sol). */
export const MARKET_ACTION = {
  LIST_SERVICE: 3,
  POST_WORKLOAD: 4,
  BID: 5,
  SUBMIT_RESULT: 6,
  RESOLVE_DISPUTE: 7,
} as const;

/** deploy/modules/Protocol.ts defaults. */
export const PROTOCOL_FEE_BPS = 100n;
export const CHALLENGE_WINDOW = DAY;
export const TIMEOUT_SLASH_BPS = 1_000n;

/** ServiceMarketplace constants. */
export const MIN_CHALLENGE_WINDOW = HOUR;
export const MAX_FEE_BPS = 1_000n;
export const MAX_CHALLENGE_WINDOW = 30n * DAY;
export const MAX_TIMEOUT_SLASH_BPS = 10_000n;
export const MAX_BIDS = 32n;
export const REPUTATION_REWARD = 10n;
/** ServiceMarketplace.FEE_PER_REPUTATION_POINT: 0.01 AITBC of protocol fee per reputation point. */
export const FEE_PER_REPUTATION_POINT = 10n ** 16n;

/** The reputation a settlement paying `fee` earns an unrelated provider: a point per FEE_PER_REPUTATION_POINT, capped. */
export function reputationGainOf(fee: bigint): bigint {
  const points = fee / FEE_PER_REPUTATION_POINT;
  return points < REPUTATION_REWARD ? points : REPUTATION_REWARD;
}
export const REPUTATION_PENALTY = -50n;
/**
 * Core.ts default reward rate: 1 AITBC per unit of work. Settlement itself mints nothing; the reward is minted
 * when an attestor signs the workload's compute receipt ({attestReceipt}) and someone submits it to the token.
 */
export const REWARD_RATE = AITBC;

export const SERVICE_NAME = "gpu-inference";
export const SERVICE_TYPE = id(SERVICE_NAME);
export const MODEL_HASH = id("model:llama-3-8b");

/** What a workload request looks like, with bigint fields. */
export interface Request {
  serviceType: string;
  modelHash: string;
  units: bigint;
  maxPricePerUnit: bigint;
  bidDeadline: bigint;
  executionDeadline: bigint;
  verification: bigint;
  reopenOnTimeout: boolean;
  inputHash: string;
}

/** A valid offer (gpu-inference, MODEL_HASH, 5 AITBC per unit, 1,000 units of capacity), some fields replaced. */
export function offer(
  serviceId: string,
  overrides: Partial<IServiceMarketplace.ServiceOfferStruct> = {},
): IServiceMarketplace.ServiceOfferStruct {
  return {
    serviceId,
    serviceName: SERVICE_NAME,
    pricePerUnit: 5n * AITBC,
    maxCapacity: 1_000n,
    currentLoad: 0n,
    modelHash: MODEL_HASH,
    minAccuracy: 9_500n,
    ...overrides,
  };
}

/**
 * A valid request posted at `now`: gpu-inference on MODEL_HASH, 10 units at most 10 AITBC each (100 AITBC of
 * escrow), bids for an hour, then a day to execute; refund on timeout. Some fields replaced.
 */
export function workloadRequest(now: bigint, overrides: Partial<Request> = {}): Request {
  const bidDeadline = overrides.bidDeadline ?? now + HOUR;
  return {
    serviceType: SERVICE_TYPE,
    modelHash: MODEL_HASH,
    units: 10n,
    maxPricePerUnit: 10n * AITBC,
    bidDeadline,
    executionDeadline: bidDeadline + DAY,
    verification: VERIFICATION.basic,
    reopenOnTimeout: false,
    inputHash: ZeroHash,
    ...overrides,
  };
}

/** The escrow a request holds. */
export function escrowOf(request: Pick<Request, "units" | "maxPricePerUnit">): bigint {
  return request.units * request.maxPricePerUnit;
}

/**
 * The slash of a failed assignment (timeout or lost dispute) before the registry's cap: timeoutSlashBps of the
 * escrowed value units × maxPricePerUnit (not of the bid price), rounded down.
 */
export function slashOf(units: bigint, maxPricePerUnit: bigint, slashBps = TIMEOUT_SLASH_BPS): bigint {
  return (units * maxPricePerUnit * slashBps) / 10_000n;
}

/** The split of a settled workload: net payment to the provider, fee to the treasury, refund to the client. */
export function split(units: bigint, maxPricePerUnit: bigint, pricePerUnit: bigint, feeBps = PROTOCOL_FEE_BPS) {
  const payment = units * pricePerUnit;
  const fee = (payment * feeBps) / 10_000n;
  return { payment, fee, net: payment - fee, refund: units * (maxPricePerUnit - pricePerUnit) };
}

/** An EIP-2612 permit on the AIToken from `owner` to `spender`, signed by `signer` (the owner unless a forgery). */
export async function signPermit(
  token: AIToken,
  owner: Signer,
  spender: string,
  value: bigint,
  deadline: bigint,
  signer: Signer = owner,
): Promise<Signature> {
  const ownerAddress = await owner.getAddress();
  const nonce = await token.nonces(ownerAddress);
  const signature = await signer.signTypedData(await domainOf(token), forEthers(PERMIT_TYPES), {
    owner: ownerAddress,
    spender,
    value,
    nonce,
    deadline,
  });
  return Signature.from(signature);
}

/** `provider`'s EIP-712 signature of a WorkResult. */
export function signResult(
  provider: Signer,
  marketplace: ServiceMarketplace,
  workloadId: bigint,
  round: bigint,
  resultHash: string,
): Promise<string> {
  return signWorkResult(provider, marketplace, { workloadId, round, resultHash });
}

const abi = AbiCoder.defaultAbiCoder();

/** What the work hash of a compute receipt commits to: the workload as the client posted it. */
export interface ReceiptWork {
  workloadId: bigint;
  client: string;
  serviceType: string;
  modelHash: string;
  units: bigint;
}

/** A settled workload's receipt id: keccak256(abi.encode(marketplace, workloadId)). */
export function receiptIdOf(marketplace: string, workloadId: bigint): string {
  return keccak256(abi.encode(["address", "uint256"], [marketplace, workloadId]));
}

/** A settled workload's work hash: keccak256(abi.encode(workloadId, client, serviceType, modelHash, units)). */
export function workHashOf(work: ReceiptWork): string {
  return keccak256(
    abi.encode(
      ["uint256", "address", "bytes32", "bytes32", "uint96"],
      [work.workloadId, work.client, work.serviceType, work.modelHash, work.units],
    ),
  );
}

/** IServiceMarketplace.ReceiptData, field for field (for deep equality with receiptOf and event arguments). */
export interface ReceiptData {
  receiptId: string;
  provider: string;
  client: string;
  units: bigint;
  workHash: string;
  resultHash: string;
}

/** The receipt the marketplace should issue for a settled workload, computed independently of the contract. */
export function expectedReceipt(
  marketplace: string,
  work: ReceiptWork,
  provider: string,
  resultHash: string,
): ReceiptData {
  return {
    receiptId: receiptIdOf(marketplace, work.workloadId),
    provider,
    client: work.client,
    units: work.units,
    workHash: workHashOf(work),
    resultHash,
  };
}

/** The fields of a ReceiptData in ABI order. */
export function receiptTuple(r: ReceiptData): unknown[] {
  return [r.receiptId, r.provider, r.client, r.units, r.workHash, r.resultHash];
}

/**
 * An AIToken ComputeReceipt built from a marketplace receipt (receiptOf) plus `deadline`, signed by `attestor`
 * (scripts/lib/receipts.ts).
 */
export async function attestReceipt(
  attestor: Signer,
  token: AIToken,
  data: ReceiptData,
  deadline: bigint,
): Promise<{ receipt: ComputeReceipt; signature: string }> {
  const receipt: ComputeReceipt = {
    receiptId: data.receiptId,
    provider: data.provider,
    client: data.client,
    units: data.units,
    workHash: data.workHash,
    resultHash: data.resultHash,
    deadline,
  };
  return { receipt, signature: await signReceipt(attestor, await receiptDomain(token), receipt) };
}
