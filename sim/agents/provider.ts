/**
 * A provider agent on the real contracts, deciding with the real runtime strategy (agents/strategies/, the same
 * Strategy the `aitbc agent` runtime runs): it registers and stakes, lists its services, and each day builds the
 * strategy's MarketState from the chain (the workload, the other listed offers and their reputations, the fee) and
 * OwnState (its reputation, free capacity), bids what the strategy answers, delivers awarded work with a signed
 * WorkResult, finalizes, mints its compute receipts, and teaches the strategy what the chain decided.
 *
 * Sybil, exit-dodging and reputation-farming attackers (attackers.ts) are providers too, with their own twist.
 */
import { id, Wallet } from "ethers";

import { signWorkResult } from "../../scripts/lib/eip712.js";
import type { BidOutcome, CompetitorOffer, Strategy } from "../../agents/strategy.js";
import type { Json } from "../../protocol/values.js";
import type { DayWorkload, World } from "../world.js";
import type { SimAgent, Role } from "../agent.js";

export interface ProviderOptions {
  name: string;
  group: string;
  role: Role;
  services: readonly string[];
  capacity: number;
  stake: bigint;
  dailyVolume: bigint;
  strategy: Strategy;
  reliability: number;
  stance: "for" | "against" | "abstain";
  /** The operator recorded at registration (defaults to the agent itself). */
  operator?: string;
}

interface OpenBid {
  service: string;
  units: bigint;
  pricePerUnit: bigint;
  decision: Json;
  delivered?: boolean;
}

export class ProviderAgent implements SimAgent {
  readonly kind: string = "provider";
  readonly name: string;
  readonly group: string;
  readonly role: Role;
  agentId = 0n;
  wallet!: Wallet;
  /** serviceId per service name. */
  readonly offers = new Map<string, string>();
  /** Bids waiting for the chain's decision, by workload id. */
  readonly bids = new Map<bigint, OpenBid>();
  /** Awarded work not yet delivered or failed, by workload id. */
  readonly work = new Map<bigint, OpenBid>();
  /** Compute spent so far (AITBC wei). */
  computeCost = 0n;
  /** Bids placed, and skipped with the strategy's reason (for the report). */
  bidCount = 0;
  /** Whether it bids today (attackers switch it). */
  bidding = true;
  /** Work it does not really run (a self-dealer's own workloads): submitted without a compute cost. */
  readonly shamWork = new Set<bigint>();

  constructor(readonly options: ProviderOptions) {
    this.name = options.name;
    this.group = options.group;
    this.role = options.role;
  }

  addresses(): string[] {
    return [this.wallet.address];
  }

  async setup(world: World): Promise<void> {
    this.wallet = await world.chain.wallet(this.name);
    // Each agent has its own operator (a human's address, never used to send): agents of different operators are
    // unrelated on chain.
    const operator = this.options.operator ?? new Wallet(id(`aitbc-sim operator ${this.name}`)).address;
    this.agentId = await world.registerProvider(
      this.wallet,
      this.name,
      this.options.stake,
      this.options.dailyVolume,
      operator,
    );
    for (const name of this.options.services) {
      const service = world.service(name);
      const serviceId = id(`aitbc-sim offer ${this.name} ${name}`);
      const offer = {
        serviceId,
        serviceName: name,
        // The listed price: what the strategy starts from (fixed-price without a price bids it).
        pricePerUnit: service.costPerUnit * 3n > 0n ? service.costPerUnit * 3n : 10n ** 18n,
        maxCapacity: BigInt(this.options.capacity),
        currentLoad: 0n,
        modelHash: service.model,
        minAccuracy: 0n,
      };
      const r = await world.chain.send(this.wallet.address, () =>
        world.p.marketplace.connect(this.wallet).listService(offer),
      );
      if (!r.ok) throw new Error(`${this.name}: listService: ${r.error}`);
      this.offers.set(name, serviceId);
    }
  }

  /** Bids on today's workloads its services match, as the strategy decides. */
  async bid(world: World, workloads: readonly DayWorkload[], competitors: CompetitorBook): Promise<void> {
    if (!this.bidding || world.offline.has(this.name)) return;
    const { marketplace } = world.p;
    // The day's snapshot of the chain (bids change no offer, reputation or fee until the awards).
    const { feeBps } = competitors;
    const reputation = competitors.reputationOf(this.agentId);
    for (const w of workloads) {
      const serviceId = this.offers.get(w.service);
      if (serviceId === undefined || this.bids.has(w.workloadId)) continue;
      const offer = competitors.offer(serviceId);
      const pending = [...this.bids.values()].filter((b) => b.service === w.service).reduce((s, b) => s + b.units, 0n);
      const free = offer.maxCapacity - offer.currentLoad - pending;
      const action = this.options.strategy.decide(
        {
          workload: {
            workloadId: w.workloadId,
            round: 0,
            client: w.client as `0x${string}`,
            serviceType: world.service(w.service).type as `0x${string}`,
            modelHash: world.service(w.service).model as `0x${string}`,
            units: w.units,
            maxPricePerUnit: w.maxPricePerUnit,
            bidDeadline: w.bidDeadline,
          },
          service: {
            serviceId: serviceId as `0x${string}`,
            name: w.service,
            listedPrice: offer.pricePerUnit,
            costPerUnit: world.costPerUnit(w.service),
          },
          competitors: competitors.of(w.service, this.agentId),
          feeBps,
        },
        {
          agentId: this.agentId,
          reputation,
          freeUnits: free > 0n ? free : 0n,
          // The market maker's utilization (awarded load and pending bids over capacity) reads these.
          capacity: offer.maxCapacity,
          load: offer.currentLoad,
        },
      );
      if (action.kind !== "bid" || action.pricePerUnit <= 0n || action.pricePerUnit > w.maxPricePerUnit) continue;
      const r = await world.chain.send(this.wallet.address, () =>
        marketplace
          .connect(this.wallet)
          .bid(w.workloadId, serviceId, action.pricePerUnit, id(`${this.name}:${w.workloadId}`)),
      );
      if (!r.ok) continue;
      this.bidCount += 1;
      this.bids.set(w.workloadId, {
        service: w.service,
        units: w.units,
        pricePerUnit: action.pricePerUnit,
        decision: action.decision ?? null,
      });
    }
  }

