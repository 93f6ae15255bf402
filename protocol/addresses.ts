/**
 * Where a deployment's addresses live: Ignition's record for the chain
 * (deploy/deployments/chain-<chainId>/deployed_addresses.json, written by `hardhat ignition deploy`), or the JSON
 * file named by AITBC_ADDRESSES. Either maps Ignition future ids ("AITBCCore#AIToken", ...) to addresses.
 * Shared by the Hardhat tasks (ethers) and the daemons (viem).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** The protocol's contracts by the key tasks and daemons use, with their Ignition future ids. */
export const FUTURE_IDS = {
  token: "AITBCCore#AIToken",
  registry: "AITBCCore#AgentRegistry",
  identity: "AITBCCore#AgentIdentity",
  reputation: "AITBCCore#AgentReputation",
  constitution: "AITBCCore#AgentConstitution",
  humanOverride: "AITBCCore#HumanOverride",
  marketplace: "AITBCProtocol#ServiceMarketplace",
  workflows: "AITBCProtocol#Workflows",
  ledger: "AITBCProtocol#WorkflowLedger",
  validation: "AITBCProtocol#AgentValidation",
  receiptMinter: "AITBCZk#ReceiptMinter",
  receiptVerifier: "AITBCZk#ReceiptVerifier",
  workflowVerifier: "AITBCZk#WorkflowVerifier",
  inferenceVerifier: "AITBCZk#InferenceVerifier",
  agentVotes: "AITBCGovernance#AgentVotes",
  timelock: "AITBCGovernance#AITBCTimelock",
  governor: "AITBCGovernance#AITBCGovernor",
} as const;

export type ContractKey = keyof typeof FUTURE_IDS;
export type Addresses = Record<ContractKey, `0x${string}`>;

export const DEPLOYMENTS_DIR = path.join(import.meta.dirname, "..", "deploy", "deployments");

/** The addresses file for `chainId`: `file` when given, else AITBC_ADDRESSES, else Ignition's record. */
export function addressesFile(chainId: bigint | number, file = process.env.AITBC_ADDRESSES): string {
  return file ?? path.join(DEPLOYMENTS_DIR, `chain-${chainId}`, "deployed_addresses.json");
}

export function readAddresses(chainId: bigint | number, file?: string): Addresses {
  const at = addressesFile(chainId, file);
  if (!existsSync(at)) {
    throw new Error(
      `no AITBC deployment found for chain ${chainId} (looked for ${at}). ` +
        "Deploy with `npx hardhat ignition deploy deploy/modules/Protocol.ts --network <name>` or set AITBC_ADDRESSES.",
    );
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(at, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${at}: not valid JSON (${(error as Error).message})`);
  }
  const out = {} as Addresses;
  for (const [key, futureId] of Object.entries(FUTURE_IDS) as [ContractKey, string][]) {
    const address = raw[futureId];
    if (typeof address !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(address))
      throw new Error(`${at}: missing or bad address for ${futureId}`);
    out[key] = address as `0x${string}`;
  }
  return out;
}

/** The addresses in Ignition's format (what an AITBC_ADDRESSES file holds). */
export function addressesJson(addresses: Record<ContractKey, string>): string {
  const entries = (Object.keys(FUTURE_IDS) as ContractKey[]).map((k) => [FUTURE_IDS[k], addresses[k]]);
  return JSON.stringify(Object.fromEntries(entries), null, 2) + "\n";
}
