/**
 * The market maker (the seed's market-maker agent): it keeps standing offers and capacity so that workloads get
 * bids, and quotes by load and inventory. Its quote is a spread over a reference price: the median of the other
 * providers' listed prices for the model (the market's mid), or its own listed price when it is alone. The spread
 * widens with utilization (awarded load, plus units bid and not yet decided weighted by `inventoryWeight`, over
 * capacity) from `minSpreadBps` when idle to `maxSpreadBps` when full, and never goes below the cost plus
 * `minSpreadBps`. A workload whose ceiling is under the quote but above that floor still gets a bid, at the
 * ceiling: making sure work gets a bid is the point of a market maker. The same quote, at the current load, is
 * the price of its standing offer on chain (agents/quoter.ts lists, updates and delists it).
 *
 * Each bid carries its quote (`decision`: mid, spread, utilization), from which the spread and the fill rate are
 * reported (quoter.ts `marketMakerReport`). It does not learn: it is rule-based, its inputs are the chain's.
 */
import type { Action, MarketState, OwnState, Strategy } from "../strategy.js";

export interface MarketMakerOptions {
  /** Spread over the reference price when idle, basis points. */
  minSpreadBps: number;
  /** Spread when the capacity is all taken, basis points (≥ minSpreadBps). */
  maxSpreadBps: number;
  /** How much units bid and not yet decided count next to awarded load (0..1). */
  inventoryWeight: number;
}

export interface QuoteInput {
  listedPrice: bigint;
  costPerUnit: bigint;
  competitorPrices: readonly bigint[];
  capacity: bigint;
  /** Awarded, unfinished units (the offer's currentLoad). */
  load: bigint;
  /** Units bid and not yet decided. */
  pending: bigint;
}

export interface Quote {
  pricePerUnit: bigint;
  mid: bigint;
  /** The floor: cost plus the minimum spread. */
  floor: bigint;
  spreadBps: number;
  utilization: number;
}

const BPS = 10_000n;

export class MarketMakerStrategy implements Strategy {
  readonly name = "market-maker";

  constructor(readonly options: MarketMakerOptions) {
    const { minSpreadBps, maxSpreadBps, inventoryWeight } = options;
    if (!Number.isInteger(minSpreadBps) || minSpreadBps < 0)
      throw new RangeError(`strategy.minSpreadBps: must be an integer ≥ 0 (got ${minSpreadBps})`);
    if (!Number.isInteger(maxSpreadBps) || maxSpreadBps < minSpreadBps)
      throw new RangeError(`strategy.maxSpreadBps: must be an integer ≥ minSpreadBps (got ${maxSpreadBps})`);
    if (!(inventoryWeight >= 0 && inventoryWeight <= 1))
      throw new RangeError(`strategy.inventoryWeight: must be in [0, 1] (got ${inventoryWeight})`);
  }

  /** The quote at a load: mid × (1 + spread(utilization)), at least cost × (1 + minSpread). */
  quote(input: QuoteInput): Quote {
    const { minSpreadBps, maxSpreadBps, inventoryWeight } = this.options;
    const mid = median(input.competitorPrices) ?? input.listedPrice;
    const used = Number(input.load) + inventoryWeight * Number(input.pending);
    const utilization = input.capacity > 0n ? Math.min(1, Math.max(0, used / Number(input.capacity))) : 1;
    const spreadBps = Math.round(minSpreadBps + (maxSpreadBps - minSpreadBps) * utilization);
    const floor = (input.costPerUnit * (BPS + BigInt(minSpreadBps))) / BPS + 1n;
    const quoted = (mid * (BPS + BigInt(spreadBps))) / BPS;
    return { pricePerUnit: quoted > floor ? quoted : floor, mid, floor, spreadBps, utilization };
  }

  decide(market: MarketState, own: OwnState): Action {
    const { workload, service } = market;
    if (own.freeUnits < workload.units)
      return { kind: "skip", reason: `capacity: ${own.freeUnits} free units < ${workload.units}` };
    const capacity = own.capacity ?? own.freeUnits;
    const load = own.load ?? 0n;
    const q = this.quote({
      listedPrice: service.listedPrice,
      costPerUnit: service.costPerUnit,
      competitorPrices: market.competitors.map((c) => c.pricePerUnit),
      capacity,
      load,
      pending: capacity - load - own.freeUnits,
    });
    const decision = { mid: String(q.mid), spreadBps: q.spreadBps, utilization: round3(q.utilization) };
    if (q.pricePerUnit <= workload.maxPricePerUnit)
      return {
        kind: "bid",
        pricePerUnit: q.pricePerUnit,
        reason: `quote ${q.pricePerUnit}: mid ${q.mid} + ${q.spreadBps} bps at ${pct(q.utilization)} utilization`,
        decision,
      };
    if (workload.maxPricePerUnit >= q.floor) {
      const spreadBps = q.mid > 0n ? Number(((workload.maxPricePerUnit - q.mid) * BPS) / q.mid) : 0;
      return {
        kind: "bid",
        pricePerUnit: workload.maxPricePerUnit,
        reason: `quote ${q.pricePerUnit} above the ceiling; bidding the ceiling ${workload.maxPricePerUnit} (floor ${q.floor})`,
        decision: { ...decision, spreadBps, capped: true },
      };
    }
    return { kind: "skip", reason: `the ceiling ${workload.maxPricePerUnit} is below the floor ${q.floor}` };
  }
}

function median(values: readonly bigint[]): bigint | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? 0n;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? hi) + hi) / 2n;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const pct = (x: number) => `${Math.round(x * 100)} %`;
