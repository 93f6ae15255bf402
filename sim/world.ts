/**
 * What every simulated agent sees and shares during a run: the chain, the deployed protocol, the scenario, the
 * seeded random source, the services, today's conditions (outages, price shocks, the stop), and the workloads of
 * the day. The engine (engine.ts) owns it and moves it day by day; agents (agents/) act on it.
 */
import { id, MaxUint256, type Wallet } from "ethers";

import { AGENT_TYPES } from "../protocol/enums.js";
import { Random } from "../agents/random.js";
import { receiptDomain, signReceipt, type ComputeReceipt } from "../scripts/lib/receipts.js";
import type { Protocol } from "../scripts/lib/protocol.js";
import { DAY, type SimChain } from "./chain.js";
import type { Scenario } from "./scenario.js";

export interface ServiceInfo {
  name: string;
  /** keccak256(name): what workloads ask for. */
  type: string;
  /** The model the service runs (one per service in the simulation). */
  model: string;
  costPerUnit: bigint;
}

/** A workload posted today, as the engine tracks it through the day. */
export interface DayWorkload {
  workloadId: bigint;
  service: string;
  client: string;
  units: bigint;
  maxPricePerUnit: bigint;
  postedAt: bigint;
  bidDeadline: bigint;
  /** Set by the poster when it awards itself (self-dealing); the keeper auto-awards the rest. */
  awardedBy?: string;
}

export class World {
  readonly random: Random;
  readonly services: Map<string, ServiceInfo>;
  readonly p: Protocol;
  day = 0;
  /** Agent names in an outage all day (they neither bid nor deliver). */
  readonly offline = new Set<string>();
  /** Agent names that go down today after the auctions: they bid, win, and do not deliver (killed mid-work). */
  readonly failing = new Set<string>();
  /** Per service: multipliers of the clients' ceilings and the providers' costs today. */
  readonly ceiling = new Map<string, number>();
  readonly cost = new Map<string, number>();
  /** Workloads posted today. */
  posted: DayWorkload[] = [];
  /** What agents report of note (an attacker's move and how the chain answered), for the run's event log. */
  readonly notes: string[] = [];
  #receiptNonce = 0;
  readonly #agentIds = new Map<string, bigint>();

  constructor(
    readonly chain: SimChain,
    readonly scenario: Scenario,
    seed: number,
  ) {
    this.random = new Random(seed);
    this.p = chain.protocol;
    this.services = new Map(
      scenario.services.map((s) => [
        s.name,
        { name: s.name, type: id(s.name), model: id(`model:${s.name}`), costPerUnit: s.costPerUnit },
      ]),
    );
  }

  service(name: string): ServiceInfo {
    const s = this.services.get(name);
    if (s === undefined) throw new Error(`unknown service ${name}`);
    return s;
  }

  /** The cost of a unit of `service` today (price shocks included). */
  costPerUnit(service: string): bigint {
    return scale(this.service(service).costPerUnit, this.cost.get(service) ?? 1);
  }

  /** Seconds of simulated day `day`'s start. */
  dayStart(day = this.day): bigint {
    return this.chain.clock - (this.chain.clock % DAY) + BigInt(day - this.day) * DAY;
  }

  /**
   * Gives `to` `whole` AITBC the only way the token creates supply: the attestor signs a compute receipt for it
   * (the simulation's genesis grants: stakes and client budgets).
   */
  async grant(to: Wallet, whole: bigint, label: string): Promise<void> {
    this.#receiptNonce += 1;
    const receipt: ComputeReceipt = {
      receiptId: id(`aitbc-sim grant ${label} ${this.#receiptNonce}`),
      provider: to.address,
      client: this.chain.roles.attestor.address,
      units: whole,
      workHash: id(`aitbc-sim grant work ${this.#receiptNonce}`),
      resultHash: id(`aitbc-sim grant result ${this.#receiptNonce}`),
      deadline: this.chain.clock + 30n * DAY,
    };
    const signature = await signReceipt(this.chain.roles.attestor, await receiptDomain(this.p.token), receipt);
    const r = await this.chain.send(to.address, () => this.p.token.connect(to).mintFromReceipt(receipt, signature));
    if (!r.ok) throw new Error(`grant to ${label}: ${r.error}`);
  }

  /** Registers `wallet` as a service-provider agent and stakes `stake` (granted first). Returns its agent id. */
  async registerProvider(
    wallet: Wallet,
    label: string,
    stake: bigint,
    dailyVolume: bigint,
    operator: string,
  ): Promise<bigint> {
    const { registry, token } = this.p;
    const reg = {
      operator,
      agentType: BigInt(AGENT_TYPES.indexOf("service-provider")),
      metadataURI: `sim://${label}`,
      endpoint: `https://${label}.sim.invalid/api`,
      version: "1.0.0",
      capabilities: [id("inference")],
      expectedDailyVolume: dailyVolume,
    };
    const steps: [string, () => Promise<unknown>][] = [
      ["register", () => this.chain.send(wallet.address, () => registry.connect(wallet).register(reg))],
      ["grant", () => this.grant(wallet, (stake + 10n ** 18n - 1n) / 10n ** 18n, label)],
      [
        "approve",
        async () =>
          this.chain.send(wallet.address, async () =>
            token.connect(wallet).approve(await registry.getAddress(), MaxUint256),
          ),
      ],
      ["stake", () => this.chain.send(wallet.address, () => registry.connect(wallet).stake(stake))],
    ];
    for (const [step, run] of steps) {
      const r = (await run()) as { ok?: boolean; error?: string } | undefined;
      if (r?.ok === false) throw new Error(`${label}: ${step} failed: ${r.error}`);
    }
    return registry.getAgentId(wallet.address);
  }

  /** Token balance plus stake and pending withdrawal of each address: what the chain says it owns. */
  async wealth(addresses: readonly string[]): Promise<bigint> {
    let total = 0n;
    for (const address of addresses) {
      total += await this.p.token.balanceOf(address);
      const agentId = await this.agentIdOf(address);
      if (agentId !== 0n) {
        const view = await this.p.registry.getAgent(agentId);
        total += view.stake + view.pendingWithdrawal;
      }
    }
    return total;
  }

  /** The agent id of `address` (0: none), cached once known: the simulation rotates no key, so an id stays. */
  async agentIdOf(address: string): Promise<bigint> {
    const known = this.#agentIds.get(address);
    if (known !== undefined) return known;
    const agentId = await this.p.registry.agentIdOf(address);
    if (agentId !== 0n) this.#agentIds.set(address, agentId);
    return agentId;
  }

  /** Gas cost of `addresses`' transactions so far at the scenario's gas price, in AITBC wei. */
  gasCost(addresses: readonly string[]): bigint {
    const gas = addresses.reduce((sum, a) => sum + (this.chain.gasBySender.get(a.toLowerCase()) ?? 0n), 0n);
    const { gasPriceGwei, aitbcPerEth } = this.scenario.costs;
    const weiPerGas = BigInt(Math.round(gasPriceGwei * 1e9));
    return scale(gas * weiPerGas, aitbcPerEth);
  }
}

/** `amount` × `factor`, to a millionth. */
export function scale(amount: bigint, factor: number): bigint {
  return (amount * BigInt(Math.round(factor * 1e6))) / 1_000_000n;
}

/** AITBC (float) for reports. */
export function aitbc(wei: bigint): number {
  return Number(wei) / 1e18;
}
