/**
 * Finds the deployed core on the connected chain and returns typed contracts.
 *
 * Addresses come from protocol/addresses.ts (AITBC_ADDRESSES, else Ignition's record for the chain).
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { isAddress, Wallet, type Interface, type Signer } from "ethers";

import {
  addressesJson,
  DEPLOYMENTS_DIR,
  FUTURE_IDS,
  readAddresses,
  type Addresses,
  type ContractKey,
} from "../../protocol/addresses.js";
import { decryptKeystoreFile, keystoreFile, LOCAL_CHAIN_IDS, readPassword } from "../../keepers/common/keys.js";
import { ArgumentError, parseAddress, required } from "./args.js";
import { formatRevert } from "./revert.js";

import type {
  AgentConstitution,
  AgentIdentity,
  AgentReputation,
  AgentValidation,
  AgentVotes,
  AITBCGovernor,
  AgentRegistry,
  AIToken,
  HumanOverride,
  InferenceVerifier,
  ReceiptMinter,
  ReceiptVerifier,
  ServiceMarketplace,
  AITBCTimelock,
  WorkflowLedger,
  WorkflowVerifier,
  Workflows,
} from "../../typechain-types/index.js";

export interface Protocol {
  token: AIToken;
  registry: AgentRegistry;
  identity: AgentIdentity;
  reputation: AgentReputation;
  constitution: AgentConstitution;
  humanOverride: HumanOverride;
  marketplace: ServiceMarketplace;
  workflows: Workflows;
  ledger: WorkflowLedger;
  validation: AgentValidation;
  receiptMinter: ReceiptMinter;
  receiptVerifier: ReceiptVerifier;
  workflowVerifier: WorkflowVerifier;
  inferenceVerifier: InferenceVerifier;
  agentVotes: AgentVotes;
  timelock: AITBCTimelock;
  governor: AITBCGovernor;
}

export type { Addresses };

export async function loadProtocol(ethers: HardhatEthers, signer?: Signer, networkName?: string): Promise<Protocol> {
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const on = `chain ${chainId}${networkName === undefined ? "" : ` (--network ${networkName})`}`;
  let addresses: Addresses;
  try {
    addresses = readAddresses(chainId);
  } catch (error) {
    throw new Error(`${(error as Error).message}${networkHint(chainId)}`, { cause: error });
  }
  for (const [key, address] of Object.entries(addresses)) {
    if ((await ethers.provider.getCode(address)) === "0x") {
      const source = process.env.AITBC_ADDRESSES
        ? `AITBC_ADDRESSES (${process.env.AITBC_ADDRESSES})`
        : "the deployment";
      throw new Error(
        `no ${key} contract at ${address} on ${on}: ${source} is not for this chain, or the chain was restarted ` +
          "since the deployment (a local node forgets it: deploy again), or --network names the wrong chain",
      );
    }
  }
  return protocolAt(ethers, addresses, signer);
}

/** Which chains have a deployment recorded, for a message about the wrong network. */
function networkHint(chainId: bigint): string {
  const chains = existsSync(DEPLOYMENTS_DIR)
    ? readdirSync(DEPLOYMENTS_DIR)
        .filter((d) => /^chain-\d+$/.test(d) && existsSync(path.join(DEPLOYMENTS_DIR, d, "deployed_addresses.json")))
        .map((d) => d.slice("chain-".length))
        .filter((c) => c !== String(chainId))
    : [];
  return chains.length === 0
    ? ""
    : ` Deployments are recorded for chain ${chains.join(", ")}: is --network the one you meant?`;
}

/** Typed contracts of the protocol at `addresses` (anything with a getAddress(), e.g. Ignition's results). */
export async function protocolAt(
  ethers: HardhatEthers,
  addresses: Record<keyof Protocol, string | { getAddress(): Promise<string> }>,
  signer?: Signer,
): Promise<Protocol> {
  const at = async (a: string | { getAddress(): Promise<string> }) => (typeof a === "string" ? a : a.getAddress());
  return {
    token: await ethers.getContractAt("AIToken", await at(addresses.token), signer),
    registry: await ethers.getContractAt("AgentRegistry", await at(addresses.registry), signer),
    identity: await ethers.getContractAt("AgentIdentity", await at(addresses.identity), signer),
    reputation: await ethers.getContractAt("AgentReputation", await at(addresses.reputation), signer),
    constitution: await ethers.getContractAt("AgentConstitution", await at(addresses.constitution), signer),
    humanOverride: await ethers.getContractAt("HumanOverride", await at(addresses.humanOverride), signer),
    marketplace: await ethers.getContractAt("ServiceMarketplace", await at(addresses.marketplace), signer),
    workflows: await ethers.getContractAt("Workflows", await at(addresses.workflows), signer),
    ledger: await ethers.getContractAt("WorkflowLedger", await at(addresses.ledger), signer),
    validation: await ethers.getContractAt("AgentValidation", await at(addresses.validation), signer),
    receiptMinter: await ethers.getContractAt("ReceiptMinter", await at(addresses.receiptMinter), signer),
    receiptVerifier: await ethers.getContractAt("ReceiptVerifier", await at(addresses.receiptVerifier), signer),
    workflowVerifier: await ethers.getContractAt("WorkflowVerifier", await at(addresses.workflowVerifier), signer),
    inferenceVerifier: await ethers.getContractAt("InferenceVerifier", await at(addresses.inferenceVerifier), signer),
    agentVotes: await ethers.getContractAt("AgentVotes", await at(addresses.agentVotes), signer),
    timelock: await ethers.getContractAt("AITBCTimelock", await at(addresses.timelock), signer),
    governor: await ethers.getContractAt("AITBCGovernor", await at(addresses.governor), signer),
  };
}

