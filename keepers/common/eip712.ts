/**
 * Workflows' EIP-712 `StepResult` for viem: what a provider signs for every step it runs, and how the keeper
 * checks it. The domain comes from the contract (EIP-5267), so it is right on every chain. Same type as
 * scripts/lib/eip712.ts (ethers) and Workflows.sol.
 */
import { recoverTypedDataAddress, type Account, type PublicClient, type TypedDataDomain } from "viem";

import { workflowsAbi } from "./abi.js";

export const STEP_RESULT_TYPES = {
  StepResult: [
    { name: "executionId", type: "uint256" },
    { name: "step", type: "uint16" },
    { name: "inputHash", type: "bytes32" },
    { name: "outputHash", type: "bytes32" },
    { name: "cost", type: "uint256" },
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
