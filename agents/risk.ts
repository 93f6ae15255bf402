/**
 * The risk manager (the seed's risk-manager agent, here an advisor inside the agent it protects): it scores
 * counterparties from what the chain says they did, and sets the exposure limits the agent bids within.
 *
 * - Clients: workloads posted, results they received, results they rejected (ResultRejected), and disputes the
 *   provider then won (DisputeResolved for the provider: the client rejected good work). Dispute rate = rejections
 *   / (results received + 1): one pseudo-result of good faith, so a new client is not judged on one rejection.
 * - Providers: awards, failures (AssignmentFailed, with what was slashed) and disputes they lost; failure rate =
 *   (failures + disputes lost) / (awards + 1). Read by `provider()` (for an agent that awards or subcontracts).
 * - Exposure: the units and the value (units × the client's ceiling) the agent has outstanding with one client
 *   (bids open, work awarded and not yet settled, from its memory). The limits scale down with the client's
 *   dispute rate, and the value limit never exceeds the agent's constitution (its maxDailyVolume, read from the
 *   chain each time): the risk manager tightens what the humans allow, never widens it.
 *
 * Only chain logs come in (`observe`, fed by the agent's follower, and `backfill`, which reads the marketplace's
 * history with eth_getLogs); each log is counted once (by transaction hash and log index), so the follower
 * re-delivering a log, or the backfill overlapping it, changes nothing. Nothing a counterparty says is read.
 */
import type { Hex, PublicClient } from "viem";

import { constitutionAbi, marketplaceAbi } from "../protocol/abi.js";
import type { AgentMemory } from "./memory.js";
import type { WorkloadView } from "./strategy.js";

export interface RiskLimits {
  /** Most rejections per result a client may have (0..1); above it its work is declined. */
  maxClientDisputeRate: number;
  /** Most units outstanding with one client (a clean client's; scaled down by its dispute rate). */
  maxUnitsPerClient: bigint;
  /** Most value outstanding with one client (wei); capped by the constitution's maxDailyVolume. */
  maxValuePerClient: bigint;
}

export interface ClientRecord {
  workloads: number;
  results: number;
  disputes: number;
  /** Disputes resolved for the provider: the client rejected a good result. */
  disputesLost: number;
}

export interface ProviderRecord {
  awards: number;
  failures: number;
  slashed: bigint;
  disputesLost: number;
}

export type Assessment =
  | { ok: true; maxUnits: bigint; maxValue: bigint; disputeRate: number }
  | { ok: false; reason: string; disputeRate: number };

/** The events the risk manager reads (all from the ServiceMarketplace). */
export const RISK_EVENTS = [
  "WorkloadPosted",
  "WorkloadAwarded",
  "ResultSubmitted",
  "ResultRejected",
  "DisputeResolved",
  "AssignmentFailed",
] as const;

type Args = Record<string, unknown>;

/** A decoded marketplace log, as the follower (keepers/common/follower.ts) and eth_getLogs give it. */
export interface ChainLog {
  eventName: string;
  args: unknown;
  transactionHash: Hex;
  logIndex: number;
}

export class RiskManager {
  readonly #clients = new Map<string, ClientRecord>();
  readonly #providers = new Map<bigint, ProviderRecord>();
  /** workloadId -> client, from WorkloadPosted. */
  readonly #clientOf = new Map<bigint, string>();
  /** workloadId -> the provider awarded last (a dispute lost is charged to it). */
  readonly #providerOf = new Map<bigint, bigint>();
  readonly #seen = new Set<string>();

  constructor(
    private readonly options: {
      client: PublicClient;
      marketplace: Hex;
      constitution: Hex;
      /** The agent advised (whose constitution bounds the limits). */
      agent: Hex;
      memory: AgentMemory;
      limits: RiskLimits;
    },
  ) {
    const { maxClientDisputeRate, maxUnitsPerClient, maxValuePerClient } = options.limits;
    if (!(maxClientDisputeRate >= 0 && maxClientDisputeRate <= 1))
      throw new RangeError(`risk.maxClientDisputeRate: must be in [0, 1] (got ${maxClientDisputeRate})`);
    if (maxUnitsPerClient < 1n) throw new RangeError(`risk.maxUnitsPerClient: must be at least 1`);
    if (maxValuePerClient < 1n) throw new RangeError(`risk.maxValuePerClient: must be above 0`);
  }

  /** Reads the marketplace's history from `fromBlock` to the head (eth_getLogs), then follows `observe`. */
  async backfill(fromBlock: bigint, toBlock?: bigint): Promise<number> {
    const logs = await this.options.client.getContractEvents({
      address: this.options.marketplace,
      abi: marketplaceAbi,
      fromBlock,
      ...(toBlock === undefined ? {} : { toBlock }),
    });
    const relevant = logs.filter((l) => (RISK_EVENTS as readonly string[]).includes(l.eventName));
    this.observe(
      relevant.map((l) => ({
        eventName: l.eventName,
        args: l.args as Args,
        transactionHash: l.transactionHash,
        logIndex: l.logIndex,
      })),
    );
    return relevant.length;
  }

