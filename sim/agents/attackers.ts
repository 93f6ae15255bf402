/**
 * Attackers, each a group of identities whose profit is measured from the chain (wealth: balances, stake and
 * pending withdrawals; less gas and compute) against what it started with:
 *
 * - sybil: many provider identities at the minimum stake undercut every honest bid; with `deliver: false` they
 *   grief (won work times out, the client's work is not done) and are slashed for it.
 * - self-dealing: reputation farming. The attacker's own client posts work its provider bids on, awards it to
 *   itself, accepts it: the protocol fee buys reputation points (the client is a plain account, not related to the
 *   provider on chain). Once farmed, the provider bids on honest work at its price, reputation weighting its bids.
 * - exit-dodge: wins work, asks to unstake everything at once, never delivers, and tries to withdraw before the
 *   timeout's slash lands.
 * - collusion: a client and a provider in league. The client posts work, awards it to its partner at the full
 *   ceiling over cheaper honest bids, and accepts the partner's result unchecked (no compute behind it): the pair
 *   moves receipts and reputation to the partner, which never competes for honest work.
 * - flash-stake: governance capture by stake. A provider at the minimum stake holds a large balance; the day a
 *   proposal appears it stakes it (before the vote's snapshot, a day later), votes, and asks to unstake it at once.
 * - spam: posts workloads at an attractive ceiling to draw providers' bids (their gas and their constitutions' daily
 *   actions) and cancels each before the award: nothing is ever bought.
 *
 * Governance capture by bought reputation is the self-dealing attacker voting (its stance) in a scenario with a
 * proposal: reputation is what the fee buys, and voting power grows with it (attack-governance-reputation.json).
 */
import { id } from "ethers";

import { FixedPriceStrategy } from "../../agents/strategies/fixed-price.js";
import type { AttackerSpec } from "../scenario.js";
import type { SimAgent } from "../agent.js";
import type { DayWorkload, World } from "../world.js";
import { ClientAgent } from "./client.js";
import { ProviderAgent } from "./provider.js";

/** An attacker: its identities act like the agents they pose as; the group is what the verdict adds up. */
export interface Attacker {
  readonly spec: AttackerSpec;
  readonly members: readonly SimAgent[];
  /** Called each day after posting, before bidding (its own moves). */
  act?(world: World, day: number): Promise<void>;
  /** Awards its own workloads after the bidding deadline, before the keeper's auto-award. */
  awardOwn?(world: World): Promise<void>;
}

class SybilProvider extends ProviderAgent {
  override readonly kind = "sybil";
  constructor(name: string, spec: Extract<AttackerSpec, { kind: "sybil" }>, stake: bigint) {
    super({
      name,
      group: spec.name,
      role: "attacker",
      services: [spec.service],
      capacity: 1_000,
      stake,
      dailyVolume: 0n,
      strategy: new FixedPriceStrategy(spec.price),
      reliability: spec.deliver ? 1 : 0,
      stance: "for",
    });
  }
}

export function sybilAttacker(spec: Extract<AttackerSpec, { kind: "sybil" }>, minStake: bigint): Attacker {
  const members = Array.from(
    { length: spec.identities },
    (_, i) => new SybilProvider(`${spec.name}-${i}`, spec, minStake),
  );
  return {
    spec,
    members,
    act(_world, day) {
      for (const m of members) m.bidding = day >= spec.startDay;
      return Promise.resolve();
    },
  };
}

/**
 * One owner's client and provider, unrelated on chain (self-dealing, collusion): the client posts `perDay` workloads
 * at `price` a unit that the provider bids `price` on, off its strategy; `awardOwn` then gives each to the provider.
 * The workloads are public: honest providers see them and may bid too.
 */
