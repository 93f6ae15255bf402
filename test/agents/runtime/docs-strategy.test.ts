/**
 * docs/agents.md's strategy written from scratch (StepPriceStrategy), run as the page shows it: the code block is
 * taken from the page, so the page cannot drift from what runs. In the controlled market it bids, moves its price
 * with its wins and losses, earns, and its state survives state() / restore().
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { expect } from "chai";

import { runMarket } from "../../../agents/sim/market.js";
import { scenario } from "../../../agents/sim/experiment.js";
import { FixedPriceStrategy } from "../../../agents/strategies/fixed-price.js";
import type { Strategy } from "../../../agents/strategy.js";
import type { Json } from "../../../protocol/values.js";

const PAGE = path.join(import.meta.dirname, "../../../docs/agents.md");

type StepPrice = Strategy & { state(): Json; restore(state: Json): void };

async function loadPageStrategy(): Promise<new (start: bigint, step: bigint) => StepPrice> {
  const blocks = [...readFileSync(PAGE, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  const code = blocks.find((b) => b.includes("class StepPriceStrategy"));
  if (code === undefined) throw new Error("docs/agents.md: no StepPriceStrategy code block");
  // Its imports are types only (erased): the block runs as it is, from anywhere.
  expect(code.match(/^import (?!type )/m), "the page's strategy imports only types").to.equal(null);
  const file = path.join(mkdtempSync(path.join(tmpdir(), "aitbc-docs-")), "step-price.ts");
  writeFileSync(file, code);
  const module = (await import(pathToFileURL(file).href)) as {
    StepPriceStrategy: new (a: bigint, b: bigint) => StepPrice;
  };
  return module.StepPriceStrategy;
}

describe("docs/agents.md: the strategy written from scratch", function () {
  it("runs in the controlled market: bids, moves its price, earns, and persists its state", async function () {
    const StepPriceStrategy = await loadPageStrategy();
    const mine = new StepPriceStrategy(10n ** 18n, 10n ** 17n);
    expect(mine.name).to.equal("step-price");
    const result = runMarket(scenario(1), [
      { name: "mine", strategy: mine },
      { name: "fixed", strategy: new FixedPriceStrategy(14n * 10n ** 17n) },
    ]);
    const own = result.entrants.mine;
    expect(own?.bids).to.be.greaterThan(100);
    expect(own?.wins).to.be.greaterThan(0);
    expect(own?.profit).to.be.greaterThan(0n);
    const state = mine.state() as Record<string, string>;
    expect(Object.keys(state)).to.deep.equal(["iris-inference"]);
    expect(state["iris-inference"]).to.not.equal(String(10n ** 18n)); // it moved from where it started
    const resumed = new StepPriceStrategy(10n ** 18n, 10n ** 17n);
    resumed.restore(JSON.parse(JSON.stringify(state)) as Json);
    expect(resumed.state()).to.deep.equal(state);
  });
});
