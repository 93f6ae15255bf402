/**
 * The learning experiment the bench (`npm run bench:agents`) and the test run: one controlled market (market.ts)
 * with three fixed-price providers, entered in turn by
 * - the learning provider (thompson-price over a price grid),
 * - the same strategy with learning off (the control: same grid, same sampling, counts never move),
 * - a fixed-price provider at each price of the grid (the best of them is the best fixed price in hindsight),
 * each in the same seeded market (same clients, same draws for the others' participation).
 */
import { FixedPriceStrategy } from "../strategies/fixed-price.js";
import { ThompsonPriceStrategy } from "../strategies/thompson-price.js";
import { AITBC, fromAitbc, toAitbc, type Strategy } from "../strategy.js";
import { runMarket, type MarketScenario } from "./market.js";

/**
 * The market: clients will pay 0.8 to 2.4 AITBC a unit (hidden from providers; the public ceiling is 3), a unit
 * costs 0.5 to make, the fee is 1 %, and each provider is online for 80 % of the workloads.
 */
export function scenario(seed: number, workloads = 200): MarketScenario {
  return {
    seed,
    workloads,
    units: [1, 4],
    maxPricePerUnit: 3n * AITBC,
    willingnessToPay: { min: 0.8, max: 2.4 },
    costPerUnit: AITBC / 2n,
    participation: 0.8,
    feeBps: 100,
    serviceName: "iris-inference",
  };
}

/**
 * The fixed-price competitors (AITBC per unit), priced for the upper half of the demand: the market the learner
 * is measured in. `TIGHT` is a market without that room (one competitor sits near the best price already), where
 * the bench shows what learning does not win.
 */
export const COMPETITORS = [1.4, 1.8, 2.2];
export const TIGHT = [1.0, 1.6, 2.0];

/** The learner's price grid: 0.6 to 2.4 AITBC per unit in steps of 0.2. */
export const ARMS = Array.from({ length: 10 }, (_, i) => fromAitbc(0.6 + i * 0.2));

export interface SeedFigures {
  seed: number;
  /** AITBC earned over the workloads. */
  learner: number;
  control: number;
  /** The best of the three competitors in the learner's market. */
  bestCompetitor: number;
  /** The best competitor in the control's market. */
  bestCompetitorVsControl: number;
  /** The best single fixed price of the grid, had the learner used it throughout. */
  bestFixedInHindsight: number;
  /** The price the learner bid most often. */
  learnedPrice: number;
}

function entrantsWith(name: string, strategy: Strategy, competitors: readonly number[]) {
  return [
    ...competitors.map((price) => ({
      name: `fixed-${price}`,
      strategy: new FixedPriceStrategy(fromAitbc(price)),
    })),
    { name, strategy },
  ];
}

function bestOf(result: ReturnType<typeof runMarket>, except: string): number {
  return Math.max(
    ...Object.entries(result.entrants)
      .filter(([name]) => name !== except)
      .map(([, r]) => toAitbc(r.profit)),
  );
}

export function runSeed(seed: number, workloads = 200, competitors: readonly number[] = COMPETITORS): SeedFigures {
  const market = scenario(seed, workloads);
  const learner = new ThompsonPriceStrategy({ arms: ARMS, seed: seed * 7 + 1 });
  const learned = runMarket(market, entrantsWith("learner", learner, competitors));
  const control = runMarket(
    market,
    entrantsWith(
      "control",
      new ThompsonPriceStrategy({ arms: ARMS, seed: seed * 7 + 1, learning: false }),
      competitors,
    ),
  );
  const hindsight = ARMS.map((price) =>
    toAitbc(
      runMarket(market, entrantsWith("fixed", new FixedPriceStrategy(price), competitors)).entrants.fixed?.profit ?? 0n,
    ),
  );
  const stats = learner.statsOf(market.serviceName);
  let top = 0;
  stats.forEach((s, i) => {
    if (s.bids > (stats[top]?.bids ?? 0)) top = i;
  });
  return {
    seed,
    learner: toAitbc(learned.entrants.learner?.profit ?? 0n),
    control: toAitbc(control.entrants.control?.profit ?? 0n),
    bestCompetitor: bestOf(learned, "learner"),
    bestCompetitorVsControl: bestOf(control, "control"),
    bestFixedInHindsight: Math.max(...hindsight),
    learnedPrice: toAitbc(ARMS[top] ?? 0n),
  };
}

/** Mean and sample standard deviation. */
export function spread(values: readonly number[]): { mean: number; sd: number; min: number; max: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean, sd, min: Math.min(...values), max: Math.max(...values) };
}