  /** The award decided its bid on `workloadId`: won moves it to work; lost teaches the strategy. */
  awarded(workloadId: bigint, winner: bigint): void {
    const bid = this.bids.get(workloadId);
    if (bid === undefined) return;
    this.bids.delete(workloadId);
    if (winner === this.agentId) this.work.set(workloadId, bid);
    else this.learn(workloadId, bid, false, 0n);
  }

  /** Nobody awarded (cancelled, or the award failed): the bid is lost. */
  unawarded(workloadId: bigint): void {
    const bid = this.bids.get(workloadId);
    if (bid === undefined) return;
    this.bids.delete(workloadId);
    this.learn(workloadId, bid, false, 0n);
  }

  /** Delivers its awarded work (unless offline or unreliable today): a signed result, its compute paid. */
  async deliver(world: World): Promise<void> {
    if (world.offline.has(this.name) || world.failing.has(this.name)) return;
    for (const [workloadId, bid] of this.work) {
      if (bid.delivered === true) continue;
      if (!this.willDeliver(world)) continue;
      const resultHash = id(`aitbc-sim result ${this.name} ${workloadId}`);
      const signature = await signWorkResult(this.wallet, world.p.marketplace, { workloadId, round: 0n, resultHash });
      const r = await world.chain.send(this.wallet.address, () =>
        world.p.marketplace.connect(this.wallet).submitResult(workloadId, resultHash, signature),
      );
      if (!r.ok) continue;
      if (!this.shamWork.has(workloadId)) this.computeCost += bid.units * world.costPerUnit(bid.service);
      bid.delivered = true;
    }
  }

  /** Whether it delivers a piece of awarded work (reliability; attackers override). */
  protected willDeliver(world: World): boolean {
    return this.options.reliability >= 1 || world.random.next() < this.options.reliability;
  }

  /** The chain settled (`paid` to it) or failed (slashed `slashed`) its work on `workloadId`. */
  settled(workloadId: bigint, paid: bigint, slashed: bigint, world: World): void {
    const bid = this.work.get(workloadId);
    if (bid === undefined) return;
    this.work.delete(workloadId);
    const cost = slashed > 0n || this.shamWork.has(workloadId) ? 0n : bid.units * world.costPerUnit(bid.service);
    this.learn(workloadId, bid, true, paid - cost - slashed);
  }

  protected learn(workloadId: bigint, bid: OpenBid, won: boolean, profit: bigint): void {
    const outcome: BidOutcome = {
      workloadId,
      serviceName: bid.service,
      units: bid.units,
      pricePerUnit: bid.pricePerUnit,
      won,
      profit,
      decision: bid.decision,
    };
    this.options.strategy.learn?.(outcome);
  }
}

/**
 * The chain's catalog as the bidding phase sees it, read once a day before the bids (after the day's posts and the
 * attackers' moves): the protocol fee, every provider's reputation and listed offers (price, capacity, load). Bids
 * change none of these (capacity is taken at the award), so one read a day serves every bid: the strategies'
 * competitor view and each provider's own offer and reputation.
 */
export class CompetitorBook {
  #byService = new Map<string, (CompetitorOffer & { agentId: bigint })[]>();
  #offers = new Map<string, { pricePerUnit: bigint; maxCapacity: bigint; currentLoad: bigint }>();
  #reputations = new Map<bigint, number>();
  feeBps = 0;

  async refresh(world: World, providers: readonly ProviderAgent[]): Promise<void> {
    this.#byService.clear();
    this.#offers.clear();
    this.#reputations.clear();
    this.feeBps = Number(await world.p.marketplace.protocolFeeBps());
    for (const p of providers) {
      const reputation = Number(await world.p.registry.reputationOf(p.agentId));
      this.#reputations.set(p.agentId, reputation);
      for (const [service, serviceId] of p.offers) {
        const offer = await world.p.marketplace.getServiceStatus(serviceId);
        this.#offers.set(serviceId, {
          pricePerUnit: offer.pricePerUnit,
          maxCapacity: offer.maxCapacity,
          currentLoad: offer.currentLoad,
        });
        const list = this.#byService.get(service) ?? [];
        list.push({ agentId: p.agentId, pricePerUnit: offer.pricePerUnit, reputation });
        this.#byService.set(service, list);
      }
    }
  }

  of(service: string, except: bigint): CompetitorOffer[] {
    return (this.#byService.get(service) ?? []).filter((o) => o.agentId !== except);
  }

  /** Listed offer `serviceId` as read at the refresh. */
  offer(serviceId: string): { pricePerUnit: bigint; maxCapacity: bigint; currentLoad: bigint } {
    const offer = this.#offers.get(serviceId);
    if (offer === undefined) throw new Error(`offer ${serviceId} is not in the day's book`);
    return offer;
  }

  reputationOf(agentId: bigint): number {
    const reputation = this.#reputations.get(agentId);
    if (reputation === undefined) throw new Error(`agent ${agentId} is not in the day's book`);
    return reputation;
  }
}
