/**
 * The providers a keeper can dispatch to, read from the chain: service offers (ServiceMarketplace events, then
 * `getServiceStatus` for the live price, capacity and load), each provider agent's status, capabilities,
 * endpoint and reputation (AgentRegistry), and whether humans froze it (HumanOverride). Refreshed on a schedule
 * (the keeper's reputation job) and on demand (ServiceDelisted and the other provider events); a delisted offer (a
 * provider node that stopped) is no candidate; a provider whose answer did not check out is quarantined locally.
 */
import type { PublicClient, Hex } from "viem";

import type { Addresses } from "../../protocol/addresses.js";
import { humanOverrideAbi, marketplaceAbi, registryAbi } from "../../protocol/abi.js";
import type { Logger } from "./log.js";
import type { StepTypeName } from "../../protocol/enums.js";
import { capabilityOf } from "../../protocol/steps.js";

export interface ProviderOffer {
  serviceId: Hex;
  agentId: bigint;
  address: Hex;
  endpoint: string;
  reputation: number;
  capabilities: Hex[];
  model: Hex;
  price: bigint;
  capacity: bigint;
  load: bigint;
  /** The provider's published X25519 key (AgentRegistry.encryptionKeyOf): step inputs are sealed to it. */
  encryptionKey: Hex;
}

export class ProviderCatalog {
  #offers = new Map<Hex, ProviderOffer>();
  #serviceIds = new Map<Hex, bigint>();
  #scannedTo: bigint;
  readonly #quarantine = new Map<Hex, { until: number; reason: string }>();
  readonly #failures = new Map<Hex, number>();
  readonly #inFlight = new Map<Hex, number>();
  readonly #logger: Logger;

  constructor(
    private readonly client: PublicClient,
    private readonly addresses: Pick<Addresses, "marketplace" | "registry" | "humanOverride">,
    logger: Logger,
    fromBlock: bigint,
  ) {
    this.#logger = logger.child({ module: "catalog" });
    this.#scannedTo = fromBlock - 1n;
  }

  /** Re-reads every known offer and its provider; picks up offers listed since the last refresh. */
  async refresh(): Promise<void> {
    const head = await this.client.getBlockNumber();
    if (head > this.#scannedTo) {
      const logs = await this.client.getContractEvents({
        address: this.addresses.marketplace,
        abi: marketplaceAbi,
        eventName: "ServiceListed",
        fromBlock: this.#scannedTo + 1n,
        toBlock: head,
      });
      for (const log of logs) this.#serviceIds.set(log.args.serviceId as Hex, log.args.providerId as bigint);
      this.#scannedTo = head;
    }
    const offers = new Map<Hex, ProviderOffer>();
    for (const [serviceId, agentId] of this.#serviceIds) {
      const offer = await this.#read(serviceId, agentId);
      if (offer) offers.set(serviceId, offer);
    }
    const summary = (m: Map<Hex, ProviderOffer>) =>
      [...m.values()]
        .map((o) => `${o.serviceId}:${o.price}:${o.endpoint}`)
        .sort()
        .join();
    if (summary(offers) !== summary(this.#offers))
      this.#logger.info(
        {
          offers: [...offers.values()].map((o) => ({
            provider: o.address,
            endpoint: o.endpoint,
            model: o.model,
            price: o.price.toString(),
          })),
        },
        "catalog refreshed",
      );
    this.#offers = offers;
  }

  async #read(serviceId: Hex, agentId: bigint): Promise<ProviderOffer | undefined> {
    const [service, owner, agent, active, encryptionKey] = await Promise.all([
      this.client.readContract({
        address: this.addresses.marketplace,
        abi: marketplaceAbi,
        functionName: "getServiceStatus",
        args: [serviceId],
      }),
      // Whether the offer is listed: a provider node delists its offers when it stops (keepers/provider/node.ts).
      this.client.readContract({
        address: this.addresses.marketplace,
        abi: marketplaceAbi,
        functionName: "serviceOwner",
        args: [serviceId],
      }),
      this.client.readContract({
        address: this.addresses.registry,
        abi: registryAbi,
        functionName: "getAgent",
        args: [agentId],
      }),
      this.client.readContract({
        address: this.addresses.registry,
        abi: registryAbi,
        functionName: "isActive",
        args: [agentId],
      }),
      this.client.readContract({
        address: this.addresses.registry,
        abi: registryAbi,
        functionName: "encryptionKeyOf",
        args: [agentId],
      }),
    ]);
    if (!active || !owner[1] || service.serviceId === `0x${"0".repeat(64)}`) return undefined;
    // No published key: nothing can be sent to it in confidence, so it is no candidate.
    if (BigInt(encryptionKey) === 0n) return undefined;
    const frozen = await this.client.readContract({
      address: this.addresses.humanOverride,
      abi: humanOverrideAbi,
      functionName: "isFrozen",
      args: [agent.agent],
    });
    if (frozen || agent.endpoint === "") return undefined;
    return {
      serviceId,
      agentId,
      address: agent.agent,
      endpoint: agent.endpoint.replace(/\/+$/, ""),
      reputation: agent.reputation,
      capabilities: [...agent.capabilities],
      model: service.modelHash,
      price: service.pricePerUnit,
      capacity: service.maxCapacity,
      load: service.currentLoad,
      encryptionKey,
    };
  }

