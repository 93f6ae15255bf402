import type { Log } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ArgumentError, parseAddress, parseInteger } from "../../lib/args.js";
import { date } from "../../lib/format.js";
import type { Protocol } from "../../lib/protocol.js";
import { formatEvent } from "../../lib/revert.js";
import { runTask } from "../context.js";

interface Args {
  agent: string;
  key: string;
  fromBlock: string;
  toBlock: string;
}

/** One action on chain: the key that signed its transaction, when, and what a protocol contract recorded. */
export interface AuditEntry {
  block: number;
  time: string;
  tx: string;
  /** The key that signed the transaction. */
  key: string;
  /** What that key is to the registry now: "agent #N", "retired key of agent #N", or "". */
  role: string;
  contract: string;
  event: string;
  /** The event with its arguments in the operator's terms ("Staked(agentId=1, amount=2000.0 AITBC, ...)"). */
  text: string;
  /** The event's agent ids (agentId, providerId, keeperId) and addresses, for the filters. */
  agentIds: bigint[];
  addresses: string[];
}

/** Blocks read when no --from-block is given: the latest ones, never the whole chain unasked. */
export const DEFAULT_WINDOW = 10_000n;
/** The most blocks one run reads; a longer history is read in several runs (--from-block / --to-block). */
export const MAX_RANGE = 100_000n;
/** Blocks per eth_getLogs request (RPC providers cap the range of one request). */
const PAGE = 2_000n;

/** The protocol's contracts, by the name the log shows. */
const CONTRACTS = [
  ["AIToken", "token"],
  ["AgentRegistry", "registry"],
  ["AgentConstitution", "constitution"],
  ["HumanOverride", "humanOverride"],
  ["ServiceMarketplace", "marketplace"],
  ["Workflows", "workflows"],
  ["WorkflowLedger", "ledger"],
  ["ReceiptMinter", "receiptMinter"],
  ["AgentVotes", "agentVotes"],
  ["AITBCGovernor", "governor"],
  ["AITBCTimelock", "timelock"],
] as const satisfies readonly (readonly [string, keyof Protocol])[];

const AGENT_ID_ARGS = new Set(["agentId", "providerId", "keeperId"]);

/**
 * The audit trail: every action on the protocol's contracts in a block range (each event, with the key that
 * signed its transaction, the block's time and the figures in AITBC, dates and names), oldest first. Filtered by
 * `--key` (the signing key) or `--agent` (id or any of its keys: the transactions its current and rotated keys
 * signed, and every event naming it). Reads `--from-block`..`--to-block` (default: the latest 10,000 blocks).
 */