function ownedPair(name: string, service: string, strategyPrice: bigint) {
  const provider = new ProviderAgent({
    name: `${name}-provider`,
    group: name,
    role: "attacker",
    services: [service],
    capacity: 1_000,
    stake: 2_000n * 10n ** 18n,
    dailyVolume: 1_000n * 10n ** 18n,
    strategy: new FixedPriceStrategy(strategyPrice),
    reliability: 1,
    stance: "for",
  });
  const client = new ClientAgent({
    name: `${name}-client`,
    group: name,
    role: "attacker",
    budget: 50_000n * 10n ** 18n,
    rejectRate: 0,
  });
  let own: DayWorkload[] = [];
  return {
    provider,
    client,
    /** The day's own workloads: posted, marked sham (nothing to compute: the result is whatever the pair says), bid on. */
    async post(world: World, perDay: number, units: number, price: bigint): Promise<void> {
      own = [];
      for (let i = 0; i < perDay; i++) {
        const w = await client.post(world, service, BigInt(units), price);
        if (w === undefined) continue;
        w.awardedBy = client.name;
        provider.shamWork.add(w.workloadId);
        own.push(w);
        world.posted.push(w);
        const serviceId = provider.offers.get(service) as string;
        const r = await world.chain.send(provider.wallet.address, () =>
          world.p.marketplace
            .connect(provider.wallet)
            .bid(w.workloadId, serviceId, price, id(`${provider.name}:${w.workloadId}`)),
        );
        if (r.ok) provider.bids.set(w.workloadId, { service, units: w.units, pricePerUnit: price, decision: null });
      }
    },
    async awardOwn(world: World): Promise<void> {
      for (const w of own) {
        const bids = await world.p.marketplace.getBids(w.workloadId);
        const index = bids.findIndex((b) => b.providerId === provider.agentId);
        if (index < 0) continue;
        await world.chain.send(client.wallet.address, () =>
          world.p.marketplace.connect(client.wallet).award(w.workloadId, index, provider.agentId),
        );
      }
    },
  };
}

export function selfDealingAttacker(spec: Extract<AttackerSpec, { kind: "self-dealing" }>): Attacker {
  // Its provider bids the full ceiling on its own work (the point is the fee paid), then its strategy's price.
  const pair = ownedPair(spec.name, spec.service, spec.price);
  return {
    spec,
    members: [pair.provider, pair.client],
    async act(world, day) {
      await pair.post(world, spec.perDay, spec.units, spec.farmPrice);
      pair.provider.bidding = day >= spec.farmDays;
    },
    awardOwn: (world) => pair.awardOwn(world),
  };
}

class DodgingProvider extends ProviderAgent {
  override readonly kind = "exit-dodge";
  unstaked = false;

  constructor(readonly spec: Extract<AttackerSpec, { kind: "exit-dodge" }>) {
    super({
      name: spec.name,
      group: spec.name,
      role: "attacker",
      services: [spec.service],
      capacity: 1_000,
      stake: 3_000n * 10n ** 18n,
      dailyVolume: 1_000n * 10n ** 18n,
      strategy: new FixedPriceStrategy(spec.price),
      reliability: 0,
      stance: "for",
    });
  }

  /** Instead of delivering its awarded work: asks to unstake everything, before the deadline passes. */
  override async deliver(world: World): Promise<void> {
    if (this.work.size === 0 || this.unstaked) return;
    const { registry } = world.p;
    const stake = await registry.stakeOf(this.agentId);
    const r = await world.chain.send(this.wallet.address, () =>
      registry.connect(this.wallet).requestUnstake(this.agentId, stake),
    );
    this.unstaked = r.ok;
    world.notes.push(
      `day ${world.day}: ${this.name} holds ${this.work.size} awarded workload(s) and asks to unstake ` +
        `${Number(stake) / 1e18} AITBC: ${r.ok ? "accepted" : `refused (${r.error})`}`,
    );
  }
}

export function exitDodgeAttacker(spec: Extract<AttackerSpec, { kind: "exit-dodge" }>): Attacker {
  const dodger = new DodgingProvider(spec);
  let withdrawn = false;
  return {
    spec,
    members: [dodger],
    async act(world, day) {
      dodger.bidding = day === spec.day;
      const { registry } = world.p;
      if (dodger.unstaked && !withdrawn && day > spec.day) {
        // Withdraw as soon as the registry lets it (the unbonding delay, and no open obligation).
        const r = await world.chain.send(dodger.wallet.address, () =>
          registry.connect(dodger.wallet).withdraw(dodger.agentId),
        );
        withdrawn = r.ok;
        world.notes.push(`day ${day}: ${dodger.name} withdraws: ${r.ok ? "paid out" : `refused (${r.error})`}`);
      }
    },
  };
}

export function collusionAttacker(spec: Extract<AttackerSpec, { kind: "collusion" }>): Attacker {
  // The client awards its partner at its ceiling over cheaper honest bids and accepts whatever it submits.
  const pair = ownedPair(spec.name, spec.service, spec.ceiling);
  pair.provider.bidding = false; // it takes only its partner's work
  return {
    spec,
    members: [pair.provider, pair.client],
    act: (world) => pair.post(world, spec.perDay, spec.units, spec.ceiling),
    awardOwn: (world) => pair.awardOwn(world),
  };
}

