/**
 * A controlled market, seeded: the marketplace's auction as ServiceMarketplace runs it, off chain and fast enough to
 * run thousands of workloads, to measure what a strategy earns against others (scripts/bench/agents.ts, the
 * learning test).
 *
 * - Clients post workloads one after another: units drawn from `units`, the public ceiling `maxPricePerUnit`, and a
 *   hidden willingness to pay per unit drawn from `willingnessToPay` (AITBC), which no provider sees.
 * - Each provider (an entrant: a name and a Strategy) is online for a workload with probability `participation`;
 *   online, its strategy decides as it would on chain (same MarketState / OwnState) and bids; a bid above the ceiling
 *   is refused, as the contract refuses it. Bids arrive in a random order (their placement time).
 * - The client awards as the contract's rule does among the bids it is willing to pay: the lowest
 *   price × (2000 − reputation), the earlier bid on a tie; with no bid within its willingness it cancels.
 * - Settlement as ServiceMarketplace._settle: the provider gets units × price less the protocol fee (`feeBps`) and
 *   earns one reputation point per 0.01 AITBC of fee, at most 10 (reputation starts at 500, at most 1000).
 * - Profit = payment received − units × `costPerUnit` (the same cost for everyone: the contest is about pricing).
 *
 * Every random draw comes from one seeded source in a fixed order, so a scenario and its seed are one run.
 */
import { keccak256, toHex, zeroHash } from "viem";

import { Random } from "../random.js";
import type { BidOutcome, MarketState, Strategy } from "../strategy.js";

export interface MarketScenario {
  seed: number;
  workloads: number;
  /** Units per workload, drawn uniformly in [min, max]. */
  units: readonly [number, number];
  /** The clients' public ceiling per unit (wei). */
  maxPricePerUnit: bigint;
  /** The clients' hidden willingness to pay per unit, uniform in [min, max] AITBC. */
  willingnessToPay: { min: number; max: number };
  /** Each provider's cost of a unit of work (wei). */
  costPerUnit: bigint;
  /** Chance that a provider is online for a workload. */
  participation: number;
  feeBps: number;
  serviceName: string;
}

export interface Entrant {
  name: string;
  strategy: Strategy;
}

export interface EntrantResult {
  profit: bigint;
  bids: number;
  wins: number;
  units: bigint;
}

export interface MarketResult {
  entrants: Record<string, EntrantResult>;
  awarded: number;
  cancelled: number;
}

const INITIAL_REPUTATION = 500;
const MAX_REPUTATION = 1000;
const REPUTATION_REWARD = 10;
const FEE_PER_REPUTATION_POINT = 10n ** 16n;

export function runMarket(scenario: MarketScenario, entrants: readonly Entrant[]): MarketResult {
  if (new Set(entrants.map((e) => e.name)).size !== entrants.length) throw new Error("runMarket: duplicate names");
  const random = new Random(scenario.seed);
  const state = entrants.map((entrant, i) => ({
    entrant,
    agentId: BigInt(i + 1),
    reputation: INITIAL_REPUTATION,
    result: { profit: 0n, bids: 0, wins: 0, units: 0n },
  }));
  let awarded = 0;
  let cancelled = 0;
  for (let n = 1; n <= scenario.workloads; n++) {
    const units = BigInt(random.int(scenario.units[0], scenario.units[1]));
    const willingness =
      BigInt(Math.round(random.uniform(scenario.willingnessToPay.min, scenario.willingnessToPay.max) * 1e6)) *
      10n ** 12n;
    const online = state.filter(() => random.next() < scenario.participation);
    const bids: { who: (typeof state)[number]; price: bigint; decision: BidOutcome["decision"] }[] = [];
    for (const who of random.shuffle(online)) {
      const market = marketStateOf(scenario, { workloadId: BigInt(n), units, provider: who.entrant.name });
      const action = who.entrant.strategy.decide(market, {
        agentId: who.agentId,
        reputation: who.reputation,
        freeUnits: units,
      });
      if (action.kind !== "bid" || action.pricePerUnit > scenario.maxPricePerUnit || action.pricePerUnit === 0n)
        continue;
      who.result.bids += 1;
      bids.push({ who, price: action.pricePerUnit, decision: action.decision ?? null });
    }
    let winner: (typeof bids)[number] | undefined;
    let best = 0n;
    for (const bid of bids) {
      if (bid.price > willingness) continue;
      const score = bid.price * BigInt(2000 - bid.who.reputation);
      if (winner === undefined || score < best) {
        winner = bid;
        best = score;
      }
    }
    if (winner === undefined) {
      if (bids.length > 0) cancelled += 1;
    } else {
      awarded += 1;
      const payment = units * winner.price;
      const fee = (payment * BigInt(scenario.feeBps)) / 10_000n;
      const profit = payment - fee - units * scenario.costPerUnit;
      const w = winner.who;
      w.result.wins += 1;
      w.result.units += units;
      w.result.profit += profit;
      const gain = Math.min(REPUTATION_REWARD, Number(fee / FEE_PER_REPUTATION_POINT));
      w.reputation = Math.min(MAX_REPUTATION, w.reputation + gain);
    }
    for (const bid of bids) {
      const won = bid === winner;
      bid.who.entrant.strategy.learn?.({
        workloadId: BigInt(n),
        serviceName: scenario.serviceName,
        units,
        pricePerUnit: bid.price,
        won,
        profit: won
          ? units * bid.price - (units * bid.price * BigInt(scenario.feeBps)) / 10_000n - units * scenario.costPerUnit
          : 0n,
        decision: bid.decision,
      });
    }
  }
  return {
    entrants: Object.fromEntries(state.map((s) => [s.entrant.name, s.result])),
    awarded,
    cancelled,
  };
}

/**
 * What a provider named `provider` sees of workload `workloadId` in `scenario` (the state its strategy decides on):
 * the one MarketState literal of the simulations, the bench and the tests.
 */
export function marketStateOf(
  scenario: Pick<MarketScenario, "maxPricePerUnit" | "costPerUnit" | "feeBps" | "serviceName">,
  options: { workloadId?: bigint; units?: bigint; provider?: string } = {},
): MarketState {
  const workloadId = options.workloadId ?? 1n;
  return {
    workload: {
      workloadId,
      round: 0,
      client: `0x${"cc".repeat(20)}`,
      serviceType: keccak256(toHex(scenario.serviceName)),
      modelHash: zeroHash,
      units: options.units ?? 2n,
      maxPricePerUnit: scenario.maxPricePerUnit,
      bidDeadline: workloadId * 600n,
    },
    service: {
      serviceId: keccak256(toHex(`${options.provider ?? "provider"}/${scenario.serviceName}`)),
      name: scenario.serviceName,
      listedPrice: scenario.maxPricePerUnit,
      costPerUnit: scenario.costPerUnit,
    },
    competitors: [],
    feeBps: scenario.feeBps,
  };
}