  /**
   * Offers able to run a step (capability and model match, provider active, not frozen, not quarantined),
   * best first: providers below their offer's capacity (counting this keeper's steps in flight), then lowest
   * price × (2000 − reputation) (the marketplace's award rule), then fewest steps in flight (spreads parallel
   * branches), then fewest local failures.
   */
  candidates(stepType: StepTypeName, model: Hex, exclude: ReadonlySet<Hex> = new Set()): ProviderOffer[] {
    const tag = capabilityOf(stepType);
    const now = Date.now();
    return [...this.#offers.values()]
      .filter((o) => o.model.toLowerCase() === model.toLowerCase() && o.capabilities.includes(tag))
      .filter((o) => !exclude.has(o.address) && (this.#quarantine.get(o.address)?.until ?? 0) <= now)
      .sort((a, b) => {
        const full = Number(this.#full(a)) - Number(this.#full(b));
        if (full !== 0) return full;
        const score = (o: ProviderOffer) => o.price * BigInt(2000 - o.reputation);
        const d = score(a) - score(b);
        if (d !== 0n) return d < 0n ? -1 : 1;
        const busy = (this.#inFlight.get(a.address) ?? 0) - (this.#inFlight.get(b.address) ?? 0);
        if (busy !== 0) return busy;
        return (this.#failures.get(a.address) ?? 0) - (this.#failures.get(b.address) ?? 0);
      });
  }

  /** All offers the catalog knows (for logs and the summary). */
  offers(): ProviderOffer[] {
    return [...this.#offers.values()];
  }

  /** This keeper already has as many steps in flight on the offer's provider as the offer's capacity. */
  #full(o: ProviderOffer): boolean {
    return o.capacity > 0n && BigInt(this.#inFlight.get(o.address) ?? 0) >= o.capacity;
  }

  /** A step is dispatched to `address` (until `release`). */
  acquire(address: Hex): void {
    this.#inFlight.set(address, (this.#inFlight.get(address) ?? 0) + 1);
  }

  release(address: Hex): void {
    this.#inFlight.set(address, Math.max(0, (this.#inFlight.get(address) ?? 0) - 1));
  }

  /** A provider that timed out or failed: tried last next time. */
  noteFailure(address: Hex): void {
    this.#failures.set(address, (this.#failures.get(address) ?? 0) + 1);
  }

  /** A provider whose answer did not check out is not used for `millis`. */
  quarantine(address: Hex, millis: number, reason: string): void {
    this.#quarantine.set(address, { until: Date.now() + millis, reason });
    this.#logger.warn({ provider: address, reason, millis }, "provider quarantined");
  }
}
