/**
 * The decision engine's extension point: a Strategy looks at the market (the workload on offer, the other
 * providers' listed offers, the protocol fee) and at the agent itself (free capacity, reputation, what it
 * remembers), and answers one action with the reason for it. The runtime (runtime.ts) puts every action through
 * the safety layer (guard.ts) before it is taken, so a strategy never needs to know the limits to stay within them.
 *
 * A strategy that learns gets `learn(outcome)` for each of its bids once the chain has decided it (won and settled,
 * won and failed, or lost), and hands the runtime its learned state (`state()`), which the runtime stores in the
 * agent's SQLite store and gives back at start (`restore`): learning survives restarts and crashes.
 *
 * Amounts are wei (bigint), as on chain.
 */
import type { Hex } from "viem";

import type { Json } from "../protocol/values.js";

/** A workload as the marketplace holds it, in the fields a pricing decision needs. */
export interface WorkloadView {
  workloadId: bigint;
  round: number;
  client: Hex;
  /** keccak256 of the service name asked for (0 when only the model is asked for). */
  serviceType: Hex;
  modelHash: Hex;
  units: bigint;
  /** The client's public ceiling; a bid above it reverts. */
  maxPricePerUnit: bigint;
  /** Unix seconds. */
  bidDeadline: bigint;
}

/** Another provider's listed offer for the same service type (from the chain's catalog). */
export interface CompetitorOffer {
  agentId: bigint;
  pricePerUnit: bigint;
  reputation: number;
}

export interface MarketState {
  workload: WorkloadView;
  /** The agent's own service that matches the workload. */
  service: { serviceId: Hex; name: string; listedPrice: bigint; costPerUnit: bigint };
  competitors: readonly CompetitorOffer[];
  /** The marketplace's fee on payments, in basis points. */
  feeBps: number;
}

export interface OwnState {
  agentId: bigint;
  reputation: number;
  /** Units the service can still take (its capacity minus load and minus units bid and not yet decided). */
  freeUnits: bigint;
  /** The offer's capacity and its load (units of awarded, unfinished work) on chain, when the runtime read them. */
  capacity?: bigint;
  load?: bigint;
}

/**
 * What the strategy wants done, with why (logged, stored in memory with the outcome). `decision` is the strategy's
 * own note about the choice (e.g. the arm a bandit pulled); it comes back in the outcome.
 */
export type Action =
  { kind: "bid"; pricePerUnit: bigint; reason: string; decision?: Json } | { kind: "skip"; reason: string };

/** What became of a bid, as the chain says (never as a counterparty says). */
export interface BidOutcome {
  workloadId: bigint;
  serviceName: string;
  units: bigint;
  pricePerUnit: bigint;
  /** Awarded to this agent. */
  won: boolean;
  /** What the bid earned: payment received − cost of the work − slashes (AITBC wei; 0 for a lost bid). */
  profit: bigint;
  decision: Json;
}

export interface Strategy {
  /** A name for logs and memory ("fixed-price", "thompson-price"). */
  readonly name: string;
  decide(market: MarketState, own: OwnState): Action;
  /** The chain decided one of this strategy's bids. */
  learn?(outcome: BidOutcome): void;
  /** Learned state to persist (JSON); undefined: nothing to persist. */
  state?(): Json;
  /** Gives back what `state()` returned before a restart. */
  restore?(state: Json): void;
}

/**
 * A strategy whose decision takes a round trip (a policy asking a model, agents/strategies/model-policy.ts): the
 * runtime awaits it; the controlled market (agents/sim/) and the simulation take synchronous strategies only.
 */
export interface AsyncStrategy extends Omit<Strategy, "decide"> {
  decide(market: MarketState, own: OwnState): Promise<Action>;
}

/** What the runtime runs. */
export type AgentStrategy = Strategy | AsyncStrategy;

/** 1 AITBC in wei. */
export const AITBC = 10n ** 18n;

/** wei -> AITBC as a float, for learning arithmetic (never for amounts sent on chain). */
export function toAitbc(wei: bigint): number {
  return Number(wei) / 1e18;
}

/** AITBC (float) -> wei, rounded to a micro-AITBC. */
export function fromAitbc(amount: number): bigint {
  return BigInt(Math.round(amount * 1e6)) * 10n ** 12n;
}
