/**
 * The rule-based provider: bids one fixed price per unit on every workload it can take, when the client's ceiling
 * allows it and the price covers its cost. It never learns; it is the baseline the learning strategy is measured
 * against (scripts/bench/agents.ts).
 */
import type { Action, MarketState, OwnState, Strategy } from "../strategy.js";

export class FixedPriceStrategy implements Strategy {
  readonly name = "fixed-price";

  /** `pricePerUnit` in wei; undefined: the service's listed price. */
  constructor(private readonly pricePerUnit?: bigint) {}

  decide(market: MarketState, own: OwnState): Action {
    const { workload, service } = market;
    const price = this.pricePerUnit ?? service.listedPrice;
    if (own.freeUnits < workload.units)
      return { kind: "skip", reason: `capacity: ${own.freeUnits} free units < ${workload.units}` };
    if (price > workload.maxPricePerUnit)
      return { kind: "skip", reason: `price ${price} above the client's ceiling ${workload.maxPricePerUnit}` };
    if (price <= service.costPerUnit)
      return { kind: "skip", reason: `price ${price} does not cover the cost ${service.costPerUnit}` };
    return { kind: "bid", pricePerUnit: price, reason: `fixed price ${price} per unit` };
  }
}
