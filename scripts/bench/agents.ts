/**
 * Learning, measured (agents/sim/experiment.ts): in a seeded controlled market with the marketplace's auction rules,
 * the learning provider (thompson-price) against three fixed-price providers over 200 workloads, for 10 seeds; the
 * same strategy with learning off as the control; and a fixed price at each of the learner's grid prices in its
 * place (the best of them: the best fixed price in hindsight). Then the same in a tighter market (one competitor
 * near the best price). It prints figures (AITBC of profit); it asserts nothing (test/agents/runtime/learning.test.ts
 * asserts the claims).
 *
 *   npm run bench:agents
 */
import { COMPETITORS, runSeed, spread, TIGHT, type SeedFigures } from "../../agents/sim/experiment.js";

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

const started = performance.now();
report("Controlled market", COMPETITORS);
report("Tight market", TIGHT);
console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
