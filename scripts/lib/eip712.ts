/**
 * EIP-712 signing for the protocol's typed messages: compute receipts (AIToken), work results
 * (ServiceMarketplace) and step results (Workflows). Each contract publishes its domain (EIP-5267), so
 * signatures are right for any chain and address.
 */
import type { Signer, TypedDataDomain, TypedDataField } from "ethers";

import { STEP_RESULT_TYPES as STEP_RESULT } from "../../keepers/common/eip712.js";

/** A contract that exposes its EIP-712 domain (EIP-5267). */
export interface Eip712Contract {
  eip712Domain(): Promise<{ name: string; version: string; chainId: bigint; verifyingContract: string }>;
}

export async function domainOf(contract: Eip712Contract): Promise<TypedDataDomain> {
  const d = await contract.eip712Domain();
  return { name: d.name, version: d.version, chainId: d.chainId, verifyingContract: d.verifyingContract };
}

/** ServiceMarketplace's `WorkResult`, signed by the assigned provider agent. */
export const WORK_RESULT_TYPES: Record<string, TypedDataField[]> = {
  WorkResult: [
    { name: "workloadId", type: "uint256" },
    { name: "round", type: "uint32" },
    { name: "resultHash", type: "bytes32" },
  ],
};

/** Workflows' `StepResult`, signed by the provider agent that ran the step (one definition: keepers/common). */
export const STEP_RESULT_TYPES: Record<string, TypedDataField[]> = {
  StepResult: STEP_RESULT.StepResult.map((f) => ({ ...f })),
};

export async function signWorkResult(
  provider: Signer,
  marketplace: Eip712Contract,
  result: { workloadId: bigint; round: bigint; resultHash: string },
): Promise<string> {
  return provider.signTypedData(await domainOf(marketplace), WORK_RESULT_TYPES, result);
}

export interface StepResult {
  executionId: bigint;
  step: number;
  inputHash: string;
  outputHash: string;
  cost: bigint;
}

export async function signStepResult(provider: Signer, workflows: Eip712Contract, result: StepResult): Promise<string> {
  return provider.signTypedData(await domainOf(workflows), STEP_RESULT_TYPES, result);
}
