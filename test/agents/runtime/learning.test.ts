/**
 * Learning, measured (agents/sim/experiment.ts, agents/strategies/thompson-price.ts): in the seeded controlled market
 * the learning provider beats the best fixed-price provider over 200 workloads on every seed, by a margin; the same
 * strategy with learning off does not, on any seed (so the grid and the sampling alone do not earn it); and what it
 * learns survives a state() / restore() round trip, as the runtime persists it.
 */
import { expect } from "chai";

import { marketStateOf, runMarket } from "../../../agents/sim/market.js";
import { ARMS, COMPETITORS, runSeed, scenario, spread, TIGHT } from "../../../agents/sim/experiment.js";
import { FixedPriceStrategy } from "../../../agents/strategies/fixed-price.js";
import { ThompsonPriceStrategy } from "../../../agents/strategies/thompson-price.js";
import { fromAitbc } from "../../../agents/strategy.js";

const SEEDS = [1, 2, 3, 4, 5];

describe("agents: learning provider in a controlled market", function () {
  this.timeout(120_000);

  for (const [name, competitors, minMargin] of [
    ["controlled", COMPETITORS, 40],
    ["tight", TIGHT, 5],
  ] as const) {
    it(`beats the best fixed-price provider on every seed, and learning off does not (${name} market)`, function () {
      const rows = SEEDS.map((seed) => runSeed(seed, 200, competitors));
      for (const r of rows) {
        expect(r.learner - r.bestCompetitor, `seed ${r.seed}: learner margin`).to.be.greaterThan(minMargin);
        expect(r.control, `seed ${r.seed}: control`).to.be.lessThan(r.bestCompetitorVsControl);
        // Learning is most of the best a fixed price could have done, knowing the market in advance.
        expect(r.learner / r.bestFixedInHindsight, `seed ${r.seed}: share of hindsight`).to.be.greaterThan(0.5);
      }
      expect(spread(rows.map((r) => r.learner - r.bestCompetitor)).mean).to.be.greaterThan(minMargin * 2);
    });
  }

  it("a market is one run per seed, and another seed is another run", function () {
    expect(runSeed(3)).to.deep.equal(runSeed(3));
    expect(runSeed(3).learner).to.not.equal(runSeed(4).learner);
  });

  it("the auction follows the contract's award rule: lowest price × (2000 − reputation), within the client's pay", function () {
    const market = { ...scenario(1, 50), participation: 1, willingnessToPay: { min: 1.5, max: 1.5 } };
    const result = runMarket(market, [
      { name: "cheap", strategy: new FixedPriceStrategy(fromAitbc(1.2)) },
      { name: "dear", strategy: new FixedPriceStrategy(fromAitbc(1.3)) },
      { name: "above-pay", strategy: new FixedPriceStrategy(fromAitbc(1.6)) },
    ]);
    expect(result.entrants.cheap?.wins).to.equal(50);
    expect(result.entrants.dear?.wins).to.equal(0);
    expect(result.entrants["above-pay"]?.wins).to.equal(0);
    const nobody = runMarket(market, [{ name: "above-pay", strategy: new FixedPriceStrategy(fromAitbc(1.6)) }]);
    expect(nobody.cancelled).to.equal(50);
  });

  it("persists what it learned: state() then restore() decides as the original did", function () {
    const learner = new ThompsonPriceStrategy({ arms: ARMS, seed: 9 });
    runMarket(scenario(2), [
      ...COMPETITORS.map((p) => ({ name: `f${p}`, strategy: new FixedPriceStrategy(fromAitbc(p)) })),
      { name: "learner", strategy: learner },
    ]);
    const saved = JSON.parse(JSON.stringify(learner.state())) as ReturnType<typeof learner.state>;
    const resumed = new ThompsonPriceStrategy({ arms: ARMS, seed: 9 });
    resumed.restore(saved);
    expect(resumed.statsOf("iris-inference")).to.deep.equal(learner.statsOf("iris-inference"));
    const fresh = new ThompsonPriceStrategy({ arms: ARMS, seed: 9 });
    const market = marketStateOf(scenario(2));
    const own = { agentId: 1n, reputation: 500, freeUnits: 10n };
    const prices = (s: ThompsonPriceStrategy) =>
      Array.from({ length: 30 }, () => {
        const a = s.decide(market, own);
        return a.kind === "bid" ? a.pricePerUnit : 0n;
      });
    // Resumed, it bids the learned price; a fresh learner explores the whole grid.
    expect(new Set(prices(resumed)).size).to.be.lessThan(new Set(prices(fresh)).size);
  });

  it("refuses a grid it cannot price with, naming the field", function () {
    expect(() => new ThompsonPriceStrategy({ arms: [], seed: 1 })).to.throw(/arms: at least one/);
    expect(() => new ThompsonPriceStrategy({ arms: [0n], seed: 1 })).to.throw(/arms: every price/);
  });
});
