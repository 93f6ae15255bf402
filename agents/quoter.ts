/**
 * The market maker's offer management: keeps each of the agent's standing offers on chain at its current quote
 * (strategies/market-maker.ts) as load and inventory move, and reports its spread and fill rate.
 *
 * Each pass (`tick`), per service, from the chain's state of the offer (price, capacity, load, listed):
 * - delists it while the circuit breakers are open (it would only collect work it is not allowed to bid on);
 * - lists it again when they close;
 * - updates its price when the quote moved by more than `requoteBps` from the listed price.
 * Every change goes through the safety layer (action type LIST_SERVICE, charged to the constitution on chain) and
 * the shared transaction sender under a key naming it. Note that relisting voids the bids placed under the earlier
 * listing (the marketplace's rule): the agent delists only while it would not bid anyway.
 *
 * The report (`marketMakerReport`) is read from memory: quotes are the bids with their quote; a bid is filled when
 * it was awarded (won, submitted, or an experience of settled, slashed or refunded work), unfilled when lost.
 */
import type { Hex } from "viem";

import type { Logger } from "../keepers/common/log.js";
import { TxRevertedError } from "../keepers/common/txs.js";
import type { Json } from "../protocol/values.js";
import type { ProviderCatalog } from "../keepers/common/catalog.js";
import type { SafetyLayer } from "./guard.js";
import type { Marketplace } from "./marketplace.js";
import type { AgentMemory } from "./memory.js";
import type { MarketMakerStrategy } from "./strategies/market-maker.js";

/** ActionTypes.LIST_SERVICE. */
export const LIST_SERVICE = 3;
const GAS_OFFER = 150_000n;

export interface QuotedService {
  name: string;
  serviceId: Hex;
  model: Hex;
  listedPrice: bigint;
  costPerUnit: bigint;
}

// A type, not an interface: it goes out as JSON (server.ts).
export type ServiceReport = {
  service: string;
  quotes: number;
  filled: number;
  unfilled: number;
  /** filled / (filled + unfilled); null before any bid was decided. */
  fillRate: number | null;
  /** Mean spread of its quotes over the mid, basis points; null before any quote. */
  meanSpreadBps: number | null;
};

export class Quoter {
  readonly #logger: Logger;
  #passing: Promise<void> | undefined;

  constructor(
    private readonly o: {
      strategy: MarketMakerStrategy;
      services: readonly QuotedService[];
      market: Marketplace;
      catalog: ProviderCatalog;
      memory: AgentMemory;
      guard: SafetyLayer;
      agentId: () => bigint;
      /** Requote when the quote is this far from the listed price (basis points). */
      requoteBps: number;
      logger: Logger;
    },
  ) {
    this.#logger = o.logger.child({ module: "quoter" });
    if (!Number.isInteger(o.requoteBps) || o.requoteBps < 0)
      throw new RangeError(`strategy.requoteBps: must be an integer ≥ 0 (got ${o.requoteBps})`);
  }

