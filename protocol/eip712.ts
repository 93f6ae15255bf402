/**
 * The protocol's EIP-712 typed messages, each defined once, field for field as the contracts hash them:
 * - `ComputeReceipt` (AIToken.mintFromReceipt), signed by an attestor;
 * - `WorkResult` (ServiceMarketplace.submitResult), signed by the assigned provider agent;
 * - `StepResult` (Workflows.recordSteps), signed by the provider agent that ran the step;
 * - `Permit` (EIP-2612, AIToken.permit) and `Delegation` (OpenZeppelin Votes.delegateBySig, AgentVotes).
 * Each contract publishes its domain (EIP-5267), so a signature is right on any chain and address. The tables are
 * `as const` for viem; scripts/lib/eip712.ts hands ethers the same tables.
 *
 * Below them, viem helpers for what the daemons sign and check: the StepResult.
 */
import { recoverTypedDataAddress, type Account, type PublicClient, type TypedDataDomain } from "viem";

import { workflowsAbi } from "./abi.js";

export const COMPUTE_RECEIPT_TYPES = {
  ComputeReceipt: [
    { name: "receiptId", type: "bytes32" },
    { name: "provider", type: "address" },
    { name: "client", type: "address" },
    { name: "units", type: "uint256" },
    { name: "workHash", type: "bytes32" },
    { name: "resultHash", type: "bytes32" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

export const WORK_RESULT_TYPES = {
  WorkResult: [
    { name: "workloadId", type: "uint256" },
    { name: "round", type: "uint32" },
    { name: "resultHash", type: "bytes32" },
  ],
} as const;

export const STEP_RESULT_TYPES = {
  StepResult: [
    { name: "executionId", type: "uint256" },
    { name: "step", type: "uint16" },
    { name: "inputHash", type: "bytes32" },
    { name: "outputHash", type: "bytes32" },
    { name: "cost", type: "uint256" },
  ],
} as const;

export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export const DELEGATION_TYPES = {
  Delegation: [
    { name: "delegatee", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
} as const;

// ---------------------------------------------------------------- the keeper's client API
// Signed off chain under the Workflows domain (no contract hashes them) and checked by the keeper's API
// (keepers/keeper/auth.ts); the bodies and the header that carry them are in protocol/keeper-api.ts. Expiries are
// unix seconds.

/** A client's inputs, by their value hash: the keeper runs an execution only with inputs its client signed. */
export const EXECUTION_INPUTS_TYPES = {
  ExecutionInputs: [
    { name: "inputsHash", type: "bytes32" },
    { name: "client", type: "address" },
    { name: "expiry", type: "uint64" },
  ],
} as const;

/** An execution's client lets `reader` read the execution's results from the keeper until `expiry`. */
export const RESULTS_GRANT_TYPES = {
  ResultsGrant: [
    { name: "executionId", type: "uint256" },
    { name: "reader", type: "address" },
    { name: "expiry", type: "uint64" },
  ],
} as const;

/** One request to the keeper's API (`path` with its query, as sent) by `signer`, valid until a near `expiry`. */
export const KEEPER_REQUEST_TYPES = {
  KeeperRequest: [
    { name: "method", type: "string" },
    { name: "path", type: "string" },
    { name: "signer", type: "address" },
    { name: "expiry", type: "uint64" },
  ],
} as const;

export interface StepResultMessage {
  executionId: bigint;
  step: number;
  inputHash: `0x${string}`;
  outputHash: `0x${string}`;
  cost: bigint;
}

export async function workflowsDomain(client: PublicClient, workflows: `0x${string}`): Promise<TypedDataDomain> {
  const [, name, version, chainId, verifyingContract] = await client.readContract({
    address: workflows,
    abi: workflowsAbi,
    functionName: "eip712Domain",
  });
  return { name, version, chainId: Number(chainId), verifyingContract };
}

export async function signStepResult(
  account: Account,
  domain: TypedDataDomain,
  message: StepResultMessage,
): Promise<`0x${string}`> {
  if (!account.signTypedData)
    throw new Error("account: cannot sign typed data (a local private-key account is needed)");
  return account.signTypedData({ domain, types: STEP_RESULT_TYPES, primaryType: "StepResult", message });
}

/** The address that signed `message`, or undefined when the signature is malformed. */
export async function stepResultSigner(
  domain: TypedDataDomain,
  message: StepResultMessage,
  signature: `0x${string}`,
): Promise<`0x${string}` | undefined> {
  try {
    return await recoverTypedDataAddress({
      domain,
      types: STEP_RESULT_TYPES,
      primaryType: "StepResult",
      message,
      signature,
    });
  } catch {
    return undefined;
  }
}