export default async function auditLog(args: Args, hre: HardhatRuntimeEnvironment): Promise<AuditEntry[]> {
  return runTask(hre, "", async ({ ethers, protocol }) => {
    const { registry } = protocol;
    const latest = BigInt(await ethers.provider.getBlockNumber());
    const toBlock = args.toBlock === "" ? latest : parseInteger("toBlock", args.toBlock, { max: latest });
    const fromBlock =
      args.fromBlock === ""
        ? toBlock >= DEFAULT_WINDOW
          ? toBlock - DEFAULT_WINDOW + 1n
          : 0n
        : parseInteger("fromBlock", args.fromBlock, { max: toBlock });
    if (toBlock - fromBlock + 1n > MAX_RANGE)
      throw new ArgumentError(
        "from-block",
        `blocks ${fromBlock}..${toBlock} are more than ${MAX_RANGE} blocks: read them in several runs with --to-block`,
      );
    const key = args.key === "" ? undefined : parseAddress("key", args.key).toLowerCase();
    const agentId = args.agent === "" ? undefined : await resolveAgent(protocol, args.agent);

    // Every protocol log of the range, page by page.
    const byAddress = new Map<string, readonly [string, Protocol[keyof Protocol]]>();
    for (const [name, field] of CONTRACTS) {
      const contract = protocol[field];
      byAddress.set((await contract.getAddress()).toLowerCase(), [name, contract]);
    }
    const logs: Log[] = [];
    for (let start = fromBlock; start <= toBlock; start += PAGE) {
      const end = start + PAGE - 1n < toBlock ? start + PAGE - 1n : toBlock;
      logs.push(
        ...(await ethers.provider.getLogs({
          address: [...byAddress.keys()],
          fromBlock: Number(start),
          toBlock: Number(end),
        })),
      );
    }

    const senders = new Map<string, string>();
    const times = new Map<number, string>();
    const roles = new Map<string, string>();
    const entries: AuditEntry[] = [];
    for (const log of logs) {
      const found = byAddress.get(log.address.toLowerCase());
      if (!found) continue;
      const [contractName, contract] = found;
      const parsed = contract.interface.parseLog({ topics: [...log.topics], data: log.data });
      if (!parsed) continue;
      let sender = senders.get(log.transactionHash);
      if (sender === undefined) {
        const tx = await ethers.provider.getTransaction(log.transactionHash);
        sender = tx ? tx.from : "";
        senders.set(log.transactionHash, sender);
      }
      let time = times.get(log.blockNumber);
      if (time === undefined) {
        const block = await ethers.provider.getBlock(log.blockNumber);
        time = block ? date(block.timestamp) : "-";
        times.set(log.blockNumber, time);
      }
      let role = roles.get(sender);
      if (role === undefined) {
        role = sender === "" ? "" : await roleOf(protocol, sender);
        roles.set(sender, role);
      }
      const agentIds: bigint[] = [];
      const addresses: string[] = [];
      parsed.fragment.inputs.forEach((input, i) => {
        const value: unknown = parsed.args[i];
        if (AGENT_ID_ARGS.has(input.name) && typeof value === "bigint") agentIds.push(value);
        if (input.type === "address" && typeof value === "string") addresses.push(value.toLowerCase());
      });
      entries.push({
        block: log.blockNumber,
        time,
        tx: log.transactionHash,
        key: sender,
        role,
        contract: contractName,
        event: parsed.name,
        text: `${contractName}.${formatEvent(parsed)}`.replace(/0x[0-9a-fA-F]{40}/g, (a) => {
          const known = byAddress.get(a.toLowerCase());
          return known ? known[0] : a; // the protocol's own contracts by name
        }),
        agentIds,
        addresses,
      });
    }

    // The agent's keys: its current one, and those its rotations in the range name (a retired key acted before).
    const agentKeys = new Set<string>();
    if (agentId !== undefined) {
      agentKeys.add((await registry.agentAddress(agentId)).toLowerCase());
      for (const e of entries)
        if (e.event === "AgentKeyRotated" && e.agentIds.includes(agentId)) e.addresses.forEach((a) => agentKeys.add(a));
      agentKeys.delete((await registry.getAgent(agentId)).operator.toLowerCase());
    }
    const shown = entries.filter(
      (e) =>
        (key === undefined || e.key.toLowerCase() === key) &&
        (agentId === undefined ||
          agentKeys.has(e.key.toLowerCase()) ||
          e.agentIds.includes(agentId) ||
          e.addresses.some((a) => agentKeys.has(a))),
    );

    const filters = [
      key === undefined ? "" : ` signed by ${parseAddress("key", args.key)}`,
      agentId === undefined ? "" : ` of agent #${agentId}`,
    ].join("");
    console.log(
      [
        `audit log${filters}: blocks ${fromBlock}..${toBlock}, ${shown.length} action(s)`,
        ...shown.map((e) => `  #${e.block}  ${e.time}  ${e.key}${e.role ? ` (${e.role})` : ""}  ${e.text}`),
        fromBlock > 0n ? `  earlier: --to-block ${fromBlock - 1n}` : `  (from the chain's first block)`,
      ].join("\n"),
    );
    return shown;
  });
}

/** `--agent`: an agent id, or an address that is (or was, before a rotation) an agent's key. */
async function resolveAgent(protocol: Protocol, value: string): Promise<bigint> {
  if (/^\d+$/.test(value.trim())) {
    const agentId = parseInteger("agent", value, { min: 1n });
    await protocol.registry.getAgent(agentId); // an unknown id reverts with AgentRegistryUnknownAgent
    return agentId;
  }
  const address = parseAddress("agent", value);
  const agentId = await protocol.registry.agentIdOf(address);
  if (agentId !== 0n) return agentId;
  const retired = await protocol.registry.retiredAgentIdOf(address);
  if (retired !== 0n) return retired;
  throw new ArgumentError("agent", `${address} is no agent's key (now or before a rotation)`);
}

/** What `key` is to the registry now. */
async function roleOf(protocol: Protocol, key: string): Promise<string> {
  const agentId = await protocol.registry.agentIdOf(key);
  if (agentId !== 0n) return `agent #${agentId}`;
  const retired = await protocol.registry.retiredAgentIdOf(key);
  return retired !== 0n ? `retired key of agent #${retired}` : "";
}
