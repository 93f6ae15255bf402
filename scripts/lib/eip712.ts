/**
 * EIP-712 signing with ethers for tasks and tests: the protocol's type tables (protocol/eip712.ts, the one
 * definition) in the shape ethers takes, and the contract's domain read from the chain (EIP-5267), so signatures
 * are right for any chain and address.
 */
import type { Signer, TypedDataDomain, TypedDataField } from "ethers";

import {
  EXECUTION_INPUTS_TYPES,
  KEEPER_REQUEST_TYPES,
  RESULTS_GRANT_TYPES,
  RESULTS_REVOKE_TYPES,
  STEP_RESULT_TYPES,
  WORK_RESULT_TYPES,
} from "../../protocol/eip712.js";
import {
  executionInputsMessage,
  keeperRequestMessage,
  resultsGrantMessage,
  resultsRevokeMessage,
} from "../../protocol/keeper-api.js";

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

// ---------------------------------------------------------------- the keeper's client API (protocol/keeper-api.ts)

export async function signExecutionInputs(
  client: Signer,
  domain: TypedDataDomain,
  inputsHash: `0x${string}`,
  expiry: number,
): Promise<`0x${string}`> {
  const message = executionInputsMessage(inputsHash, (await client.getAddress()) as `0x${string}`, expiry);
  return (await client.signTypedData(domain, forEthers(EXECUTION_INPUTS_TYPES), message)) as `0x${string}`;
}

export async function signResultsGrant(
  client: Signer,
  domain: TypedDataDomain,
  executionId: bigint,
  reader: `0x${string}`,
  expiry: number,
  issuedAt: number,
): Promise<`0x${string}`> {
  const message = resultsGrantMessage(executionId, reader, expiry, issuedAt);
  return (await client.signTypedData(domain, forEthers(RESULTS_GRANT_TYPES), message)) as `0x${string}`;
}

export async function signResultsRevoke(
  client: Signer,
  domain: TypedDataDomain,
  executionId: bigint,
  reader: `0x${string}`,
  issuedAt: number,
): Promise<`0x${string}`> {
  const message = resultsRevokeMessage(executionId, reader, issuedAt);
  return (await client.signTypedData(domain, forEthers(RESULTS_REVOKE_TYPES), message)) as `0x${string}`;
}

export async function signKeeperRequest(
  signer: Signer,
  domain: TypedDataDomain,
  method: string,
  path: string,
  expiry: number,
): Promise<`0x${string}`> {
  const message = keeperRequestMessage(method, path, (await signer.getAddress()) as `0x${string}`, expiry);
  return (await signer.signTypedData(domain, forEthers(KEEPER_REQUEST_TYPES), message)) as `0x${string}`;
}