  /** One pass over the offers; one at a time. */
  tick(): Promise<void> {
    this.#passing ??= this.#pass().finally(() => {
      this.#passing = undefined;
    });
    return this.#passing;
  }

  async #pass(): Promise<void> {
    for (const service of this.o.services) {
      try {
        await this.#keep(service);
      } catch (error) {
        if (!(error instanceof TxRevertedError)) throw error;
        this.#logger.warn({ event: "offer-reverted", service: service.name, error: error.errorName }, error.message);
      }
    }
  }

  async #keep(service: QuotedService): Promise<void> {
    const { market, memory, strategy, guard } = this.o;
    const [offer, listed] = await Promise.all([market.offer(service.serviceId), market.listed(service.serviceId)]);
    const trip = guard.breakers.check();
    if (trip !== undefined) {
      if (listed) await this.#change(service, "delist", offer, `breaker ${trip.breaker} open: ${trip.message}`);
      return;
    }
    const q = strategy.quote({
      listedPrice: service.listedPrice,
      costPerUnit: service.costPerUnit,
      competitorPrices: this.o.catalog
        .offers()
        .filter((o) => o.agentId !== this.o.agentId() && o.model.toLowerCase() === service.model.toLowerCase())
        .map((o) => o.price),
      capacity: offer.maxCapacity,
      load: offer.currentLoad,
      pending: memory.committedUnits(service.name),
    });
    const next = { ...offer, pricePerUnit: q.pricePerUnit };
    const why = `quote ${q.pricePerUnit}: mid ${q.mid} + ${q.spreadBps} bps at ${Math.round(q.utilization * 100)} % utilization`;
    if (!listed) {
      await this.#change(service, "list", next, `breakers closed; listing again at ${why}`);
      return;
    }
    const moved =
      q.pricePerUnit > offer.pricePerUnit ? q.pricePerUnit - offer.pricePerUnit : offer.pricePerUnit - q.pricePerUnit;
    if (moved * 10_000n > BigInt(this.o.requoteBps) * offer.pricePerUnit)
      await this.#change(service, "update", next, `${why} (listed ${offer.pricePerUnit})`);
  }

  async #change(
    service: QuotedService,
    kind: "list" | "update" | "delist",
    offer: Awaited<ReturnType<Marketplace["offer"]>>,
    reason: string,
  ): Promise<void> {
    const label = `offer-${kind}:${service.name}`;
    const verdict = await this.o.guard.check(
      { actionType: LIST_SERVICE, value: 0n, gasEstimate: GAS_OFFER, label },
      { bidding: false },
    );
    if (!verdict.allowed) {
      this.#logger.warn(
        { event: "offer-refused", service: service.name, kind, reason: verdict.reason },
        verdict.message,
      );
      return;
    }
    // A new key per change: the chain's state is read again before each, so a change re-sent after a crash is
    // decided afresh, and updating to the same price twice is harmless.
    const key = `offer:${service.name}:${kind}:${offer.pricePerUnit}:${Date.now()}`;
    const outcome = await this.o.market.changeOffer(
      key,
      kind === "delist" ? { kind, serviceId: service.serviceId } : { kind, offer },
    );
    if (outcome.fresh) this.o.guard.record({ actionType: LIST_SERVICE, value: 0n, gasEstimate: GAS_OFFER, label });
    this.#logger.info(
      { event: `offer-${kind}`, service: service.name, price: offer.pricePerUnit, reason, tx: outcome.hash },
      `offer ${service.name}: ${kind} (${reason})`,
    );
  }

  report(): ServiceReport[] {
    return marketMakerReport(
      this.o.memory,
      this.o.services.map((s) => s.name),
    );
  }
}

/** Spread and fill rate per service, from the agent's memory (its bids and the chain's outcomes of them). */
export function marketMakerReport(memory: AgentMemory, services: readonly string[]): ServiceReport[] {
  const bids = memory.bidsIn("sent", "won", "lost", "submitted", "closed");
  return services.map((service) => {
    let quotes = 0;
    let filled = 0;
    let unfilled = 0;
    let spreadSum = 0;
    for (const bid of bids) {
      if (bid.service !== service) continue;
      const spread = (bid.decision as { spreadBps?: Json } | null)?.spreadBps;
      if (typeof spread === "number") {
        quotes += 1;
        spreadSum += spread;
      }
      if (bid.state === "won" || bid.state === "submitted") filled += 1;
      else if (bid.state === "lost") unfilled += 1;
      else if (bid.state === "closed") {
        const [ended] = memory.experiences({ workloadId: bid.workloadId, limit: 1 });
        if (ended !== undefined && ended.kind !== "lost") filled += 1;
      }
    }
    const decided = filled + unfilled;
    return {
      service,
      quotes,
      filled,
      unfilled,
      fillRate: decided === 0 ? null : filled / decided,
      meanSpreadBps: quotes === 0 ? null : Math.round(spreadSum / quotes),
    };
  });
}
