/**
 * The learning provider: prices each service by a multi-armed bandit over a grid of prices per unit, with Thompson
 * sampling (valory-xyz/trader's policy is the model: small enough to read at once, state persisted, exploration
 * explicit).
 *
 * For each arm (a price) it keeps how often a bid at that price won and lost, and what a won bid really earned per
 * unit (payment less fee, the work's cost and slashes, as the chain settled it). To decide, it draws a win probability
 * θ ~ Beta(1 + wins, 1 + losses) per affordable arm and bids the arm with the highest θ × margin, the margin being
 * the average earned per unit once the arm has settled work, else its nominal margin price × (1 − fee) − cost.
 * One bid teaches about several arms, because the auction is monotone in the price (the lowest price × (2000 −
 * reputation) wins, within the client's willingness to pay): a bid that lost at price p would have lost at any
 * higher price, and one that won at p would have won at any lower price. So a loss counts against every arm at or
 * above p, a win for every arm at or below it (the realised margin only for the arm bid).
 * Exploration is the posterior's spread: an arm tried rarely draws widely. Arms whose margin is not positive are
 * never bid. With `learning: false` the counts never move (every arm stays at its prior): the control that shows
 * the learning, not the grid, earns the difference.
 */
import type { Json } from "../../protocol/values.js";
import { Random } from "../random.js";
import { toAitbc, type Action, type BidOutcome, type MarketState, type OwnState, type Strategy } from "../strategy.js";

export interface ThompsonPriceOptions {
  /** The price grid, wei per unit. */
  arms: readonly bigint[];
  /** Seed of the sampling (a restart may use another: the learned counts are what persist). */
  seed: number;
  /** False: decide from the prior only (the control). Default true. */
  learning?: boolean;
}

interface ArmStats {
  /** Bids placed at this price. */
  bids: number;
  wins: number;
  losses: number;
  /** Units settled and AITBC earned on them (profit), for the realised margin. */
  units: number;
  profit: number;
}

export class ThompsonPriceStrategy implements Strategy {
  readonly name = "thompson-price";
  readonly arms: readonly bigint[];
  readonly learning: boolean;
  /** Per service name, per arm index. */
  #stats = new Map<string, ArmStats[]>();
  readonly #random: Random;

  constructor(options: ThompsonPriceOptions) {
    if (options.arms.length === 0) throw new RangeError("thompson-price: arms: at least one price");
    if (options.arms.some((a) => a <= 0n)) throw new RangeError("thompson-price: arms: every price must be above 0");
    this.arms = [...options.arms].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.learning = options.learning ?? true;
    this.#random = new Random(options.seed);
  }

  decide(market: MarketState, own: OwnState): Action {
    const { workload, service, feeBps } = market;
    if (own.freeUnits < workload.units)
      return { kind: "skip", reason: `capacity: ${own.freeUnits} free units < ${workload.units}` };
    const stats = this.#statsOf(service.name);
    const cost = toAitbc(service.costPerUnit);
    let best: { arm: number; score: number; theta: number; margin: number } | undefined;
    this.arms.forEach((price, arm) => {
      if (price > workload.maxPricePerUnit) return;
      const s = stats[arm] as ArmStats;
      const margin = s.units > 0 ? s.profit / s.units : toAitbc(price) * (1 - feeBps / 10_000) - cost;
      if (margin <= 0) return;
      const theta = this.#random.beta(1 + s.wins, 1 + s.losses);
      const score = theta * margin;
      if (best === undefined || score > best.score) best = { arm, score, theta, margin };
    });
    if (best === undefined)
      return {
        kind: "skip",
        reason: `no price arm with a positive margin under the ceiling ${workload.maxPricePerUnit}`,
      };
    const s = stats[best.arm] as ArmStats;
    const price = this.arms[best.arm] as bigint;
    return {
      kind: "bid",
      pricePerUnit: price,
      reason:
        `arm ${best.arm} (${toAitbc(price)} AITBC/unit): sampled win ${best.theta.toFixed(3)} × margin ` +
        `${best.margin.toFixed(4)} (${s.wins} won, ${s.losses} lost)`,
      decision: { arm: best.arm },
    };
  }

  learn(outcome: BidOutcome): void {
    if (!this.learning) return;
    const arm = this.arms.indexOf(outcome.pricePerUnit);
    if (arm < 0) return; // a bid this grid did not price (a grid changed since): nothing to learn
    const stats = this.#statsOf(outcome.serviceName);
    (stats[arm] as ArmStats).bids += 1;
    stats.forEach((other, i) => {
      if (outcome.won && i <= arm) other.wins += 1;
      if (!outcome.won && i >= arm) other.losses += 1;
    });
    if (!outcome.won) return;
    const s = stats[arm] as ArmStats;
    s.units += Number(outcome.units);
    s.profit += toAitbc(outcome.profit);
  }

  state(): Json {
    const services: Record<string, Json> = {};
    for (const [name, stats] of this.#stats) services[name] = stats.map((s) => ({ ...s }));
    return { arms: this.arms.map(String), services };
  }

  restore(state: Json): void {
    const saved = state as { arms?: string[]; services?: Record<string, ArmStats[]> } | null;
    if (saved?.arms === undefined || saved.services === undefined) return;
    // Counts belong to prices: keep those of the arms still in the grid.
    for (const [name, stats] of Object.entries(saved.services)) {
      const mine = this.#statsOf(name);
      saved.arms.forEach((price, i) => {
        const arm = this.arms.indexOf(BigInt(price));
        const s = stats[i];
        if (arm >= 0 && s !== undefined) mine[arm] = { ...s };
      });
    }
  }

  /** The learned counts of `service` (for tests, logs and the bench). */
  statsOf(service: string): readonly Readonly<ArmStats>[] {
    return this.#statsOf(service);
  }

  #statsOf(service: string): ArmStats[] {
    let stats = this.#stats.get(service);
    if (stats === undefined) {
      stats = this.arms.map(() => ({ bids: 0, wins: 0, losses: 0, units: 0, profit: 0 }));
      this.#stats.set(service, stats);
    }
    return stats;
  }
}