  /** Counts chain logs (each once). */
  observe(logs: readonly ChainLog[]): void {
    for (const log of logs) {
      const key = `${log.transactionHash}:${log.logIndex}`;
      if (this.#seen.has(key)) continue;
      this.#seen.add(key);
      const args = log.args as Args;
      const workloadId = args.workloadId as bigint | undefined;
      if (workloadId === undefined) continue;
      switch (log.eventName) {
        case "WorkloadPosted": {
          const client = String(args.client).toLowerCase();
          this.#clientOf.set(workloadId, client);
          this.#client(client).workloads += 1;
          break;
        }
        case "WorkloadAwarded": {
          const providerId = args.providerId as bigint;
          this.#providerOf.set(workloadId, providerId);
          this.#provider(providerId).awards += 1;
          break;
        }
        case "ResultSubmitted":
          this.#clientRecordOf(workloadId, (r) => (r.results += 1));
          break;
        case "ResultRejected":
          this.#clientRecordOf(workloadId, (r) => (r.disputes += 1));
          break;
        case "DisputeResolved":
          if (args.providerWins === true) this.#clientRecordOf(workloadId, (r) => (r.disputesLost += 1));
          else {
            const providerId = this.#providerOf.get(workloadId);
            if (providerId !== undefined) this.#provider(providerId).disputesLost += 1;
          }
          break;
        case "AssignmentFailed": {
          const p = this.#provider(args.providerId as bigint);
          p.failures += 1;
          p.slashed += args.slashed as bigint;
          break;
        }
        default:
          break;
      }
    }
  }

  /** What the chain says of a client (zeros for one never seen). */
  client(address: string): ClientRecord {
    return { ...(this.#clients.get(address.toLowerCase()) ?? emptyClient()) };
  }

  /** What the chain says of a provider agent. */
  provider(agentId: bigint): ProviderRecord & { failureRate: number } {
    const p = this.#providers.get(agentId) ?? emptyProvider();
    return { ...p, failureRate: (p.failures + p.disputesLost) / (p.awards + 1) };
  }

  /** Rejections per result received, with one pseudo-result of good faith. */
  disputeRate(address: string): number {
    const c = this.client(address);
    return c.disputes / (c.results + 1);
  }

  /**
   * Whether to take `workload` (for `units` at up to its ceiling), and the limits for its client: declined when the
   * client's dispute rate passes the limit, or when the work would take the agent's exposure to the client past
   * the limits (scaled by the rate, the value limit capped by the constitution).
   */
  async assess(workload: WorkloadView): Promise<Assessment> {
    const { limits } = this.options;
    const client = workload.client.toLowerCase();
    const rate = this.disputeRate(client);
    const record = this.client(client);
    if (rate > limits.maxClientDisputeRate)
      return {
        ok: false,
        disputeRate: rate,
        reason: `client ${workload.client} rejected ${record.disputes} of ${record.results} results (dispute rate ${rate.toFixed(2)} > ${limits.maxClientDisputeRate})`,
      };
    // A clean client gets the full limits; one at the limit rate a quarter of them.
    const scale = limits.maxClientDisputeRate === 0 ? 1 : 1 - (0.75 * rate) / limits.maxClientDisputeRate;
    const permille = BigInt(Math.floor(scale * 1000));
    const maxUnits = (limits.maxUnitsPerClient * permille) / 1000n;
    const constitutionVolume = await this.#constitutionVolume();
    const cap = limits.maxValuePerClient < constitutionVolume ? limits.maxValuePerClient : constitutionVolume;
    const maxValue = (cap * permille) / 1000n;
    const open = this.outstanding(client);
    const units = open.units + workload.units;
    const value = open.value + workload.units * workload.maxPricePerUnit;
    if (units > maxUnits)
      return {
        ok: false,
        disputeRate: rate,
        reason: `exposure to client ${workload.client}: ${units} units outstanding would pass its limit ${maxUnits}`,
      };
    if (value > maxValue)
      return {
        ok: false,
        disputeRate: rate,
        reason: `exposure to client ${workload.client}: ${value} wei outstanding would pass its limit ${maxValue} (constitution's daily volume ${constitutionVolume})`,
      };
    return { ok: true, maxUnits, maxValue, disputeRate: rate };
  }

  /** Units and value (units × ceiling) of the agent's open bids and unsettled work for `client` (from memory). */
  outstanding(client: string): { units: bigint; value: bigint } {
    let units = 0n;
    let value = 0n;
    for (const bid of this.options.memory.bidsIn("sent", "won", "submitted")) {
      const context = bid.context as { client?: string; maxPricePerUnit?: string } | null;
      if (context?.client?.toLowerCase() !== client.toLowerCase()) continue;
      units += bid.units;
      value += bid.units * BigInt(context.maxPricePerUnit ?? "0");
    }
    return { units, value };
  }

  async #constitutionVolume(): Promise<bigint> {
    const c = await this.options.client.readContract({
      address: this.options.constitution,
      abi: constitutionAbi,
      functionName: "constraintsOf",
      args: [this.options.agent],
    });
    return c.maxDailyVolume;
  }

  #client(address: string): ClientRecord {
    let r = this.#clients.get(address);
    if (r === undefined) this.#clients.set(address, (r = emptyClient()));
    return r;
  }

  #clientRecordOf(workloadId: bigint, update: (r: ClientRecord) => void): void {
    const client = this.#clientOf.get(workloadId);
    if (client !== undefined) update(this.#client(client));
  }

  #provider(agentId: bigint): ProviderRecord {
    let r = this.#providers.get(agentId);
    if (r === undefined) this.#providers.set(agentId, (r = emptyProvider()));
    return r;
  }
}

const emptyClient = (): ClientRecord => ({ workloads: 0, results: 0, disputes: 0, disputesLost: 0 });
const emptyProvider = (): ProviderRecord => ({ awards: 0, failures: 0, slashed: 0n, disputesLost: 0 });
