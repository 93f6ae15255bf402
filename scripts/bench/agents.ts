/**
 * Learning, measured (agents/sim/experiment.ts): in a seeded controlled market with the marketplace's auction rules,
 * the learning provider (thompson-price) against three fixed-price providers over 200 workloads, for 10 seeds; the
 * same strategy with learning off as the control; and a fixed price at each of the learner's grid prices in its
 * place (the best of them: the best fixed price in hindsight). Then the same in a tighter market (one competitor
 * near the best price). Then the runtime's own costs: decisions per second of the learning strategy (in process),
 * and the growth of the agent's store per 1,000 experiences (agents/memory.ts, a real SQLite file). It prints
 * figures (AITBC of profit); it asserts nothing (test/agents/runtime/learning.test.ts asserts the claims).
 *
 *   npm run bench:agents
 */
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { AgentMemory } from "../../agents/memory.js";
import { ARMS, COMPETITORS, runSeed, scenario, spread, TIGHT, type SeedFigures } from "../../agents/sim/experiment.js";
import { ThompsonPriceStrategy } from "../../agents/strategies/thompson-price.js";
import { marketStateOf } from "../../agents/sim/market.js";

const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);
const WORKLOADS = 200;

function report(title: string, competitors: readonly number[]): void {
  console.log(`\n${title}: competitors at ${competitors.join(", ")} AITBC/unit, ${WORKLOADS} workloads, seeds 1..10`);
  const rows: SeedFigures[] = SEEDS.map((seed) => runSeed(seed, WORKLOADS, competitors));
  const f = (x: number) => x.toFixed(1).padStart(7);
  console.log("  seed  learner  best-fixed-competitor  margin  control  control-margin  hindsight  learned-price");
  for (const r of rows)
    console.log(
      `  ${String(r.seed).padStart(4)} ${f(r.learner)} ${f(r.bestCompetitor).padStart(22)} ${f(r.learner - r.bestCompetitor)}` +
        ` ${f(r.control)} ${f(r.control - r.bestCompetitorVsControl).padStart(15)} ${f(r.bestFixedInHindsight).padStart(10)}` +
        ` ${r.learnedPrice.toFixed(1).padStart(14)}`,
    );
  const margin = spread(rows.map((r) => r.learner - r.bestCompetitor));
  const control = spread(rows.map((r) => r.control - r.bestCompetitorVsControl));
  const share = spread(rows.map((r) => r.learner / r.bestFixedInHindsight));
  const s = (x: { mean: number; sd: number; min: number; max: number }, d = 1) =>
    `${x.mean.toFixed(d)} ± ${x.sd.toFixed(d)} (min ${x.min.toFixed(d)}, max ${x.max.toFixed(d)})`;
  console.log(`  learner − best fixed-price competitor: ${s(margin)} AITBC`);
  console.log(`  control (learning off) − best competitor: ${s(control)} AITBC`);
  console.log(`  learner / best fixed price in hindsight: ${s(share, 3)}`);
}

function decisionsPerSecond(): void {
  const strategy = new ThompsonPriceStrategy({ arms: ARMS, seed: 1 });
  const market = scenario(1);
  const state = marketStateOf(market);
  const own = { agentId: 1n, reputation: 500, freeUnits: 10n };
  const n = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) strategy.decide(state, own);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`\nthompson-price decisions: ${Math.round(n / seconds)} per second (${ARMS.length} arms, in process)`);
}

function memoryGrowth(): void {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "aitbc-bench-memory-")), "agent.db");
  const memory = new AgentMemory(file, { maxExperiences: 100_000 });
  const size = () => ["", "-wal"].reduce((n, s) => n + (statSync(file + s, { throwIfNoEntry: false })?.size ?? 0), 0);
  const before = size();
  const context = { units: "2", maxPricePerUnit: "3000000000000000000", competitors: [], feeBps: 100, freeUnits: "8" };
  for (let i = 0; i < 1000; i++) {
    const hash = `0x${i.toString(16).padStart(64, "0")}` as const;
    memory.remember(
      {
        kind: i % 3 === 0 ? "lost" : "settled",
        workloadId: BigInt(i),
        service: "iris-inference",
        context,
        action: {
          bid: "1200000000000000000",
          reason: "arm 3 (1.2 AITBC/unit): sampled win 0.812 × margin 0.688",
          decision: { arm: 3 },
        },
        outcome: "settled",
        figures: {
          paid: "2376000000000000000",
          fee: "24000000000000000",
          cost: "1000000000000000000",
          gasWei: "412345000000000",
        },
        profit: 1_376_000_000_000_000_000n,
      },
      { chain: { transactionHash: hash, logIndex: 0, blockNumber: BigInt(i) } },
      () => ({ strategy: "thompson-price", state: { arms: ARMS.map(String), services: {} } }),
    );
  }
  memory.close(); // the last connection checkpoints the write-ahead log into the file
  const grown = size() - before;
  console.log(
    `memory: ${(grown / 1024).toFixed(0)} KiB of store per 1,000 experiences (${(grown / 1000).toFixed(0)} bytes each)`,
  );
}

const started = performance.now();
report("Controlled market", COMPETITORS);
report("Tight market", TIGHT);
decisionsPerSecond();
memoryGrowth();
console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