/** Writes an addresses file in Ignition's format (for AITBC_ADDRESSES). */
export async function writeAddresses(file: string, protocol: Protocol): Promise<void> {
  const entries = await Promise.all(
    (Object.keys(FUTURE_IDS) as ContractKey[]).map(async (k) => [k, await protocol[k].getAddress()] as const),
  );
  writeFileSync(file, addressesJson(Object.fromEntries(entries) as Record<ContractKey, string>));
}

/** The account a task acts as: one of the connection's accounts, or a keystore's key. */
export type TaskSigner = Signer & { readonly address: string };

/**
 * The signer a task acts as: `--from` is an account index ("0"), an address among the connection's accounts, or
 * the name of one of the network's keystores (`npx hardhat key new / import`; its password from
 * AITBC_KEYSTORE_PASSWORD); empty means the first account. On a chain other than a local one, a plain key from the
 * environment (AITBC_PRIVATE_KEY) is refused: such a chain takes keys from keystores only.
 */
export async function resolveSigner(
  ethers: HardhatEthers,
  from: string,
  network: { name: string; env: NodeJS.ProcessEnv } = { name: "default", env: process.env },
): Promise<TaskSigner> {
  const value = from.trim();
  if (value !== "" && !/^\d+$/.test(value) && !isAddress(value)) {
    const file = keystoreFile(network.env, network.name, value);
    if (!existsSync(file))
      throw new ArgumentError(
        "from",
        `"${from.trim()}" is not an account index, an address or a keystore of ${network.name} (npx hardhat key list)`,
      );
    const password = readPassword(network.env, undefined, "--from");
    const { privateKey } = await decryptKeystoreFile(file, password, "--from");
    return new Wallet(privateKey, ethers.provider);
  }
  const chainId = Number((await ethers.provider.getNetwork()).chainId);
  if (network.env.AITBC_PRIVATE_KEY !== undefined && !LOCAL_CHAIN_IDS.has(chainId))
    throw new ArgumentError(
      "from",
      `a plain key (AITBC_PRIVATE_KEY) is accepted on a local chain only (this is chain ${chainId}); ` +
        `put it in a keystore (npx hardhat key import --name <name> --network ${network.name}) and pass --from <name>`,
    );
  const signers = await ethers.getSigners();
  if (value === "") {
    const first = signers[0];
    if (!first) throw new Error("the network has no accounts: configure `accounts` for it, or pass --from <keystore>");
    return first;
  }
  if (/^\d+$/.test(value)) {
    const signer = signers[Number(value)];
    if (!signer) throw new Error(`--from: account index ${value} out of range (${signers.length} accounts)`);
    return signer;
  }
  const signer = signers.find((s) => s.address.toLowerCase() === value.toLowerCase());
  if (!signer) throw new Error(`--from: ${value} is not one of this network's accounts`);
  return signer;
}

/** An account a task reads or pays: an address, or the index of one of the connection's accounts. */
export async function resolveAccount(ethers: HardhatEthers, flag: string, value: string): Promise<string> {
  const v = required(flag, value);
  if (!/^\d+$/.test(v)) return parseAddress(flag, v);
  const signers = await ethers.getSigners();
  const signer = signers[Number(v)];
  if (!signer) throw new ArgumentError(flag, `account index ${v} out of range (${signers.length} accounts)`);
  return signer.address;
}

/**
 * Turns a contract revert into "ErrorName(arg=value, ...)" using the core's ABIs, values in AITBC, dates and names
 * (scripts/lib/revert.ts); other errors pass through.
 */
export function describeError(error: unknown, protocol: Protocol): string {
  const data = findRevertData(error);
  if (data !== undefined) {
    const interfaces: Interface[] = [
      protocol.token.interface,
      protocol.registry.interface,
      protocol.identity.interface,
      protocol.reputation.interface,
      protocol.constitution.interface,
      protocol.humanOverride.interface,
      protocol.marketplace.interface,
      protocol.workflows.interface,
      protocol.validation.interface,
      protocol.receiptMinter.interface,
      protocol.agentVotes.interface,
      protocol.governor.interface,
      protocol.timelock.interface,
    ];
    for (const iface of interfaces) {
      const parsed = iface.parseError(data);
      if (parsed) {
        return formatRevert(parsed);
      }
    }
    return `reverted with unknown data ${data}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function findRevertData(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const record = current as { data?: unknown; error?: unknown; info?: unknown };
    if (typeof record.data === "string" && record.data.startsWith("0x") && record.data.length >= 10) return record.data;
    current = record.error ?? (record.info as { error?: unknown } | undefined)?.error;
  }
  return undefined;
}
