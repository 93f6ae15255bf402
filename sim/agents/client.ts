/**
 * A client: a plain account (clients need no registration) granted a budget, that posts its share of the day's
 * demand as real workloads (escrow units × ceiling), and reviews delivered results: accepts, or with `rejectRate`
 * rejects (a dispute). Its P&L is its surplus: the value of the work settled to it (units × ceiling) less what it
 * paid and its gas.
 */
import { id, MaxUint256, ZeroHash, type Wallet } from "ethers";

import { WORKLOAD_STATUSES, WORKLOAD_VERIFICATION_LEVELS } from "../../protocol/enums.js";
import { HOUR } from "../chain.js";
import type { Role, SimAgent } from "../agent.js";
import type { DayWorkload, World } from "../world.js";

export interface ClientOptions {
  name: string;
  group: string;
  role: Role;
  budget: bigint;
  rejectRate: number;
}

const SUBMITTED = BigInt(WORKLOAD_STATUSES.indexOf("submitted"));
const BASIC = BigInt(WORKLOAD_VERIFICATION_LEVELS.indexOf("basic"));

export class ClientAgent implements SimAgent {
  readonly kind = "client";
  readonly name: string;
  readonly group: string;
  readonly role: Role;
  wallet!: Wallet;
  /** Workloads it posted and has not seen end. */
  readonly mine = new Set<bigint>();
  /** Posts refused by the chain (budget, stop). */
  refused = 0;
  /**
   * What the settled work was worth to it: units × its ceiling (what it said it would pay), AITBC wei. Its P&L is
   * this plus its wealth change (the payments out): the surplus the market gave it.
   */
  valueReceived = 0n;

  constructor(readonly options: ClientOptions) {
    this.name = options.name;
    this.group = options.group;
    this.role = options.role;
  }

  addresses(): string[] {
    return [this.wallet.address];
  }

  async setup(world: World): Promise<void> {
    this.wallet = await world.chain.wallet(this.name);
    await world.grant(this.wallet, this.options.budget / 10n ** 18n, this.name);
    const market = await world.p.marketplace.getAddress();
    await world.chain.send(this.wallet.address, () => world.p.token.connect(this.wallet).approve(market, MaxUint256));
  }

  /** Posts one workload of `service` (`units` at most `maxPricePerUnit` each). */
  async post(world: World, service: string, units: bigint, maxPricePerUnit: bigint): Promise<DayWorkload | undefined> {
    const { marketplace } = world.p;
    const { biddingHours, executionHours } = world.scenario.protocol;
    const postedAt = world.chain.clock;
    const bidDeadline = postedAt + BigInt(biddingHours) * HOUR;
    const info = world.service(service);
    const request = {
      serviceType: info.type,
      modelHash: info.model,
      units,
      maxPricePerUnit,
      bidDeadline,
      executionDeadline: bidDeadline + BigInt(executionHours) * HOUR,
      verification: BASIC,
      reopenOnTimeout: false,
      inputHash: ZeroHash,
    };
    const r = await world.chain.send(this.wallet.address, () => marketplace.connect(this.wallet).postWorkload(request));
    if (!r.ok || r.receipt === undefined) {
      this.refused += 1;
      return undefined;
    }
    const log = r.receipt.logs.map((l) => marketplace.interface.parseLog(l)).find((e) => e?.name === "WorkloadPosted");
    const workloadId = log?.args[0] as bigint;
    this.mine.add(workloadId);
    return { workloadId, service, client: this.wallet.address, units, maxPricePerUnit, postedAt, bidDeadline };
  }

  /** Accepts (or rejects, at its reject rate) each of its workloads with a submitted result. */
  async review(world: World): Promise<void> {
    const { marketplace } = world.p;
    for (const workloadId of [...this.mine]) {
      const w = await marketplace.getWorkload(workloadId);
      if (w.status !== SUBMITTED) continue;
      const reject = this.options.rejectRate > 0 && world.random.next() < this.options.rejectRate;
      await world.chain.send(this.wallet.address, () =>
        reject
          ? marketplace.connect(this.wallet).reject(workloadId, id("aitbc-sim: result refused"))
          : marketplace.connect(this.wallet).accept(workloadId),
      );
      this.mine.delete(workloadId);
    }
  }
}
