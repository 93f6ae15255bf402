import { AbiCoder, keccak256, type Signer, type TypedDataDomain } from "ethers";

import type { AIToken, IAIToken, Workflows } from "../../typechain-types/index.js";
import { COMPUTE_RECEIPT_TYPES } from "../../protocol/eip712.js";
import { domainOf, forEthers } from "./eip712.js";

/** A compute receipt as the AIToken's EIP-712 `ComputeReceipt` type defines it. */
export interface ComputeReceipt {
  receiptId: string;
  provider: string;
  client: string;
  units: bigint;
  workHash: string;
  resultHash: string;
  deadline: bigint;
}

/** The token's EIP-712 domain, read from the chain (EIP-5267), so it is right for any chain and address. */
export async function receiptDomain(token: AIToken | IAIToken): Promise<TypedDataDomain> {
  return domainOf(token as AIToken);
}

/** An attestor's signature over `receipt` (65 bytes, low-s, as ethers produces). */
export async function signReceipt(attestor: Signer, domain: TypedDataDomain, receipt: ComputeReceipt): Promise<string> {
  return attestor.signTypedData(domain, forEthers(COMPUTE_RECEIPT_TYPES), receipt);
}

/**
 * The compute receipts an attestor signs for a completed workflow execution: one per provider, for the steps
 * the chain recorded for it (one unit per step), bound to the execution's receipt and result. The receipt id is
 * keccak256("workflow", executionId, provider), so each provider's work in an execution mints once.
 */
export async function executionReceipts(
  workflows: Workflows,
  executionId: bigint,
  deadline: bigint,
): Promise<ComputeReceipt[]> {
  const e = await workflows.getExecution(executionId);
  if (e.status !== 3n) throw new Error(`execution #${executionId} is not completed (status ${e.status})`);
  const logs = await workflows.queryFilter(workflows.filters.StepRecorded(executionId));
  const steps = new Map<string, bigint>();
  for (const log of logs) steps.set(log.args.provider, (steps.get(log.args.provider) ?? 0n) + 1n);
  return [...steps].map(([provider, units]) => ({
    receiptId: keccak256(
      AbiCoder.defaultAbiCoder().encode(["string", "uint256", "address"], ["workflow", executionId, provider]),
    ),
    provider,
    client: e.client,
    units,
    workHash: e.receipt,
    resultHash: e.resultHash,
    deadline,
  }));
}
