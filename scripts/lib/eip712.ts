/**
 * EIP-712 signing with ethers for tasks and tests: the protocol's type tables (protocol/eip712.ts, the one
 * definition) in the shape ethers takes, and the contract's domain read from the chain (EIP-5267), so signatures
 * are right for any chain and address.
 */
import type { Signer, TypedDataDomain, TypedDataField } from "ethers";

import { STEP_RESULT_TYPES, WORK_RESULT_TYPES } from "../../protocol/eip712.js";

/** A contract that exposes its EIP-712 domain (EIP-5267). */
export interface Eip712Contract {
  eip712Domain(): Promise<{ name: string; version: string; chainId: bigint; verifyingContract: string }>;
}

export async function domainOf(contract: Eip712Contract): Promise<TypedDataDomain> {
  const d = await contract.eip712Domain();
  return { name: d.name, version: d.version, chainId: d.chainId, verifyingContract: d.verifyingContract };
}

/** A protocol type table (readonly, as viem wants it) as the mutable record ethers' signTypedData takes. */
export function forEthers(
  types: Readonly<Record<string, readonly TypedDataField[]>>,
): Record<string, TypedDataField[]> {
  return Object.fromEntries(Object.entries(types).map(([name, fields]) => [name, fields.map((f) => ({ ...f }))]));
}

export async function signWorkResult(
  provider: Signer,
  marketplace: Eip712Contract,
  result: { workloadId: bigint; round: bigint; resultHash: string },
): Promise<string> {
  return provider.signTypedData(await domainOf(marketplace), forEthers(WORK_RESULT_TYPES), result);
}

export interface StepResult {
  executionId: bigint;
  step: number;
  inputHash: string;
  outputHash: string;
  cost: bigint;
}

export async function signStepResult(provider: Signer, workflows: Eip712Contract, result: StepResult): Promise<string> {
  return provider.signTypedData(await domainOf(workflows), forEthers(STEP_RESULT_TYPES), result);
}