class FlashStaker extends ProviderAgent {
  override readonly kind = "flash-stake";
  constructor(
    readonly spec: Extract<AttackerSpec, { kind: "flash-stake" }>,
    minStake: bigint,
  ) {
    super({
      name: spec.name,
      group: spec.name,
      role: "attacker",
      services: [spec.service],
      capacity: 1_000,
      stake: minStake + 200n * 10n ** 18n,
      dailyVolume: 1_000n * 10n ** 18n,
      strategy: new FixedPriceStrategy(10n ** 18n),
      reliability: 1,
      stance: spec.stance,
    });
    this.bidding = false;
  }

  override async setup(world: World): Promise<void> {
    await super.setup(world);
    await world.grant(this.wallet, this.spec.flashStake / 10n ** 18n, this.name); // held, not staked, until the proposal
  }
}

export function flashStakeAttacker(spec: Extract<AttackerSpec, { kind: "flash-stake" }>, minStake: bigint): Attacker {
  const staker = new FlashStaker(spec, minStake);
  let staked = false;
  let unstaked = false;
  return {
    spec,
    members: [staker],
    async act(world) {
      const { registry, governor, agentVotes } = world.p;
      if (!staked) {
        // A proposal was made today (the engine's governance step runs first): stake before its snapshot.
        const logs = await governor.queryFilter(governor.filters.ProposalCreated(), 0);
        const fresh = logs.some((l) => l.args.voteStart > world.chain.clock);
        if (!fresh) return;
        const r = await world.chain.send(staker.wallet.address, () =>
          registry.connect(staker.wallet).stake(spec.flashStake),
        );
        staked = r.ok;
        const power = Number(await agentVotes.getVotes(staker.wallet.address)) / 1e18;
        world.notes.push(
          `day ${world.day}: ${spec.name} stakes ${Number(spec.flashStake) / 1e18} AITBC before the vote's snapshot: ` +
            (r.ok ? `power now ${power}` : `refused (${r.error})`),
        );
        return;
      }
      if (unstaked) return;
      // Once it has voted, out again at once.
      const logs = await governor.queryFilter(governor.filters.VoteCast(staker.wallet.address), 0);
      if (logs.length === 0) return;
      const r = await world.chain.send(staker.wallet.address, () =>
        registry.connect(staker.wallet).requestUnstake(staker.agentId, spec.flashStake),
      );
      unstaked = r.ok;
      world.notes.push(
        `day ${world.day}: ${spec.name} voted with ${Number(logs[0]?.args.weight ?? 0n) / 1e18} votes and asks to ` +
          `unstake the ${Number(spec.flashStake) / 1e18} AITBC: ${r.ok ? "accepted (unbonding)" : `refused (${r.error})`}`,
      );
    },
  };
}

export function spamAttacker(spec: Extract<AttackerSpec, { kind: "spam" }>): Attacker {
  const client = new ClientAgent({
    name: `${spec.name}-client`,
    group: spec.name,
    role: "attacker",
    budget: 50_000n * 10n ** 18n,
    rejectRate: 0,
  });
  let own: DayWorkload[] = [];
  return {
    spec,
    members: [client],
    async act(world, day) {
      own = [];
      if (day < spec.startDay) return;
      for (let i = 0; i < spec.perDay; i++) {
        const w = await client.post(world, spec.service, BigInt(spec.units), spec.ceiling);
        if (w === undefined) continue;
        w.awardedBy = client.name; // the keeper leaves it alone: it is cancelled before the award
        own.push(w);
        world.posted.push(w);
      }
    },
    async awardOwn(world) {
      // After the bids, before any award: cancel everything (the escrow comes back; the bids were for nothing).
      for (const w of own) {
        await world.chain.send(client.wallet.address, () =>
          world.p.marketplace.connect(client.wallet).cancelWorkload(w.workloadId),
        );
        client.mine.delete(w.workloadId);
      }
      if (own.length > 0)
        world.notes.push(`day ${world.day}: ${spec.name} cancels ${own.length} workload(s) after the bids`);
    },
  };
}

export function createAttacker(spec: AttackerSpec, minStake: bigint): Attacker {
  switch (spec.kind) {
    case "sybil":
      return sybilAttacker(spec, minStake);
    case "self-dealing":
      return selfDealingAttacker(spec);
    case "exit-dodge":
      return exitDodgeAttacker(spec);
    case "collusion":
      return collusionAttacker(spec);
    case "flash-stake":
      return flashStakeAttacker(spec, minStake);
    case "spam":
      return spamAttacker(spec);
  }
}
